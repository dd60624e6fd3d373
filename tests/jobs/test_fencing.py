"""Fenced ownership: a runner writes only while its attempt holds the job; its lease lives as
long as it does (planning, merging, storing), so a slow merge completes exactly once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.conftest import make_database_url, poll
from tests.jobs.conftest import fast_settings

from montesim.jobs import service as service_mod
from montesim.jobs.states import JobStatus
from montesim.jobs.store import Store
from montesim.jobs.tables import job_chunks, job_events, job_results


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


def _count(store: Store, table, job_id: str) -> int:  # noqa: ANN001
    with store._read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(table).where(table.c.job_id == job_id)
            ).scalar_one()
        )


@pytest.mark.parametrize("same_owner", [False, True], ids=["other-owner", "same-owner"])
def test_a_stale_attempt_writes_nothing(store: Store, same_owner: bool) -> None:
    """After a take-over, every write of the old attempt matches nothing, even when the new
    attempt has the same owner string (the fence is the attempt, not only the name)."""
    job, _ = store.create_job(engine="sleep", spec={"units": 2})
    first = store.claim_next("worker-a", 30, max_running=5)
    assert first is not None and first.attempt == 1
    store.start_work(job.id, "worker-a", total_units=2, chunks_total=2, unit="u", attempt=1)
    assert store.put_chunk(job.id, "worker-a", 0, 1, b"a", attempt=1) is not None
    new_owner = "worker-a" if same_owner else "worker-b"
    taken = store.take_over(job.id, "worker-a", new_owner, 30)
    assert taken is not None and taken.attempt == 2

    stale = {"owner": "worker-a", "attempt": 1}
    assert store.put_chunk(job.id, "worker-a", 1, 1, b"b", attempt=1) is None
    assert store.heartbeat(job.id, "worker-a", 30, attempt=1) is None
    assert store.set_stage(job.id, "merging", "stale", **stale) is None
    assert store.start_work(job.id, total_units=2, chunks_total=2, unit="u", **stale) is None
    assert store.complete(job.id, "worker-a", {"stale": True}, {}, attempt=1) is None
    assert store.fail(job.id, code="x", message="stale", **stale) is None
    assert store.finish_cancel(job.id, **stale) is None
    assert store.release(job.id, "worker-a", attempt=1) is None
    row = store.get_job(job.id)
    assert row is not None and row.status == JobStatus.RUNNING and row.attempt == 2
    assert row.stage == "resuming" and row.chunks_done == 1
    assert _count(store, job_chunks, job.id) == 1 and _count(store, job_results, job.id) == 0

    # the holder of attempt 2 goes on and completes, once
    assert store.put_chunk(job.id, new_owner, 1, 1, b"b", attempt=2) is not None
    done = store.complete(job.id, new_owner, {"ok": True}, {}, attempt=2)
    assert done is not None and done.status == JobStatus.COMPLETE
    assert store.complete(job.id, new_owner, {"again": True}, {}, attempt=2) is None
    assert store.result(job.id) == {"ok": True}


def test_complete_after_losing_the_job_commits_nothing(store: Store) -> None:
    """The bug this fence fixes: the old owner's complete() used to commit the result and
    delete the chunks although its status update matched no row."""
    job, _ = store.create_job(engine="sleep", spec={"units": 1})
    store.claim_next("worker-a", 30, max_running=5)
    store.start_work(job.id, "worker-a", total_units=1, chunks_total=1, unit="u", attempt=1)
    store.put_chunk(job.id, "worker-a", 0, 1, b"a", attempt=1)
    store.take_over(job.id, "worker-a", "worker-b", 30)
    assert store.complete(job.id, "worker-a", {"x": 1}, {"a.csv": ("text/csv", b"1")}) is None
    assert store.result(job.id) is None and store.artifact_names(job.id) == []
    assert _count(store, job_chunks, job.id) == 1, "the new owner's chunks are kept"
    assert store.complete(job.id, "worker-b", {"x": 2}, {}, attempt=2) is not None
    assert store.result(job.id) == {"x": 2}


def _status_events(store: Store, job_id: str, status: str) -> int:
    with store._read() as conn:
        rows = conn.execute(
            select(job_events.c.data).where(
                job_events.c.job_id == job_id, job_events.c.kind == "status"
            )
        ).scalars()
        return sum(1 for data in rows if data["status"] == status)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_merge_slower_than_the_lease_completes_once_with_two_workers(
    tmp_path: Path, backend: str
) -> None:
    """Two workers share a store; the owner's merge is held past several leases. The lease
    keeps being renewed, the other worker never takes the job over, and it ends complete
    exactly once, in its first attempt."""
    urls = make_database_url(backend, tmp_path)
    url = next(urls)
    try:
        one = service_mod.build(fast_settings(tmp_path / "one", database_url=url))
        two = service_mod.build(fast_settings(tmp_path / "two", database_url=url))
        one.start()
        gate = tmp_path / "merge-gate"
        try:
            job, _ = one.submit("sleep", {"units": 4, "chunk_size": 1, "merge_gate": str(gate)})
            two.start()
            store = one.store
            merging = poll(
                lambda: store.get_job(job.id),
                lambda j: j.stage == "merging" and j.heartbeat_at is not None,
                what="the merge",
            )
            # the lease is renewed through the merge: well past several leases of it
            lease = one.settings.lease_seconds
            poll(
                lambda: store.get_job(job.id),
                lambda j: j.heartbeat_at > merging.heartbeat_at + 3 * lease,
                what="the lease renewed through the merge",
            )
            assert store.get_job(job.id).attempt == 1
            gate.touch()
            final = poll(lambda: store.get_job(job.id), lambda j: j.terminal, what="the end")
            assert final.status == JobStatus.COMPLETE and final.attempt == 1
            assert _status_events(store, job.id, "complete") == 1
            assert store.result(job.id)["n"] == 4
        finally:
            gate.touch()
            two.close()
            one.close()
    finally:
        urls.close()


def test_a_stale_runner_waking_after_a_take_over_stores_nothing(tmp_path: Path) -> None:
    """The owner is merging when another worker takes the job over; when its merge ends,
    its result is refused (its attempt is over), and the job completes in a later attempt
    with the result an uninterrupted run gives."""
    svc = service_mod.build(fast_settings(tmp_path / "data"))
    gate = tmp_path / "merge-gate"
    svc.start()
    try:
        store = svc.store
        spec = {"units": 6, "chunk_size": 2, "seed": 3}
        job, _ = svc.submit("sleep", {**spec, "merge_gate": str(gate)})
        merging = poll(
            lambda: store.get_job(job.id), lambda j: j.stage == "merging", what="the merge"
        )
        # another worker (not running here) takes the job over while the owner merges
        taken = store.take_over(job.id, merging.lease_owner, "elsewhere:1:x", 0.5)
        assert taken is not None and taken.attempt == merging.attempt + 1
        gate.touch()
        # the stale runner's complete() is refused: nothing stored, chunks kept; then the
        # take-over's lease lapses and recovery here resumes the job from its chunks
        final = poll(lambda: store.get_job(job.id), lambda j: j.terminal, what="the end")
        assert final.status == JobStatus.COMPLETE and final.attempt >= taken.attempt + 1
        assert _status_events(store, job.id, "complete") == 1
        fresh, _ = svc.submit("sleep", spec)
        poll(lambda: store.get_job(fresh.id), lambda j: j.terminal, what="the fresh run")
        assert store.result(job.id) == store.result(fresh.id)
    finally:
        gate.touch()
        svc.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_processes_starting_at_once_on_an_empty_store_all_come_up(
    tmp_path: Path, backend: str
) -> None:
    """Migrations run under a database-wide lock: four processes starting together on an
    empty database all migrate it (one does, the others find it done) and agree on the
    signing key it made."""
    urls = make_database_url(backend, tmp_path)
    url = next(urls)
    try:
        code = (
            "import sys; from montesim.jobs.store import Store; "
            "s = Store(sys.argv[1]); print(s.signing_key())"
        )
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, url],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, [err[-2000:] for _, err in outs]
        keys = {out.strip() for out, _ in outs}
        assert len(keys) == 1 and len(keys.pop()) == 64
    finally:
        urls.close()


def test_a_chunk_written_again_is_counted_once(store: Store) -> None:
    """A write retried after its first try committed (the connection dropped before the
    reply) leaves progress and the rate's work count as one write did."""
    job, _ = store.create_job(engine="sleep", spec={"units": 4})
    store.claim_next("w", 30, max_running=5)
    store.start_work(job.id, "w", total_units=4, chunks_total=2, unit="u", attempt=1)
    first = store.put_chunk(job.id, "w", 0, 2, b"a", attempt=1)
    again = store.put_chunk(job.id, "w", 0, 2, b"a", attempt=1)
    assert first is not None and again is not None
    assert (again.done_units, again.chunks_done, again.attempt_done_units) == (2, 1, 2)
