"""Who is asking: tokens (``MONTESIM_AUTH=tokens``), stream tickets, the metrics token.

One ASGI middleware decides, before any route runs, who a request comes from and puts
that :class:`Principal` on the request (``montesim.api.deps.principal_of``):

- auth ``none``: everyone, as ``client:ADDRESS`` (quotas count per address), sees all;
- auth ``tokens``: every ``/api`` path but ``/api/healthz`` needs
  ``Authorization: Bearer <token>`` (401 problem+json with ``WWW-Authenticate: Bearer``
  otherwise). The token's owner is ``token:NAME``; it sees only what it created, an admin
  token sees everything. The UI's pages and assets and the API docs stay public, so the
  page can load and ask for a token.
- Browsers cannot set headers on ``EventSource`` (nor on a WebSocket): streams also take
  ``?ticket=``, a short-lived ticket from ``POST /api/tickets``, HMAC-signed with the
  store's secret key (``MONTESIM_SECRET_KEY``) and naming its token (revoking the token
  voids its tickets).
- ``/metrics`` needs ``MONTESIM_METRICS_TOKEN`` when that is set (compared in constant
  time); otherwise, with tokens on, an admin token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Receive, Scope, Send

from montesim.api.deps import PRINCIPAL, principal_of, services
from montesim.api.guard import API_HEADERS, headers_of, problem_body
from montesim.config import Settings
from montesim.jobs.model import Principal, Token
from montesim.jobs.progress import iso
from montesim.jobs.signing import Signer, TamperedData
from montesim.jobs.store import Store

PUBLIC_API = frozenset({"/api/healthz"})
TICKET_PREFIX = b"montesim-ticket:"
BEARER = [(b"www-authenticate", b"Bearer")]
INVALID = [(b"www-authenticate", b'Bearer error="invalid_token"')]

router = APIRouter(prefix="/api", tags=["auth"])


class Refused(Exception):
    def __init__(self, status: int, code: str, detail: str, invalid: bool = False) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.invalid = status, code, detail, invalid


def needs_token(path: str) -> bool:
    return (path == "/api" or path.startswith("/api/")) and path not in PUBLIC_API


def takes_ticket(scope: Scope) -> bool:
    """Streams (SSE and WebSocket) may authenticate with ``?ticket=``; nothing else."""
    if scope["type"] == "websocket":
        return True
    return scope["method"] == "GET" and scope["path"].endswith("/stream")


def bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


# -- tickets ------------------------------------------------------------------------------


def make_ticket(signer: Signer, token_id: str, seconds: float) -> tuple[str, float]:
    """A ticket for ``token_id`` valid for ``seconds``, and when it expires."""
    expires = time.time() + seconds
    blob = signer.sign(TICKET_PREFIX + f"{token_id}:{expires:.3f}".encode())
    return base64.urlsafe_b64encode(blob).rstrip(b"=").decode(), expires


def ticket_token_id(signer: Signer, ticket: str) -> str:
    """The token id a ticket names; Refused when forged, malformed or expired."""
    forged = Refused(401, "invalid_ticket", "The stream ticket is not valid", invalid=True)
    try:
        blob = base64.urlsafe_b64decode(ticket[:400] + "=" * (-len(ticket) % 4))
        data = signer.verify(blob, "ticket")
    except (binascii.Error, ValueError, TamperedData):
        raise forged from None
    if not data.startswith(TICKET_PREFIX):
        raise forged
    token_id, _, expires = data[len(TICKET_PREFIX) :].decode().rpartition(":")
    try:
        until = float(expires)
    except ValueError:
        raise forged from None
    if until < time.time():
        raise Refused(
            401,
            "ticket_expired",
            "The stream ticket has expired; ask POST /api/tickets for a new one",
            invalid=True,
        )
    return token_id


# -- the middleware -------------------------------------------------------------------------


class AuthMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.tokens_on = settings.auth == "tokens"
        self.metrics_token = settings.metrics_token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            try:
                scope[PRINCIPAL] = await self.principal(scope)
            except DBAPIError as exc:  # as the app's own handler: the store, not a bug
                reason = str(exc.orig or exc).splitlines()[0][:200]
                raise Refused(
                    503,
                    "store_unavailable",
                    f"The token store cannot be read right now ({reason}); try again later",
                ) from None
        except Refused as refused:
            if scope["type"] == "websocket":
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 4000 + refused.status})
                return
            await send_refusal(send, refused)
            return
        await self.app(scope, receive, send)

    async def principal(self, scope: Scope) -> Principal:
        client = scope.get("client")
        anonymous = Principal(f"client:{client[0] if client else 'unknown'}")
        path: str = scope["path"]
        headers = headers_of(scope)
        if path == "/metrics":
            await self.check_metrics(scope, headers)
            return anonymous
        if not self.tokens_on or not needs_token(path):
            return anonymous
        token = await self.token_of(scope, headers)
        return Principal(token.owner, scoped=not token.admin, admin=token.admin, token_id=token.id)

    async def token_of(self, scope: Scope, headers: dict[str, str]) -> Token:
        store: Store = scope["app"].state.service.store
        presented = bearer(headers)
        if presented is not None:
            found = await anyio.to_thread.run_sync(store.authenticate, presented)
            if found is None:
                raise Refused(
                    401,
                    "invalid_token",
                    "The token is not valid: it is unknown or was revoked",
                    invalid=True,
                )
            return found
        ticket = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("ticket")
        if ticket and takes_ticket(scope):
            assert store.signer is not None
            token_id = ticket_token_id(store.signer, ticket[0])
            found = await anyio.to_thread.run_sync(store.active_token, token_id)
            if found is None:
                raise Refused(
                    401, "invalid_ticket", "The stream ticket's token was revoked", invalid=True
                )
            return found
        raise Refused(
            401,
            "token_required",
            "This server needs a token: send it as 'Authorization: Bearer <token>' "
            "(its operator makes one with `montesim token create NAME`)",
        )

    async def check_metrics(self, scope: Scope, headers: dict[str, str]) -> None:
        if self.metrics_token:
            presented = (bearer(headers) or "").encode()
            if not hmac.compare_digest(presented, self.metrics_token):
                raise Refused(
                    401,
                    "token_required",
                    "/metrics needs the metrics token (MONTESIM_METRICS_TOKEN) as a Bearer token",
                    invalid=bool(presented),
                )
        elif self.tokens_on and not (await self.token_of(scope, headers)).admin:
            raise Refused(
                403, "admin_only", "/metrics is for admin tokens (or MONTESIM_METRICS_TOKEN)"
            )


async def send_refusal(send: Send, refused: Refused) -> None:
    title = {401: "Unauthorized", 403: "Forbidden"}.get(refused.status, "Service Unavailable")
    body = problem_body(refused.status, refused.code, title, refused.detail)
    challenge = (INVALID if refused.invalid else BEARER) if refused.status == 401 else []
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        *API_HEADERS,
        *challenge,
    ]
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- tickets endpoint and the OpenAPI declaration ---------------------------------------------


@router.post("/tickets", status_code=201)
def create_ticket(request: Request) -> dict[str, Any]:
    """A short-lived ticket for ``?ticket=`` on streams (``EventSource`` cannot send a token)."""
    svc = services(request)
    who = principal_of(request)
    assert svc.store.signer is not None
    ticket, expires = make_ticket(
        svc.store.signer, who.token_id or "-", svc.settings.ticket_seconds
    )
    return {"ticket": ticket, "expires_at": iso(expires)}


PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
    },
    "required": ["type", "title", "status", "code", "detail"],
}
UNAUTHORIZED = {
    "description": "No valid token (with MONTESIM_AUTH=tokens)",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def declare(app: FastAPI, settings: Settings) -> None:
    """Declare the 401 of every protected operation (and, with tokens on, the Bearer
    scheme) in the OpenAPI schema."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = base()
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).setdefault("Problem", PROBLEM_SCHEMA)
        if settings.auth == "tokens":
            components.setdefault("securitySchemes", {})["bearer"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "a token from `montesim token create NAME`",
            }
        for path, operations in schema.get("paths", {}).items():
            if not needs_token(path):
                continue
            for operation in operations.values():
                operation.setdefault("responses", {})["401"] = UNAUTHORIZED
                if settings.auth == "tokens":
                    operation["security"] = [{"bearer": []}]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(AuthMiddleware, settings=settings)
    app.include_router(router)
    declare(app, settings)
