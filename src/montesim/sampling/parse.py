"""A tiny parser for distribution calls written as text: ``RiskNormal(10, 2)``.

Grammar (numbers and lists of numbers only; nothing is ever evaluated)::

    text   := ["="] call
    call   := NAME "(" [arg ("," arg)*] ")"
    arg    := number | list | truncate
    list   := "{" number (("," | ";") number)* "}"   (or square brackets)
    number := ["+" | "-"] digits ["." digits] [exponent] ["%"]
    truncate := ("RiskTruncate" | "truncate") "(" [number] "," [number] ")"   (last argument only)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from montesim.errors import InputError

MAX_TEXT = 100_000

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?%?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<punct>[(){}\[\],;+\-=])
    )""",
    re.VERBOSE,
)

_TRUNCATE_NAMES = {"risktruncate", "truncate"}


@dataclass(frozen=True)
class Call:
    name: str
    args: list[float | list[float]]
    truncate: tuple[float | None, float | None] | None


class _Parser:
    def __init__(self, text: str, location: str | None) -> None:
        self.text = text
        self.location = location
        self.tokens = self._tokenize(text)
        self.pos = 0

    def fail(self, message: str) -> InputError:
        where = f"{self.location}: " if self.location else ""
        shown = self.text if len(self.text) <= 80 else self.text[:77] + "..."
        return InputError(
            f"{where}cannot parse distribution {shown!r}: {message}",
            code="invalid_distribution",
            location=self.location,
        )

    def _tokenize(self, text: str) -> list[tuple[str, str, int]]:
        tokens, pos = [], 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise self.fail(f"unexpected character {text[pos:].lstrip()[:1]!r} at {pos}")
            kind = m.lastgroup or ""
            tokens.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        return tokens

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise self.fail(f"expected {value or kind} but the text ended")
        if (value is not None and tok[1] != value) or (kind is not None and tok[0] != kind):
            raise self.fail(f"expected {value or kind} at {tok[2]}, found {tok[1]!r}")
        self.pos += 1
        return tok

    def at(self, value: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "punct" and tok[1] == value

    def number(self) -> float:
        sign = 1.0
        while self.at("+") or self.at("-"):
            if self.take()[1] == "-":
                sign = -sign
        tok = self.take(kind="number")
        text = tok[1]
        if text.endswith("%"):
            return sign * float(text[:-1]) / 100
        return sign * float(text)

    def number_list(self) -> list[float]:
        close = "}" if self.take()[1] == "{" else "]"
        values = [self.number()]
        while self.at(",") or self.at(";"):
            self.take()
            values.append(self.number())
        self.take(close)
        return values

    def optional_number(self) -> float | None:
        return None if self.at(",") or self.at(")") else self.number()

    def truncate(self) -> tuple[float | None, float | None]:
        self.take("(")
        lo = self.optional_number()
        self.take(",")
        hi = self.optional_number()
        self.take(")")
        return lo, hi

    def call(self) -> Call:
        if self.at("="):
            self.take()
        name = self.take(kind="name")[1]
        self.take("(")
        args: list[float | list[float]] = []
        truncate = None
        while not self.at(")"):
            if args or truncate is not None:
                self.take(",")
            tok = self.peek()
            if truncate is not None:
                raise self.fail("RiskTruncate(...) must be the last argument")
            if tok is not None and tok[0] == "name":
                if tok[1].lower() not in _TRUNCATE_NAMES:
                    raise self.fail(f"unexpected name {tok[1]!r} at {tok[2]}; only numbers allowed")
                self.take()
                truncate = self.truncate()
            elif self.at("{") or self.at("["):
                args.append(self.number_list())
            else:
                args.append(self.number())
        self.take(")")
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()[1]!r} after the closing parenthesis")  # type: ignore[index]
        return Call(name, args, truncate)


def parse_call(text: str, *, location: str | None = None) -> Call:
    """Split ``"Name(args)"`` into its name, numeric arguments and optional truncation."""
    if not isinstance(text, str):
        raise InputError(
            f"{location + ': ' if location else ''}a distribution must be text like 'normal(10, 2)'",
            code="invalid_distribution",
            location=location,
        )
    if len(text) > MAX_TEXT:
        raise InputError(
            f"{location + ': ' if location else ''}distribution text longer than {MAX_TEXT} characters",
            code="invalid_distribution",
            location=location,
        )
    return _Parser(text, location).call()
