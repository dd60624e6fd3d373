"""/api/workers: every montesim process on this store, from the rows they heartbeat."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from montesim.api.deps import services, visible_to
from montesim.jobs.presence import FORGET_SECONDS
from montesim.jobs.progress import iso
from montesim.jobs.states import ACTIVE

router = APIRouter(prefix="/api", tags=["system"])


@router.get("/workers")
def list_workers(request: Request) -> dict[str, Any]:
    """Processes (host, pid, role, version, executor, jobs, chunks done, last heartbeat).

    ``dask_dashboard`` is the Dask dashboard's link as a live worker's scheduler reports
    it (none unless the scheduler runs one: ``bokeh``, in ``montesim[dask]``).

    ``alive`` is false for a process silent longer than a lease: it died or hangs, and
    its jobs are being (or will be) taken over.
    """
    svc = services(request)
    settings = svc.settings
    visible = visible_to(request)
    # A token sees only its own jobs among those the processes run.
    mine = (
        None
        if visible is None
        else {j.id for j in svc.store.list_jobs(statuses=ACTIVE, visible=visible, limit=10**4)[0]}
    )
    silent_after = max(settings.lease_seconds, 3 * settings.heartbeat_seconds)
    t = time.time()
    items = []
    for row in svc.store.list_workers(forget_after=FORGET_SECONDS):
        items.append(
            {
                "id": row["id"],
                "host": row["host"],
                "pid": row["pid"],
                "role": row["role"],
                "version": row["version"],
                "executor": row["executor"],
                "jobs": [j for j in row["jobs"] or [] if mine is None or j in mine],
                "chunks_done": row["chunks_done"],
                "dask_workers": row["dask_workers"],
                "dashboard": row["dashboard"],
                "started_at": iso(row["started_at"]),
                "heartbeat_at": iso(row["heartbeat_at"]),
                "alive": t - row["heartbeat_at"] <= silent_after,
                # why it takes no jobs (its arithmetic differs from the store's reference)
                "problem": row.get("problem"),
            }
        )
    dashboard = next((w["dashboard"] for w in items if w["alive"] and w["dashboard"]), None)
    return {
        "items": items,
        "store_settings": svc.store.store_settings(),
        "dask_dashboard": dashboard,
    }
