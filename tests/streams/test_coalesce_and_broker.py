"""The progress coalescer and the broker's safe cursor, without a server."""

from __future__ import annotations

from pathlib import Path

from montesim.api.follow import Coalescer
from montesim.jobs.broker import EventBroker
from montesim.jobs.store import Store


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def ev(i: int, kind: str = "progress", job: str = "a", status: str = "running") -> dict:
    return {"id": i, "job_id": job, "kind": kind, "status": status, "done": i}


def test_progress_at_most_ten_per_second_per_job_newest_wins() -> None:
    clock = Clock()
    c = Coalescer(0.1, clock)
    assert c.offer(ev(1)) == [ev(1)]
    clock.t += 0.02
    assert c.offer(ev(2)) == [] and c.offer(ev(3)) == []
    assert 0.07 < c.wait_seconds() <= 0.08
    assert c.offer(ev(4, job="b")) == [ev(4, job="b")], "each job has its own budget"
    assert c.due() == []
    clock.t += 0.07
    assert c.due() == [], "not yet: 0.09 s since the last one went out"
    clock.t += 0.02
    assert c.due() == [ev(3)], "the newest held event goes out when the window ends"
    assert c.wait_seconds() is None


def test_other_events_pass_at_once_and_supersede_held_progress() -> None:
    clock = Clock()
    c = Coalescer(0.1, clock)
    c.offer(ev(1))
    assert c.offer(ev(2)) == []
    terminal = ev(3, kind="status", status="complete")
    assert c.offer(terminal) == [terminal]
    clock.t += 1
    assert c.due() == [], "the held progress is older than the terminal event: dropped"
    stage = ev(4, kind="stage")
    assert c.offer(stage) == [stage]


def test_a_thousand_events_in_one_second_give_at_most_eleven() -> None:
    clock = Clock()
    c = Coalescer(0.1, clock)
    sent = []
    for i in range(1, 1001):
        clock.t += 0.001
        sent += c.due() + c.offer(ev(i))
    clock.t += 0.1
    sent += c.due()
    assert len(sent) <= 11 and sent[-1]["id"] == 1000
    assert [e["id"] for e in sent] == sorted(e["id"] for e in sent)


def test_broker_cursor_waits_for_gaps_on_postgres_only(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    broker = EventBroker(store, gap_seconds=2.0)
    assert broker.hold_gaps is False  # SQLite commits ids in order
    assert [e["id"] for e in broker.absorb([ev(1), ev(3)], now=0.0)] == [1, 3]

    broker = EventBroker(store, gap_seconds=2.0)
    broker.hold_gaps = True  # as on PostgreSQL, where a sequence id may commit late
    assert [e["id"] for e in broker.absorb([ev(1), ev(3)], now=0.0)] == [1]
    assert broker.cursor == 1
    assert broker.absorb([ev(3)], now=1.0) == [], "3 waits while 2 may still commit"
    assert [e["id"] for e in broker.absorb([ev(2), ev(3), ev(4)], now=1.5)] == [2, 3, 4]
    assert broker.absorb([ev(6)], now=2.0) == []
    assert [e["id"] for e in broker.absorb([ev(6)], now=4.5)] == [6], (
        "a gap this old was a rollback"
    )
    assert broker.cursor == 6
    assert broker.absorb([ev(5), ev(6)], now=5.0) == [], "nothing at or below the cursor again"
    store.close()
