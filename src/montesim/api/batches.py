"""/api/batches: several jobs submitted together, followed and cancelled as one.

Every child is validated before anything is stored; the batch's status and progress are
computed from its children (montesim.jobs.batches), never kept on their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from montesim.api.deps import owner_of, services, visible_to
from montesim.api.follow import Outgoing, follow
from montesim.api.jobs import MAX_OFFSET, JobCreate
from montesim.api.problems import Problem
from montesim.api.streams import resume_point, sse_of, stream_settings
from montesim.jobs.batches import ChildState, summarize
from montesim.jobs.model import Batch, Job
from montesim.jobs.progress import iso
from montesim.jobs.views import job_view

router = APIRouter(prefix="/api/batches", tags=["batches"])

MAX_CHILDREN = 100
MAX_LIMIT = 200


class BatchCreate(BaseModel, extra="forbid"):
    label: str | None = Field(default=None, max_length=200)
    fail_fast: bool = False
    jobs: list[JobCreate] = Field(min_length=1, max_length=MAX_CHILDREN)


def links(batch_id: str) -> dict[str, str]:
    base = f"/api/batches/{batch_id}"
    return {"self": base, "stream": f"{base}/stream", "cancel": f"{base}/cancel"}


def batch_view(batch: Batch, children: list[Job], *, full: bool) -> dict[str, Any]:
    out = {
        "batch_id": batch.id,
        "label": batch.label,
        "fail_fast": batch.fail_fast,
        "cancellation_requested": batch.cancellation_requested,
        "created_at": iso(batch.created_at),
        **summarize(ChildState.of_job(c) for c in children),
        "links": links(batch.id),
    }
    if full:
        out["jobs"] = [job_view(c) for c in children]
    else:
        out["job_ids"] = [c.id for c in children]
    return out


def _get_or_404(request: Request, batch_id: str) -> Batch:
    """The batch, if the one asking may see it; 404 otherwise."""
    batch = services(request).store.get_batch(batch_id, visible_to(request))
    if batch is None:
        raise batch_not_found(batch_id)
    return batch


def batch_not_found(batch_id: str) -> Problem:
    return Problem(
        404, "batch_not_found", f"No batch with id {batch_id[:80]!r}", location="batch_id"
    )


@router.post("", status_code=202)
def create_batch(body: BatchCreate, request: Request) -> dict[str, Any]:
    batch, rows = services(request).submit_batch(
        [child.model_dump() for child in body.jobs],
        label=body.label,
        fail_fast=body.fail_fast,
        owner=owner_of(request),
        visible=visible_to(request),
    )
    return batch_view(batch, rows, full=True)


@router.get("")
def list_batches(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    svc = services(request)
    batches, total = svc.store.list_batches(visible=visible_to(request), limit=limit, offset=offset)
    children = svc.store.batch_children(b.id for b in batches)
    return {
        "items": [batch_view(b, children[b.id], full=False) for b in batches],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/{batch_id}")
def get_batch(batch_id: str, request: Request) -> dict[str, Any]:
    svc = services(request)
    batch = _get_or_404(request, batch_id)
    return batch_view(batch, svc.store.batch_children([batch_id])[batch_id], full=True)


@router.post("/{batch_id}/cancel", status_code=202)
def cancel_batch(batch_id: str, request: Request) -> dict[str, Any]:
    try:
        services(request).cancel_batch(batch_id, visible_to(request))
    except KeyError:
        raise batch_not_found(batch_id) from None
    return get_batch(batch_id, request)


@router.get("/{batch_id}/stream")
async def batch_stream(
    batch_id: str,
    request: Request,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> EventSourceResponse:
    """The children's events, each followed by the batch's recomputed state (``kind: "batch"``)."""
    resume = resume_point(last_event_id, after)
    svc = services(request)
    batch = await anyio.to_thread.run_sync(_get_or_404, request, batch_id)
    rows = (await anyio.to_thread.run_sync(svc.store.batch_children, [batch_id]))[batch_id]
    states = {r.id: ChildState.of_job(r) for r in rows}
    events = follow(
        svc.broker,
        svc.store,
        list(states),
        after=resume,
        coalesce_seconds=stream_settings(request).stream_coalesce_seconds,
    )

    async def with_batch() -> AsyncIterator[Outgoing]:
        try:
            async for out in events:
                yield out
                states[out.event["job_id"]] = ChildState.of_record(out.event)
                summary = {"kind": "batch", "batch_id": batch.id, "job_id": out.event["job_id"]}
                yield Outgoing({**summary, **summarize(states.values())}, None)
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    return sse_of(request, with_batch())
