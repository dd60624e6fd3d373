"""The FastAPI app factory: routers, problem+json errors, and the scheduler's lifespan."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from montesim import __version__
from montesim.api import files, jobs, problems, system
from montesim.api.deps import Services
from montesim.config import Settings
from montesim.jobs.scheduler import Scheduler
from montesim.jobs.store import Store
from montesim.logs import setup_logging

# Routers that live beside the core ones; each module exposes `router`.
OPTIONAL_ROUTERS = (
    "montesim.api.risktree",
    "montesim.api.streams",
    "montesim.api.batches",
    "montesim.api.metrics",
    "montesim.api.workbooks",
    "montesim.api.ui",
)


def create_app(settings: Settings | None = None, *, run_scheduler: bool = True) -> FastAPI:
    settings = settings or Settings()
    setup_logging(settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(settings.url)
        scheduler = Scheduler(settings, store) if run_scheduler else None
        app.state.services = Services(settings, store, scheduler)
        if scheduler is not None:
            warm = getattr(scheduler.executor, "warm_up", None)
            if warm:
                warm()
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            store.close()

    app = FastAPI(
        title="montesim",
        version=__version__,
        summary="Durable Monte Carlo simulation jobs with honest progress.",
        lifespan=lifespan,
    )
    problems.install(app)
    app.include_router(jobs.router)
    app.include_router(files.router)
    app.include_router(system.router)
    for name in OPTIONAL_ROUTERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        app.include_router(module.router)
    return app
