"""The store: the state machine enforced by conditional UPDATEs, leases, chunks, retention,
events and stages (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from montesim.errors import Conflict
from montesim.jobs.states import ALLOWED, JobStatus, can_transition, parse_statuses
from montesim.jobs.store import Store

ALL = list(JobStatus)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


def test_transition_table_is_the_documented_one() -> None:
    allowed = {(a, b) for a in ALL for b in ALL if can_transition(a, b)}
    assert allowed == {
        (JobStatus.QUEUED, JobStatus.RUNNING),
        (JobStatus.QUEUED, JobStatus.CANCELLED),
        (JobStatus.RUNNING, JobStatus.COMPLETE),
        (JobStatus.RUNNING, JobStatus.ERROR),
        (JobStatus.RUNNING, JobStatus.CANCELLED),
    }
    assert all(not ALLOWED[s] for s in ALL if s.terminal)


def test_parse_statuses() -> None:
    assert parse_statuses("queued, running") == [JobStatus.QUEUED, JobStatus.RUNNING]
    with pytest.raises(ValueError, match="bogus"):
        parse_statuses("queued,bogus")


def _job(store: Store) -> str:
    row, created = store.create_job(engine="sleep", spec={"units": 1})
    assert created and row.status == "queued"
    return row.id


def _force(store: Store, status: JobStatus) -> str:
    """A job driven into ``status`` through allowed transitions only."""
    job_id = _job(store)
    if status == JobStatus.QUEUED:
        return job_id
    if status == JobStatus.CANCELLED:
        assert store.request_cancel(job_id).status == "cancelled"
        return job_id
    claimed = store.claim_next("owner-a", 30, max_running=10)
    assert claimed is not None and claimed.id == job_id
    if status == JobStatus.COMPLETE:
        store.start_work(job_id, "owner-a", total_units=1, chunks_total=1, unit="units")
        assert store.put_chunk(job_id, "owner-a", 0, 1, b"x") is not None
        assert store.complete(job_id, "owner-a", {"ok": True}, {}).status == "complete"
    elif status == JobStatus.ERROR:
        assert store.fail(job_id, code="x", message="failed").status == "error"
    return job_id


@pytest.mark.parametrize("source", ALL)
def test_every_transition_allowed_or_refused_in_the_store(store: Store, source: JobStatus) -> None:
    for target in ALL:
        job_id = _force(store, source)
        assert store.get_job(job_id).status == source.value
        if target == JobStatus.RUNNING:
            ok = store.claim_next("owner-b", 30, max_running=100)
            ok = ok is not None and ok.id == job_id
        elif target == JobStatus.COMPLETE:
            ok = False
            row = store.get_job(job_id)
            if row.status == "running":
                store.start_work(job_id, row.lease_owner, total_units=0, chunks_total=0, unit="u")
                ok = store.complete(job_id, row.lease_owner, {}, {}) is not None
            else:
                ok = store.complete(job_id, "owner-a", {}, {}) is not None
        elif target == JobStatus.ERROR:
            ok = store.fail(job_id, code="x", message="m") is not None
        elif target == JobStatus.CANCELLED:
            try:
                row = store.request_cancel(job_id)
                if row.status == "running":  # requested: the runner finishes it
                    row = store.finish_cancel(job_id)
                ok = row is not None and row.status == "cancelled"
            except Conflict:
                ok = False
        else:
            ok = False  # nothing re-enters queued
        assert ok == can_transition(source, target), (source, target)
        final = store.get_job(job_id).status
        assert final == (target.value if ok else source.value)
        # leave no active job behind: FIFO would hand it to the next iteration's claim
        if final == "running":
            store.fail(job_id, code="cleanup", message="cleanup")
        elif final == "queued":
            store.request_cancel(job_id)


def test_incomplete_result_is_never_complete(store: Store) -> None:
    job_id = _job(store)
    store.claim_next("o", 30, max_running=1)
    store.start_work(job_id, "o", total_units=10, chunks_total=2, unit="units")
    store.put_chunk(job_id, "o", 0, 5, b"a")
    with pytest.raises(RuntimeError, match="covers 5 of 10"):
        store.complete(job_id, "o", {"partial": True}, {})
    assert store.get_job(job_id).status == "running"
    assert store.result(job_id) is None


def test_only_the_lease_owner_writes_progress(store: Store) -> None:
    job_id = _job(store)
    store.claim_next("owner-1", 30, max_running=1)
    store.start_work(job_id, "owner-1", total_units=2, chunks_total=2, unit="units")
    assert store.put_chunk(job_id, "intruder", 0, 1, b"a") is None
    assert store.get_job(job_id).done_units == 0
    assert store.take_over(job_id, "owner-1", "owner-2", 30).lease_owner == "owner-2"
    assert store.put_chunk(job_id, "owner-1", 0, 1, b"a") is None
    assert store.put_chunk(job_id, "owner-2", 0, 1, b"a").done_units == 1


def test_two_workers_racing_to_claim_one_job_exactly_one_wins(database_url: str) -> None:
    stores = [Store(database_url) for _ in range(4)]
    try:
        for _round in range(5):
            job_id = _job(stores[0])
            barrier = threading.Barrier(len(stores))
            wins: list[str] = []

            def claim(i: int, s: Store, barrier: threading.Barrier, wins: list[str]) -> None:
                barrier.wait()
                row = s.claim_next(f"worker-{i}", 30, max_running=100)
                if row is not None:
                    wins.append(row.id)

            threads = [
                threading.Thread(target=claim, args=(i, s, barrier, wins))
                for i, s in enumerate(stores)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert wins == [job_id]
            assert stores[0].get_job(job_id).attempt == 1
            stores[0].fail(job_id, code="done", message="round over")
    finally:
        for s in stores:
            s.close()


def test_fifo_order_and_concurrency_cap(store: Store) -> None:
    ids = [_job(store) for _ in range(3)]
    first = store.claim_next("w", 30, max_running=1)
    assert first.id == ids[0]
    assert store.claim_next("w", 30, max_running=1) is None, "the cap holds"
    store.fail(ids[0], code="x", message="m")
    assert store.claim_next("w", 30, max_running=1).id == ids[1]


def test_retention_prunes_by_age_and_count(store: Store) -> None:
    ids = [_force(store, JobStatus.ERROR) for _ in range(5)]
    active = _job(store)
    assert store.prune(max_age_seconds=10**9, max_jobs=3) == 2
    remaining = {j.id for j in store.list_jobs(limit=100)[0]}
    assert remaining == set(ids[2:]) | {active}, "the newest terminal jobs and active ones stay"
    assert store.prune(max_age_seconds=-1, max_jobs=1000) == 3
    assert {j.id for j in store.list_jobs(limit=100)[0]} == {active}
    assert store.events(ids[0]) == []
