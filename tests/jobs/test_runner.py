"""The runner: stages only move forward, chunks cover the plan, the inline executor."""

from __future__ import annotations

import pytest
from tests.jobs.conftest import wait_until

from montesim.engines.base import Chunk
from montesim.errors import EngineError, InputError
from montesim.jobs.runner import check_coverage
from montesim.jobs.service import Service, run_now
from montesim.jobs.states import JobStatus
from montesim.jobs.store import Store

# The order stages may appear in; in-chunk stages (engine messages) sit at "running".
ORDER = {
    "waiting": 0,
    "starting": 1,
    "resuming": 1,
    "validating": 2,
    "running": 3,
    "merging": 4,
    "complete": 5,
    "error": 5,
    "cancelling": 4,
    "cancelled": 5,
}


def test_stages_only_move_forward_through_a_whole_job(service: Service) -> None:
    spec = {"units": 6, "chunk_size": 1, "chunk_seconds": 0.05, "report": True}
    job, _ = service.submit("sleep", spec)
    final = wait_until(lambda: service.get(job.id), lambda j: j.terminal)
    assert final.status == JobStatus.COMPLETE
    stages = [e["stage"] for e in service.store.events(job.id)]
    ranks = [ORDER.get(s, ORDER["running"]) for s in stages]
    assert ranks == sorted(ranks), stages
    assert "validating" in stages and "merging" in stages and stages[-1] == "complete"
    assert "sleeping" in stages, "in-chunk reports reach the stage while chunks run"


def test_a_one_chunk_job_takes_five_writes_with_every_stage_shown(service: Service) -> None:
    """The claim records `validating` and the last chunk `merging`, each in the same write
    (the per-job overhead of issue 9), and no stage is skipped for a client."""
    job, _ = service.submit("sleep", {"units": 1, "chunk_size": 1, "report": False})
    final = wait_until(lambda: service.get(job.id), lambda j: j.terminal)
    assert final.status == JobStatus.COMPLETE
    events = service.store.events(job.id)
    assert [(e["status"], e["stage"]) for e in events] == [
        ("queued", "waiting"),
        ("running", "validating"),
        ("running", "running"),
        ("running", "merging"),
        ("complete", "complete"),
    ]
    assert events[3]["chunks_done"] == 1 and events[3]["stage_message"] == "Merging 1 chunks"


def test_a_late_in_chunk_report_never_moves_the_stage_back(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        job, _ = store.create_job(engine="sleep", spec={})
        store.claim_next("me", 30, 1)
        store.start_work(job.id, "me", total_units=1, chunks_total=1, unit="units")
        assert store.set_stage(job.id, "sleeping", "chunk 0", owner="me", in_chunk=True)
        assert store.set_stage(job.id, "merging", "Merging 1 chunks", owner="me")
        events = len(store.events(job.id))
        assert store.set_stage(job.id, "simulating", "3,616 of 3,616", in_chunk=True) is None
        assert store.get_job(job.id).stage == "merging"
        assert len(store.events(job.id)) == events, "no event for a dropped report"
        assert store.set_stage(job.id, "x", "from someone else", owner="other") is None
    finally:
        store.close()


def test_reports_of_finished_chunks_are_not_relayed(service: Service) -> None:
    runner = service.scheduler.runner
    runner.finished_chunks["j"] = {0}
    assert runner.accepts_report("j", 1) and not runner.accepts_report("j", 0)
    runner.merging.add("j")
    assert not runner.accepts_report("j", 1)
    assert not runner.accepts_report("unknown-job", 0)


def test_coverage_is_checked_once_before_merging() -> None:
    planned = [Chunk(0, 0, 5), Chunk(1, 5, 5)]
    check_coverage(planned, [(0, 5), (1, 5)])
    with pytest.raises(EngineError, match=r"missing \[1\]"):
        check_coverage(planned, [(0, 5)])
    with pytest.raises(EngineError, match=r"wrong size \[1\]"):
        check_coverage(planned, [(0, 5), (1, 4)])


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_run_now_gives_the_same_result_inline_and_on_a_pool(executor: str) -> None:
    spec = {"units": 50, "chunk_size": 7, "seed": 3}
    outcome = run_now("sleep", spec, executor=executor, workers=2)
    assert outcome.job.status == JobStatus.COMPLETE
    again = run_now("sleep", {**spec, "chunk_size": 50}, executor="inline")
    assert outcome.result.summary["n"] == again.result.summary["n"] == 50
    assert outcome.result.summary["chunks"] == 8


def test_run_now_leaves_no_worker_behind_even_when_planning_fails() -> None:
    """Its pool starts while the job is planned, and is gone when run_now returns: the
    caller may exit at once (a pool left to the exit hook can print an OSError, and a
    worker still starting when its parent exits fails noisily)."""
    import multiprocessing

    outcome = run_now("sleep", {"units": 20, "chunk_size": 5}, executor="local", workers=2)
    assert outcome.job.status == JobStatus.COMPLETE
    assert multiprocessing.active_children() == []
    with pytest.raises(InputError, match="spec.units"):
        run_now("sleep", {"units": -1}, executor="local", workers=2)
    assert multiprocessing.active_children() == []


def test_run_now_failure_is_an_error_with_the_engines_message() -> None:
    outcome = run_now("sleep", {"units": 3, "chunk_size": 1, "fail_at_chunk": 1})
    assert outcome.job.status == JobStatus.ERROR and outcome.result is None
    assert outcome.job.error_code == "deliberate_failure"
