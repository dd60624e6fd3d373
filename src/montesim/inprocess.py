"""Run one job in this process, without a server: the same store, runner and pool.

``montesim run`` uses it, so a job run here goes through exactly the code a server
runs (persisted chunks, progress, merge), against a throwaway SQLite store.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from montesim.config import Settings
from montesim.engines.base import describe_spec, get_engine
from montesim.jobs.runner import FileMap
from montesim.jobs.scheduler import Scheduler
from montesim.jobs.store import Store
from montesim.jobs.views import job_view


def run_job(
    engine_name: str,
    spec: dict[str, Any],
    *,
    file: Path | None = None,
    workers: int | None = None,
    follow: Callable[[Callable[[], dict[str, Any]]], dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Run to a terminal state; returns the job view and the result (None unless complete)."""
    tmp = Path(tempfile.mkdtemp(prefix="montesim-run-"))
    settings = Settings(
        data_dir=tmp,
        database_url="",
        max_concurrent_jobs=1,
        **({"workers": workers} if workers else {}),
    )
    store = Store(settings.url)
    scheduler: Scheduler | None = None
    try:
        spec = dict(spec)
        if file is not None:
            spec["file_id"] = add_file(store, settings.files_dir, file)
        engine = get_engine(engine_name)
        engine.validate(spec, FileMap(store, settings.files_dir))
        row, _ = store.create_job(
            engine=engine.name, spec=spec, spec_summary=describe_spec(spec), unit=engine.unit
        )
        scheduler = Scheduler(settings, store)
        scheduler.start()

        def fetch() -> dict[str, Any]:
            current = store.get_job(row["id"])
            assert current is not None
            return job_view(current)

        if follow is not None:
            job = follow(fetch)
        else:
            while (job := fetch())["status"] not in ("complete", "error", "cancelled"):
                time.sleep(0.05)
        return job, store.result(row["id"]) if job["status"] == "complete" else None
    finally:
        if scheduler is not None:
            scheduler.stop()
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


def add_file(store: Store, files_dir: Path, path: Path) -> str:
    """Copy a local file into the store's files folder; returns its file id."""
    file_id = str(uuid.uuid4())
    files_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, files_dir / file_id)
    data = (files_dir / file_id).read_bytes()
    store.add_file(file_id, path.name, len(data), hashlib.sha256(data).hexdigest())
    return file_id
