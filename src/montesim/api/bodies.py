"""Request bodies bounded before any route reads them: size, JSON depth, strings, numbers.

An ASGI middleware reads a (non-multipart) body up to ``MONTESIM_MAX_JSON_BYTES`` (413
beyond it, or at once when ``Content-Length`` says so), then checks a JSON body in one
pass: nesting depth (``MONTESIM_MAX_JSON_DEPTH``), string length
(``MONTESIM_MAX_JSON_STRING``) and finite numbers only (``NaN``, ``Infinity`` and
overflowing literals such as ``1e999`` are refused, naming the field). The checked bytes
are then handed to the route unchanged. Malformed JSON is left to the route's own 400.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from montesim.api.guard import headers_of, media_type, send_problem
from montesim.config import Settings

UPLOAD_TYPES = ("multipart/form-data",)


@dataclass(frozen=True)
class BodyLimits:
    max_bytes: int
    max_depth: int
    max_string: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimits:
        return cls(settings.max_json_bytes, settings.max_json_depth, settings.max_json_string)


class BodyRefused(Exception):
    def __init__(self, status: int, code: str, detail: str, location: str | None, **extra: Any):
        super().__init__(detail)
        self.status, self.code, self.detail, self.location = status, code, detail, location
        self.extra = extra


def path_of(parts: list[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + p
    return out


def check_json(value: Any, limits: BodyLimits) -> None:
    """Raise BodyRefused for the first value past a limit (depth, string, non-finite)."""
    stack: list[tuple[Any, list[str | int], int]] = [(value, [], 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                raise BodyRefused(
                    422,
                    "non_finite_number",
                    f"{path_of(where) or 'body'}: numbers must be finite "
                    f"(NaN and Infinity are not numbers a model can use), got {item}",
                    path_of(where) or None,
                )
        elif isinstance(item, str):
            if len(item) > limits.max_string:
                raise string_too_long(where, len(item), limits.max_string)
        elif isinstance(item, dict | list):
            if depth >= limits.max_depth:
                raise too_deep(where, limits.max_depth)
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and len(key) > limits.max_string:
                    raise string_too_long(where, len(key), limits.max_string)
                stack.append((child, [*where, key], depth + 1))


def string_too_long(where: list[str | int], size: int, limit: int) -> BodyRefused:
    place = path_of(where) or "body"
    return BodyRefused(
        422,
        "string_too_long",
        f"{place}: a string of {size:,} characters is longer than the limit of {limit:,}",
        place,
        limit=limit,
        value=size,
    )


def too_deep(where: list[str | int], limit: int) -> BodyRefused:
    place = path_of(where) or "body"
    return BodyRefused(
        422,
        "json_too_deep",
        f"{place}: the JSON body nests deeper than the limit of {limit} levels",
        place,
        limit=limit,
    )


def parse(body: bytes, limits: BodyLimits) -> Any:
    """The JSON value, or ``...`` when the body is not JSON (the route answers that)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise too_deep([], limits.max_depth) from None
    except ValueError:
        return ...


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = headers_of(scope)
        kind = media_type(headers.get("content-type", ""))
        has_body = headers.get("content-length", "0") not in ("", "0") or (
            "transfer-encoding" in headers
        )
        if not has_body or kind in UPLOAD_TYPES:
            await self.app(scope, receive, send)  # uploads have their own limit
            return
        try:
            body = await self.read(headers, receive)
            if kind == "application/json" or kind.endswith("+json") or not kind:
                value = parse(body, self.limits)
                if value is not ...:
                    check_json(value, self.limits)
        except BodyRefused as refused:
            await send_problem(
                send,
                refused.status,
                refused.code,
                "Content Too Large" if refused.status == 413 else "Unprocessable Content",
                refused.detail,
                **({"location": refused.location} if refused.location else {}),
                **refused.extra,
            )
            return
        await self.app(scope, replay(body, receive), send)

    async def read(self, headers: dict[str, str], receive: Receive) -> bytes:
        limit = self.limits.max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise body_too_large(int(declared), limit)
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise body_too_large(size, limit)
            parts.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(parts)


def body_too_large(size: int, limit: int) -> BodyRefused:
    return BodyRefused(
        413,
        "body_too_large",
        f"The request body ({size:,} bytes or more) is larger than the limit of {limit:,} "
        "bytes (MONTESIM_MAX_JSON_BYTES); upload large inputs as files",
        "body",
        limit=limit,
        value=size,
    )


def replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def install(app: Any, settings: Settings) -> None:
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.from_settings(settings))
