"""The FastAPI app factory: routers, problem+json errors, and the job service's lifespan."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from montesim import __version__
from montesim.api import auth, bodies, files, guard, jobs, problems, system
from montesim.config import Settings
from montesim.jobs import service as job_service
from montesim.jobs.executors import Executor
from montesim.logs import setup_logging

# Routers that live beside the core ones; each module exposes `router`. The early ones
# go before the core routers: a fixed path of theirs (DELETE /api/jobs/clear-failed)
# must win over a core route's path parameter (DELETE /api/jobs/{job_id}).
EARLY_ROUTERS = ("montesim.api.horn",)
OPTIONAL_ROUTERS = (
    "montesim.api.risktree",
    "montesim.api.streams",
    "montesim.api.batches",
    "montesim.api.metrics",
    "montesim.api.workbooks",
    "montesim.api.distributions",
    "montesim.api.ui",
    "montesim.api.exports",
    "montesim.api.workers",
)


def create_app(
    settings: Settings | None = None, *, run_jobs: bool = True, executor: Executor | None = None
) -> FastAPI:
    """The app; its lifespan builds the job service (and, with ``run_jobs``, runs jobs).

    ``executor`` replaces the one ``settings`` names (an inline one runs chunks in this
    process, as tests of an engine's whole path through the API do).
    """
    settings = settings or Settings()
    setup_logging(settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = job_service.build(settings, run_jobs=run_jobs, executor=executor)
        app.state.service = service
        service.start()
        try:
            yield
        finally:
            service.close()

    app = FastAPI(
        title="montesim",
        version=__version__,
        summary="Durable Monte Carlo simulation jobs with honest progress.",
        lifespan=lifespan,
        docs_url=None,  # served by montesim.api.ui from local assets, no CDN
        redoc_url=None,
    )
    problems.install(app)
    bodies.install(app, settings)
    auth.install(app, settings)  # who is asking, before any body is read
    guard.install(app, settings)  # outermost: no route, and no body read, before it
    problems.declare(app)  # after auth's 401s: every error response is problem+json
    _include(app, EARLY_ROUTERS)
    app.include_router(jobs.router)
    app.include_router(files.router)
    app.include_router(system.router)
    _include(app, OPTIONAL_ROUTERS)
    return app


def _include(app: FastAPI, names: tuple[str, ...]) -> None:
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        app.include_router(module.router)
