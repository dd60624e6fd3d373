"""In-process job services for runner and service tests (no server subprocess)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.conftest import poll

from montesim.config import Settings
from montesim.jobs.model import Job
from montesim.jobs.service import Service, build


def fast_settings(data_dir: Path, **extra: object) -> Settings:
    values: dict[str, object] = dict(
        data_dir=data_dir,
        database_url="",
        executor="inline",
        lease_seconds=1.0,
        heartbeat_seconds=0.2,
        recovery_seconds=0.2,
        poll_seconds=0.05,
        drain_seconds=0.5,
    )
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = build(fast_settings(tmp_path / "data"))
    svc.start()
    yield svc
    svc.close()


def wait_until(get: Callable[[], Job], done: Callable[[Job], bool], timeout: float = 120) -> Job:
    """Poll until ``done(job)`` (a condition, with a generous cap for loaded machines)."""
    return poll(get, done, timeout)
