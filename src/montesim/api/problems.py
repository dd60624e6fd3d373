"""RFC 9457 problem+json errors with a stable ``code``, and the handlers that emit them."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from montesim.errors import InputError, QuotaExceeded

log = logging.getLogger("montesim.api")

MEDIA_TYPE = "application/problem+json"

# Problem details echo user input (cells, names, ids): never more than this much of it.
MAX_DETAIL_CHARS = 500
MAX_LOCATION_CHARS = 200
MAX_ERRORS = 50


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
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def clip(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis marks the cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clipped(value: Any, depth: int = 0) -> Any:
    """Every string inside ``value`` clipped, lists cut to MAX_ERRORS items."""
    if isinstance(value, str):
        return clip(value)
    if depth > 8:
        return None
    if isinstance(value, dict):
        return {clip(str(k), MAX_LOCATION_CHARS): clipped(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clipped(v, depth + 1) for v in value[:MAX_ERRORS]]
    return value


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    location: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://montesim.dev/problems/{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": clip(detail),
    }
    if location:
        body["location"] = clip(location, MAX_LOCATION_CHARS)
    body.update({k: clipped(v) for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


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

    @app.exception_handler(QuotaExceeded)
    async def _quota(_: Request, exc: QuotaExceeded) -> JSONResponse:
        return problem_response(
            429,
            exc.code,
            exc.message,
            headers={"Retry-After": str(exc.retry_after)},
            limit=exc.limit,
            value=exc.value,
            retry_after=exc.retry_after,
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
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path (RFC 9110), not one route's
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(exc.status_code, code, str(exc.detail), headers=headers)

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
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug: the client gets a reference to quote, the log gets the traceback.
        correlation_id = uuid.uuid4().hex[:16]
        log.error(
            "unhandled error %s in %s %s",
            correlation_id,
            request.method,
            request.url.path,
            exc_info=exc,
            extra={"correlation_id": correlation_id},
        )
        return problem_response(
            500,
            "internal_error",
            f"The server failed to answer this request; quote reference {correlation_id} "
            "to its operator",
            correlation_id=correlation_id,
        )


def _allowed_methods(request: Request) -> list[str]:
    """The methods the API documents at this request's path (its OpenAPI path items)."""
    path = request.url.path
    for template, item in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return sorted(m.upper() for m in item if m in _METHODS)
    return []


_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


# What any operation may answer besides its own codes, as problem+json: the guard's
# refusals (Host, Origin, content type), bodies over their limits, a store that cannot be
# reached. Declared so that clients (and the schema fuzzing in CI) know every code.
_COMMON = {
    "400": "Refused before routing: unknown Host, cross-site Origin",
    "503": "The store cannot be read or written right now",
}
_WITH_PARAMS = {"404": "Not found (or not yours)"}
_WITH_BODY = {
    "413": "The body (or an upload) is over its size limit",
    "415": "The body is not JSON (or multipart for uploads)",
    "422": "The input is not valid; `location` names the field",
}


def declare(app: FastAPI) -> None:
    """Every error response of every operation is problem+json, and the codes the
    middleware and the store may give are declared on every operation."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = base()
        problem = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                extra = dict(_COMMON)
                if "{" in path or operation.get("parameters"):
                    extra.update(_WITH_PARAMS)
                if "requestBody" in operation or operation.get("parameters"):
                    extra.update(_WITH_BODY)
                for code, description in extra.items():
                    responses.setdefault(code, {"description": description})
                for code, response in responses.items():
                    if code[0] in "45":
                        response["content"] = problem
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
