"""/api/healthz (with the Dask workers connected, on Dask) and /api/engines."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from montesim.api.deps import services
from montesim.engines.base import engine_names, get_engine, is_user_facing
from montesim.jobs.store import StoreUnavailable

router = APIRouter(prefix="/api", tags=["system"])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """Store readable and writable, scheduler and executor alive; 503 when any is not."""
    svc = services(request)
    checks: dict[str, Any] = {}
    try:
        checks["store"] = svc.store.ping()
    except Exception as exc:
        checks["store"] = False
        checks["store_error"] = str(exc).splitlines()[0][:300]
    try:
        svc.store.probe_write()
        checks["store_writable"] = True
    except StoreUnavailable as exc:
        checks["store_writable"] = False
        checks["store_writable_error"] = str(exc)
    if svc.scheduler is not None:
        checks["scheduler"] = svc.scheduler.alive()
    ok = all(v for k, v in checks.items() if not k.endswith("_error"))
    info: dict[str, Any] = {"role": svc.role}
    connected = getattr(svc.scheduler and svc.scheduler.executor, "connected_workers", None)
    if connected is not None:
        info["dask_workers"] = connected()  # informative: none connected is not unhealthy
    elif checks["store"]:
        # An API-only server has no Dask client: its workers report what theirs see.
        seen = [w["dask_workers"] for w in svc.store.live_workers(svc.settings.lease_seconds)]
        if any(n is not None for n in seen):
            info["dask_workers"] = max(n for n in seen if n is not None)
    return JSONResponse({"ok": ok, **checks, **info}, status_code=200 if ok else 503)


@router.get("/engines")
def engines() -> dict[str, Any]:
    items = []
    for name in engine_names():
        try:
            engine = get_engine(name)
        except Exception:
            continue
        items.append(
            {
                "name": engine.name,
                "unit": engine.unit,
                "resumable": engine.resumable,
                "user_facing": is_user_facing(engine),  # the UI's menus offer these only
                "spec_schema": engine.spec_schema(),
                "example_spec": engine.example_spec(),
            }
        )
    return {"engines": items}
