"""Talking to a montesim server from the CLI: failures a user expects, said in one line.

No server listening, a URL without a scheme, a server that went away mid-watch: these
are the user's situation, not bugs, so they end the command with a sentence naming the
URL tried and how to point elsewhere (``--server`` or MONTESIM_SERVER), exit 2, never a
traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    import httpx

console = Console(stderr=True)

HOW_TO_POINT = "set MONTESIM_SERVER or pass --server URL"
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` (no markup, no hard wrap) and give the exit to raise."""
    console.print(f"[red]error:[/red] {_escape(message)}", soft_wrap=True, highlight=False)
    return typer.Exit(2)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def transport_failure(server: str, exc: Exception) -> str:
    """The sentence for an httpx transport error talking to ``server``."""
    import httpx

    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return (
            f"{server!r} is not a server URL (expected one like http://127.0.0.1:8000); "
            f"{HOW_TO_POINT}"
        )
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return (
            f"no montesim server answers at {server} ({_reason(exc)}); start one with "
            f"`montesim serve` (or `make run`), or {HOW_TO_POINT}"
        )
    if isinstance(exc, httpx.TimeoutException):
        return f"the montesim server at {server} did not answer in time ({_reason(exc)})"
    return f"lost the connection to the montesim server at {server} ({_reason(exc)})"


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    # "[Errno 111] Connection refused" -> "connection refused"
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    return text[:1].lower() + text[1:]


@contextmanager
def connect(server: str, token: str | None = None) -> Iterator[httpx.Client]:
    """An HTTP client for ``server``; transport failures inside the block end the command
    with one line (see :func:`transport_failure`)."""
    import httpx  # imported where used: local commands (simulate, run) never need it

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = server.rstrip("/")
    try:
        with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
            yield client
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        raise fail(transport_failure(url, exc)) from None


def name_files(message: str, files: Mapping[str, Path]) -> str:
    """``message`` with each file id replaced by the path the user typed."""
    for file_id, path in files.items():
        message = message.replace(file_id, str(path))
    return message


def name_the_file(message: str, path: Path) -> str:
    """``message`` with any file id in it replaced by ``path``.

    For commands given one file that a throwaway store renames to a fresh id (``run``,
    ``simulate``): whatever id a message names can only be that file's. A message that
    names the file by its base name (``q1.xlsx``) gets the path as typed (``models/q1.xlsx``).
    """
    message = _UUID.sub(str(path), message)
    if str(path) not in message and path.name != str(path):
        message = message.replace(path.name, str(path))
    return message
