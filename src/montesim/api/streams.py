"""Live job events: Server-Sent Events and WebSocket, both read from the event log.

- ``GET /api/jobs/{id}/stream``: one job; closed after its terminal event.
- ``GET /api/stream?jobs=a,b``: several jobs (closed once all are terminal); without
  ``jobs``, every job: the active ones' snapshots, then all events as they happen.
- ``WS /api/jobs/{id}/ws``: the same event JSON; the client may send
  ``{"action": "cancel"}``.

An SSE event's ``id`` is the event-log id, so a reconnecting client's ``Last-Event-ID``
resumes exactly where it stopped. A heartbeat comment goes out every
``MONTESIM_SSE_HEARTBEAT_SECONDS`` (15 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from sse_starlette.sse import EventSourceResponse, ServerSentEvent
from starlette.requests import HTTPConnection

from montesim.api.deps import services, visible_to
from montesim.api.follow import Outgoing, follow
from montesim.api.metrics import STREAM_CLIENTS
from montesim.api.problems import Problem
from montesim.config import Settings
from montesim.errors import Conflict

router = APIRouter(tags=["streams"])

MAX_STREAM_JOBS = 100


def stream_settings(conn: HTTPConnection) -> Settings:
    return services(conn).settings


def _sse(out: Outgoing) -> ServerSentEvent:
    ev = out.event
    return ServerSentEvent(
        data=json.dumps(ev, separators=(",", ":")),
        event=ev["kind"],
        id=None if out.resume_id is None else str(out.resume_id),
    )


def resume_point(header: str | None, query: int | None) -> int | None:
    if query is not None:
        return query
    if header is None or not header.strip():
        return None
    try:
        value = int(header)
    except ValueError:
        raise Problem(
            422,
            "invalid_last_event_id",
            "Last-Event-ID must be an event id (an integer)",
            location="Last-Event-ID",
        ) from None
    if value < 0:
        raise Problem(
            422, "invalid_last_event_id", "Last-Event-ID must be >= 0", location="Last-Event-ID"
        )
    return value


async def _require_jobs(conn: HTTPConnection, job_ids: Iterable[str]) -> None:
    """404 for a job that is unknown or not the asker's."""
    store = services(conn).store
    visible = visible_to(conn)
    for job_id in job_ids:
        if await anyio.to_thread.run_sync(store.get_job, job_id, visible) is None:
            raise Problem(
                404, "job_not_found", f"No job with id {job_id[:80]!r}", location="job_id"
            )


def sse_response(
    conn: HTTPConnection, job_ids: Iterable[str] | None, after: int | None
) -> EventSourceResponse:
    """An SSE response following ``job_ids``; shared with the batch stream."""
    settings = stream_settings(conn)
    svc = services(conn)
    events = follow(
        svc.broker,
        svc.store,
        job_ids,
        after=after,
        coalesce_seconds=settings.stream_coalesce_seconds,
        visible=visible_to(conn),
    )
    return sse_of(conn, events)


def sse_of(conn: HTTPConnection, events: AsyncIterator[Outgoing]) -> EventSourceResponse:
    async def body() -> AsyncIterator[ServerSentEvent]:
        STREAM_CLIENTS.labels("sse").inc()
        try:
            async for out in events:
                yield _sse(out)
        finally:
            STREAM_CLIENTS.labels("sse").dec()
            await events.aclose()  # type: ignore[attr-defined]

    return EventSourceResponse(
        body(),
        ping=stream_settings(conn).sse_heartbeat_seconds,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events: `status`, `progress`, `stage` and `result` events",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get("/api/jobs/{job_id}/stream", response_class=EventSourceResponse, responses=SSE_RESPONSE)
async def job_stream(
    job_id: str,
    request: Request,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> EventSourceResponse:
    resume = resume_point(last_event_id, after)
    await _require_jobs(request, [job_id])
    return sse_response(request, [job_id], resume)


@router.get("/api/stream", response_class=EventSourceResponse, responses=SSE_RESPONSE)
async def jobs_stream(
    request: Request,
    jobs: str | None = None,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> EventSourceResponse:
    resume = resume_point(last_event_id, after)
    job_ids = None
    if jobs is not None:
        job_ids = sorted({j.strip() for j in jobs.split(",") if j.strip()})
        if not job_ids or len(job_ids) > MAX_STREAM_JOBS:
            raise Problem(
                422,
                "invalid_jobs",
                f"jobs must list 1 to {MAX_STREAM_JOBS} job ids separated by commas",
                location="jobs",
            )
        await _require_jobs(request, job_ids)
    return sse_response(request, job_ids, resume)


@router.websocket("/api/jobs/{job_id}/ws")
async def job_ws(websocket: WebSocket, job_id: str, after: int | None = None) -> None:
    await websocket.accept()
    store = services(websocket).store
    if await anyio.to_thread.run_sync(store.get_job, job_id, visible_to(websocket)) is None:
        await websocket.send_json(
            {"kind": "error", "code": "job_not_found", "detail": f"No job with id {job_id[:80]!r}"}
        )
        await websocket.close(code=4404)
        return
    STREAM_CLIENTS.labels("websocket").inc()
    writer = asyncio.create_task(_ws_write(websocket, job_id, after))
    reader = asyncio.create_task(_ws_read(websocket, job_id))
    try:
        await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (writer, reader):
            task.cancel()
        for task in (writer, reader):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        STREAM_CLIENTS.labels("websocket").dec()
    if writer.done() and not writer.cancelled() and writer.exception() is None:
        with contextlib.suppress(Exception):
            await websocket.close(code=1000)


async def _ws_write(websocket: WebSocket, job_id: str, after: int | None) -> None:
    settings = stream_settings(websocket)
    svc = services(websocket)
    events = follow(
        svc.broker,
        svc.store,
        [job_id],
        after=after,
        coalesce_seconds=settings.stream_coalesce_seconds,
    )
    try:
        async for out in events:
            await websocket.send_json(out.event)
    finally:
        await events.aclose()  # type: ignore[attr-defined]


async def _ws_read(websocket: WebSocket, job_id: str) -> None:
    """Client messages: ``{"action": "cancel"}`` goes the same way as POST .../cancel."""
    svc = services(websocket)
    while True:
        try:
            message: Any = await websocket.receive_json()
        except WebSocketDisconnect:
            return
        except (ValueError, KeyError):
            await websocket.send_json(
                {"kind": "error", "code": "malformed_json", "detail": "messages must be JSON"}
            )
            continue
        action = message.get("action") if isinstance(message, dict) else None
        if action != "cancel":
            await websocket.send_json(
                {
                    "kind": "error",
                    "code": "unknown_action",
                    "detail": 'expected {"action": "cancel"}',
                }
            )
            continue
        try:
            await anyio.to_thread.run_sync(svc.cancel, job_id, visible_to(websocket))
        except (KeyError, Conflict) as exc:
            detail = getattr(exc, "message", None) or f"No job with id {job_id[:80]!r}"
            await websocket.send_json({"kind": "error", "code": "job_terminal", "detail": detail})
