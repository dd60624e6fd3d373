"""Liveness: an owner on another machine is dead once its advisory lock and its heartbeat
are gone for the grace period, never while it still renews (PostgreSQL); on one machine
a dead pid is a dead owner."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import make_database_url, poll

from montesim.jobs.liveness import Liveness, lock_key, owner_is_dead
from montesim.jobs.store import Store

ELSEWHERE = "another-host:4242:cafe0001"  # not this machine: no pid to look at


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[Store]:
    urls = make_database_url("postgres", tmp_path)
    store = Store(next(urls))
    yield store
    store.close()
    urls.close()


def test_an_owner_elsewhere_is_gone_once_its_lock_and_heartbeat_are(pg_store: Store) -> None:
    store = pg_store
    observer = Liveness(store, "observer-host:1:obs", grace=0.3)
    owner = Liveness(store, ELSEWHERE, grace=0.3)
    observer.start()
    owner.start()
    try:
        store.create_job(engine="sleep", spec={"units": 1})
        job = store.claim_next(ELSEWHERE, 600, max_running=5)
        assert job is not None
        assert lock_key(ELSEWHERE) in (observer.live_keys() or set())
        assert not observer.gone(job, observer.live_keys())

        owner.stop()  # its connection closes: the server drops its lock at once
        live = poll(observer.live_keys, lambda keys: lock_key(ELSEWHERE) not in keys)
        assert not observer.gone(job, live), "missing once is not dead yet"

        # while its heartbeat still moves, the owner is alive (reconnecting)
        seen_missing_at = time.monotonic()
        for _ in range(3):
            beat = store.heartbeat(job.id, ELSEWHERE, 600)
            assert beat is not None
            poll(time.monotonic, lambda t, s=seen_missing_at: t > s + observer.grace)
            assert not observer.gone(beat, observer.live_keys())
            seen_missing_at = time.monotonic()

        # silent for the grace period: gone
        frozen = store.get_job(job.id)
        assert frozen is not None
        assert poll(lambda: observer.gone(frozen, observer.live_keys()), bool)
    finally:
        owner.stop()
        observer.stop()


def test_the_lock_comes_back_after_the_connection_is_dropped(pg_store: Store) -> None:
    """A live owner whose session was cut (a database restart) takes its lock again."""
    store = pg_store
    me = Liveness(store, ELSEWHERE, grace=1.0, every=0.05)
    me.start()
    try:
        assert lock_key(ELSEWHERE) in (me.live_keys() or set())
        with store.engine.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            conn.commit()
        poll(lambda: me.held.is_set() and lock_key(ELSEWHERE) in (me.live_keys() or set()), bool)
    finally:
        me.stop()


def test_a_dead_pid_on_this_machine_is_a_dead_owner() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert owner_is_dead(f"{socket.gethostname()}:{proc.pid}:x")
    assert not owner_is_dead(ELSEWHERE), "another machine's pid says nothing here"
    me = f"{socket.gethostname()}:{os.getpid()}:y"
    assert owner_is_dead(me), "this process, but no scheduler of it holds that owner"
    assert not owner_is_dead(me, {me})
