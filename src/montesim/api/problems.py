"""RFC 9457 problem+json errors with a stable ``code``, and the handlers that emit them."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from montesim.errors import InputError

log = logging.getLogger("montesim.api")

MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """An HTTP error for the client: status, stable code, a sentence, and where."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        location: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.location = location
        self.extra = extra


_TITLES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
}


def problem_response(
    status: int, code: str, detail: str, *, location: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://montesim.dev/problems/{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
    }
    if location:
        body["location"] = location
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def _loc(parts: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status, exc.code, exc.detail, location=exc.location, **exc.extra
        )

    @app.exception_handler(InputError)
    async def _input(_: Request, exc: InputError) -> JSONResponse:
        return problem_response(
            exc.status, exc.code, exc.message, location=exc.location, errors=exc.detail
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            msg = errors[0].get("ctx", {}).get("error") or errors[0].get("msg")
            return problem_response(400, "malformed_json", f"Request body is not valid JSON: {msg}")
        items = []
        for e in errors:
            loc = list(e.get("loc", ()))
            if loc and loc[0] in ("body", "query", "path", "header"):
                loc = loc[1:]
            items.append({"location": _loc(loc), "message": e.get("msg", "")})
        first = items[0] if items else {"location": "", "message": "invalid request"}
        return problem_response(
            422,
            "validation_error",
            f"{first['location'] or 'request'}: {first['message']}",
            location=first["location"] or None,
            errors=items,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(DBAPIError)
    async def _store(_: Request, exc: DBAPIError) -> JSONResponse:
        # The store refused a write (disk full, read-only, database gone): not a bug of the
        # request, and nothing was half-written (every write is one transaction).
        log.warning("store unavailable: %s", exc.orig)
        reason = str(exc.orig or exc).splitlines()[0][:200]
        return problem_response(
            503,
            "store_unavailable",
            f"The job store cannot be written right now ({reason}); try again later",
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem_response(500, "internal_error", f"{type(exc).__name__}: {exc}")
