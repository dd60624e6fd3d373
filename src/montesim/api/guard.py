"""Cross-site protection, as one ASGI middleware in front of every route.

A web page on another site (or one reached through DNS rebinding) must not be able to
drive the API from a visitor's browser. So, before any route runs:

- the ``Host`` header must name this server (``MONTESIM_ALLOWED_HOSTS``; default the bound
  host plus the loopback names): otherwise 400;
- a request that carries an ``Origin`` (browsers send one on every cross-site write and
  on WebSocket upgrades) must come from this server's own origin or one of
  ``MONTESIM_ALLOWED_ORIGINS``: otherwise 403 (a WebSocket is closed with 4403). Requests
  without one (the CLI, scripts) pass on;
- a body sent with a state-changing method must be ``application/json`` (multipart for
  uploads): the form and ``text/plain`` bodies a page can send without a CORS preflight
  get 415.

Every ``/api`` answer gets ``X-Content-Type-Options: nosniff``, ``Referrer-Policy`` and
``Cache-Control: no-store``. CORS stays closed unless ``MONTESIM_CORS_ORIGINS`` opens it.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from montesim.config import Settings

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "testserver")
WILDCARD_BINDS = ("0.0.0.0", "::", "")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Body media types per path; every other state-changing request may only send JSON.
JSON_TYPES = frozenset({"application/json"})
BODY_TYPES: dict[str, frozenset[str]] = {
    "/api/files": frozenset({"multipart/form-data"}),
    # a pure conversion (no state changes); CSV and YAML come as text
    "/api/risktree/import": frozenset(
        {"text/plain", "text/csv", "application/yaml", "text/yaml", "application/json"}
    ),
}

API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
PAGE_HEADERS = API_HEADERS[:2]


def split_list(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def bound_host_names(host: str) -> set[str]:
    """The names a client may use for a server bound to ``host``."""
    names = {host.lower().strip("[]")} if host not in WILDCARD_BINDS else set()
    if host in WILDCARD_BINDS:
        # Bound to every interface: this machine's own names and addresses.
        hostname = socket.gethostname()
        names |= {hostname.lower(), socket.getfqdn().lower()}
        with contextlib.suppress(OSError):
            names |= {str(info[4][0]).lower() for info in socket.getaddrinfo(hostname, None)}
    return names


@dataclass(frozen=True)
class GuardPolicy:
    """What the guard lets through; built from settings (see the module docstring)."""

    hosts: frozenset[str]  # host names without port; "*" allows any
    origins: frozenset[str]  # "scheme://host[:port]", lower case; "*" allows any

    @classmethod
    def from_settings(cls, settings: Settings) -> GuardPolicy:
        hosts = split_list(settings.allowed_hosts) or [
            *LOOPBACK_NAMES,
            *bound_host_names(settings.host),
        ]
        origins = [*split_list(settings.allowed_origins), *split_list(settings.cors_origins)]
        return cls(
            frozenset(h.lower().strip("[]") for h in hosts),
            frozenset(o.lower().rstrip("/") for o in origins),
        )

    def host_allowed(self, host: str | None) -> bool:
        if host is None:
            return False
        return "*" in self.hosts or host_name(host) in self.hosts

    def origin_allowed(self, origin: str, host: str) -> bool:
        origin = origin.lower().rstrip("/")
        if "*" in self.origins or origin in self.origins:
            return True
        # The server's own origin: the page was loaded from the host this request names.
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False  # "null" (sandboxed frames, file:) and anything odd
        default = 443 if parts.scheme == "https" else 80
        try:
            port = parts.port or default
        except ValueError:
            return False
        # No port in Host: the scheme's default (a TLS proxy in front may make it https).
        want_port = host_port(host) or default
        return parts.hostname == host_name(host) and port == want_port


def host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_port(host: str) -> int | None:
    host = host.strip()
    tail = host.rsplit("]", 1)[-1] if host.startswith("[") else host
    if tail.count(":") != 1:
        return None
    text = tail.rsplit(":", 1)[1]
    return int(text) if text.isdigit() else None


def media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> bytes:
    body = {
        "type": f"https://montesim.dev/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return json.dumps(body).encode()


async def send_problem(
    send: Send, status: int, code: str, title: str, detail: str, **extra: Any
) -> None:
    body = problem_body(status, code, title, detail, **extra)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *API_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def headers_of(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}


def clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class CrossSiteGuard:
    """The ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, policy: GuardPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = headers_of(scope)
        host = headers.get("host")
        origin = headers.get("origin")
        if scope["type"] == "websocket":
            if not self.policy.host_allowed(host) or (
                origin is not None and not self.policy.origin_allowed(origin, host or "")
            ):
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 4403})
                return
            await self.app(scope, receive, send)
            return
        if not self.policy.host_allowed(host):
            await send_problem(
                send,
                400,
                "host_not_allowed",
                "Bad Request",
                f"Host {clip(host or '(none)')!r} is not one this server answers to; "
                "set MONTESIM_ALLOWED_HOSTS to add it",
                location="Host",
            )
            return
        if origin is not None and not self.policy.origin_allowed(origin, host or ""):
            await send_problem(
                send,
                403,
                "origin_not_allowed",
                "Forbidden",
                f"Requests from origin {clip(origin)!r} are not allowed; "
                "set MONTESIM_ALLOWED_ORIGINS to add it",
                location="Origin",
            )
            return
        if scope["method"] in STATE_CHANGING:
            refused = self.refused_body(scope["path"], headers)
            if refused is not None:
                await send_problem(send, 415, "unsupported_media_type", *refused)
                return
        path: str = scope["path"]
        extra = API_HEADERS if path.startswith("/api") else PAGE_HEADERS
        await self.app(scope, receive, with_headers(send, extra))

    def refused_body(self, path: str, headers: dict[str, str]) -> tuple[str, str] | None:
        """(title, detail) when the body's media type is not one this path accepts."""
        declared = headers.get("content-type")
        has_body = headers.get("content-length", "0") not in ("", "0") or (
            "transfer-encoding" in headers
        )
        if declared is None and not has_body:
            return None
        allowed = BODY_TYPES.get(path, JSON_TYPES)
        got = media_type(declared or "")
        if got in allowed:
            return None
        wanted = " or ".join(sorted(allowed))
        return (
            "Unsupported Media Type",
            f"The request body must be {wanted}, not {clip(got or 'untyped')!r}",
        )


def with_headers(send: Send, extra: Iterable[tuple[bytes, bytes]]) -> Send:
    names = {name for name, _ in extra}

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in names]
            message = {**message, "headers": [*kept, *extra]}
        await send(message)

    return wrapped


def install(app: Any, settings: Settings) -> None:
    """Add CORS (when configured) and the guard around the app; the guard runs first."""
    cors = split_list(settings.cors_origins)
    if cors:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Content-Type", "Authorization", "Idempotency-Key", "Last-Event-ID"],
        )
    app.add_middleware(CrossSiteGuard, policy=GuardPolicy.from_settings(settings))
