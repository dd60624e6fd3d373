"""Job states and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETE = "complete"
    ERROR = "error"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.COMPLETE, JobStatus.ERROR, JobStatus.CANCELLED})
ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})

ALLOWED: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset({JobStatus.COMPLETE, JobStatus.ERROR, JobStatus.CANCELLED}),
    JobStatus.COMPLETE: frozenset(),
    JobStatus.ERROR: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


def sources_of(target: JobStatus) -> frozenset[JobStatus]:
    """The states from which ``target`` may be entered (used in conditional UPDATEs)."""
    return frozenset(s for s, targets in ALLOWED.items() if target in targets)


def can_transition(source: JobStatus, target: JobStatus) -> bool:
    return target in ALLOWED[source]


def parse_statuses(text: str) -> list[JobStatus]:
    """Parse ``"queued,running"``; ValueError names the first unknown status."""
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(JobStatus(part))
        except ValueError:
            raise ValueError(
                f"unknown status {part[:40]!r}; expected one of {', '.join(s.value for s in JobStatus)}"
            ) from None
    return out
