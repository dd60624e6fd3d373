"""Batch (parent/child) jobs: the batch's status and progress, computed from its children.

A batch has no lifecycle of its own to drift out of step: whoever reads it (API, stream,
CLI) derives it from the children's persisted state with these rules.

- ``queued`` while every child is queued;
- ``running`` while any child is queued or running (and at least one has started);
- once every child is terminal: ``error`` if any child errored, else ``cancelled`` if any
  was cancelled, else ``complete``.

Progress is the children's persisted work over their planned work, so a child of a
million iterations weighs a thousand times one of a thousand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from montesim.jobs.model import Job
from montesim.jobs.progress import fraction
from montesim.jobs.states import ACTIVE, JobStatus

_ACTIVE = {s.value for s in ACTIVE}


@dataclass(frozen=True)
class ChildState:
    status: str
    done: int
    total: int

    @classmethod
    def of_job(cls, job: Job) -> ChildState:
        """From a job in the store."""
        return cls(job.status.value, job.done_units, job.total_units)

    @classmethod
    def of_record(cls, record: Mapping[str, Any]) -> ChildState:
        """From a progress record (an event in the log)."""
        return cls(record["status"], int(record["done"] or 0), int(record["total"] or 0))


def batch_status(statuses: Iterable[str]) -> str:
    counts = Counter(statuses)
    if not counts:
        return JobStatus.COMPLETE.value
    if counts[JobStatus.QUEUED.value] == sum(counts.values()):
        return JobStatus.QUEUED.value
    if any(counts[s] for s in _ACTIVE):
        return JobStatus.RUNNING.value
    for terminal in (JobStatus.ERROR, JobStatus.CANCELLED):
        if counts[terminal.value]:
            return terminal.value
    return JobStatus.COMPLETE.value


def summarize(children: Iterable[ChildState]) -> dict[str, Any]:
    """Status, weighted progress and per-status counts of a batch."""
    kids = list(children)
    done = sum(c.total if c.status == JobStatus.COMPLETE.value else c.done for c in kids)
    total = sum(c.total for c in kids)
    status = batch_status(c.status for c in kids)
    counts = Counter(c.status for c in kids)
    return {
        "status": status,
        "progress": 1.0 if status == JobStatus.COMPLETE.value else fraction(done, total),
        "done": done,
        "total": total,
        "children_total": len(kids),
        "children": {s.value: counts[s.value] for s in JobStatus},
        "failed": counts[JobStatus.ERROR.value] > 0,
    }
