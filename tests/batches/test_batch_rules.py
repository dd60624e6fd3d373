"""The batch status and progress rules, computed from children states."""

from __future__ import annotations

import pytest

from montesim.jobs.batches import ChildState, batch_status, summarize


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["queued", "queued"], "queued"),
        (["running", "queued"], "running"),
        (["complete", "queued"], "running"),  # between two children: still running
        (["error", "running"], "running"),  # the others go on
        (["error", "queued"], "running"),
        (["complete", "complete"], "complete"),
        (["complete", "error", "complete"], "error"),
        (["complete", "cancelled"], "cancelled"),
        (["error", "cancelled"], "error"),
        (["cancelled", "cancelled"], "cancelled"),
    ],
)
def test_batch_status(statuses: list[str], expected: str) -> None:
    assert batch_status(statuses) == expected


def test_progress_is_weighted_by_work_units() -> None:
    small_done = ChildState("complete", 1000, 1000)
    big_waiting = ChildState("queued", 0, 3000)
    out = summarize([small_done, big_waiting])
    assert out["progress"] == 0.25 and out["done"] == 1000 and out["total"] == 4000
    assert out["status"] == "running"
    half = summarize([small_done, ChildState("running", 1500, 3000)])
    assert half["progress"] == 2500 / 4000


def test_counts_and_failed_flag() -> None:
    out = summarize(
        [ChildState("error", 10, 100), ChildState("running", 50, 100), ChildState("queued", 0, 100)]
    )
    assert out["status"] == "running" and out["failed"] is True
    assert out["children"] == {"queued": 1, "running": 1, "complete": 0, "error": 1, "cancelled": 0}
    assert out["children_total"] == 3
    assert out["progress"] == pytest.approx(60 / 300)


def test_complete_batch_is_whole() -> None:
    out = summarize([ChildState("complete", 7, 7), ChildState("complete", 3, 3)])
    assert out == {
        "status": "complete",
        "progress": 1.0,
        "done": 10,
        "total": 10,
        "children_total": 2,
        "children": {"queued": 0, "running": 0, "complete": 2, "error": 0, "cancelled": 0},
        "failed": False,
    }
