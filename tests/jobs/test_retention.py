"""Retention counted per owner, and never younger than the minimum age (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update

from montesim.jobs.store import Store
from montesim.jobs.tables import jobs

DAY = 86400.0


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


def finished(store: Store, owner: str, *, days_ago: float = 0.0) -> str:
    row, _ = store.create_job(engine="sleep", spec={"units": 1}, owner=owner)
    assert store.request_cancel(row.id).status == "cancelled"
    if days_ago:
        with store.engine.begin() as conn:
            t = row.created_at - days_ago * DAY
            conn.execute(
                update(jobs).where(jobs.c.id == row.id).values(created_at=t, completed_at=t)
            )
    return row.id


def remaining(store: Store) -> set[str]:
    return {j.id for j in store.list_jobs(limit=200)[0]}


def test_a_flood_of_jobs_prunes_nothing_younger_than_the_minimum_age(store: Store) -> None:
    theirs = [finished(store, "client:a") for _ in range(3)]
    flood = [finished(store, "client:b") for _ in range(12)]
    assert store.prune(max_age_seconds=30 * DAY, max_jobs=2, min_age_seconds=DAY) == 0
    assert remaining(store) == set(theirs) | set(flood)


def test_the_count_is_per_owner(store: Store) -> None:
    theirs = [finished(store, "client:a", days_ago=3 - i * 0.1) for i in range(3)]
    flood = [finished(store, "client:b", days_ago=2) for _ in range(10)]
    fresh = [finished(store, "client:b") for _ in range(5)]
    removed = store.prune(max_age_seconds=30 * DAY, max_jobs=4, min_age_seconds=DAY)
    left = remaining(store)
    assert set(theirs) <= left, "another owner's flood never prunes these"
    assert set(fresh) <= left, "younger than the minimum age: kept whatever the count"
    assert removed == 10 and not set(flood) & left  # ranks 6-15 of 15, two days old


def test_age_still_prunes_old_jobs_but_not_young_ones(store: Store) -> None:
    old = finished(store, "client:a", days_ago=40)
    young = finished(store, "client:a", days_ago=0.5)
    assert store.prune(max_age_seconds=0.1 * DAY, max_jobs=100, min_age_seconds=DAY) == 1
    assert remaining(store) == {young}
    assert old not in remaining(store)
