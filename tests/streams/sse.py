"""A small Server-Sent Events reader over httpx streams (tests and bench)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SSE:
    event: str = "message"
    data: str = ""
    id: str | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.data)


class _Parser:
    def __init__(self) -> None:
        self.cur = SSE()
        self.lines: list[str] = []

    def feed(self, line: str) -> SSE | None:
        """One line (without its end); returns a finished message (or a bare comment)."""
        if line == "":
            if not self.lines and not self.cur.comments:
                return None
            self.cur.data = "\n".join(self.lines)
            done, self.cur, self.lines = self.cur, SSE(), []
            return done
        if line.startswith(":"):
            self.cur.comments.append(line[1:].strip())
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self.lines.append(value)
        elif name == "event":
            self.cur.event = value
        elif name == "id":
            self.cur.id = value
        return None


def read_sse(lines: Iterator[str]) -> Iterator[SSE]:
    parser = _Parser()
    for line in lines:
        msg = parser.feed(line)
        if msg is not None:
            yield msg


async def aread_sse(lines: AsyncIterator[str]) -> AsyncIterator[SSE]:
    parser = _Parser()
    async for line in lines:
        msg = parser.feed(line)
        if msg is not None:
            yield msg
