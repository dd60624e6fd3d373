"""Typed records the store hands out: ``Job`` and ``Batch``.

Rows never travel as dicts: every reader (runner, scheduler, API, CLI) sees these
dataclasses, and compares ``status`` as a :class:`JobStatus`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from montesim.jobs.states import JobStatus


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    engine: str
    status: JobStatus
    spec_summary: str
    created_at: float
    queued_at: float
    updated_at: float
    label: str | None = None
    spec: dict[str, Any] | None = None  # None in list rows (it may be large)
    idempotency_key: str | None = None
    request_hash: str | None = None
    batch_id: str | None = None
    file_id: str | None = None
    owner: str | None = None  # who submitted it (quotas and retention count per owner)
    priority: int = 0  # admission: higher first (then fair share between owners, then FIFO)
    resource_class: str = "cpu"  # the engine's class, capped by MONTESIM_CLASS_LIMITS
    time_limit: float | None = None  # seconds from its start; past it the job ends in error
    file_name: str | None = None  # the uploaded file's name, joined in by the store
    started_at: float | None = None
    completed_at: float | None = None
    # progress: counted from persisted chunks only
    done_units: int = 0
    total_units: int = 0
    unit: str = "units"
    progress: float = 0.0
    stage: str = "waiting"
    stage_message: str | None = None
    chunks_total: int = 0
    chunks_done: int = 0
    attempt_started_at: float | None = None
    attempt_done_units: int = 0
    rate_since: float | None = None
    progress_at: float | None = None
    stalled: bool = False
    error_code: str | None = None
    error_message: str | None = None
    error_detail: str | None = None
    cancellation_requested: bool = False
    cancel_late: bool = False
    attempt: int = 0
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    heartbeat_at: float | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Job:
        values = {k: row[k] for k in _JOB_FIELDS if k in row}
        values["status"] = JobStatus(row["status"])
        for key in (
            "done_units",
            "total_units",
            "chunks_total",
            "chunks_done",
            "attempt",
            "priority",
        ):
            values[key] = int(values.get(key) or 0)
        values["attempt_done_units"] = int(values.get("attempt_done_units") or 0)
        values["cancel_late"] = bool(values.get("cancel_late"))
        values["stalled"] = bool(values.get("stalled"))
        values["cancellation_requested"] = bool(values.get("cancellation_requested"))
        return cls(**values)

    @property
    def terminal(self) -> bool:
        return self.status.terminal


_JOB_FIELDS = tuple(f.name for f in fields(Job))


@dataclass(frozen=True, slots=True)
class Batch:
    id: str
    created_at: float
    updated_at: float
    label: str | None = None
    fail_fast: bool = False
    cancellation_requested: bool = False
    owner: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Batch:
        return cls(
            id=row["id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            label=row["label"],
            fail_fast=bool(row["fail_fast"]),
            cancellation_requested=bool(row["cancellation_requested"]),
            owner=row.get("owner"),
        )


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: str
    filename: str
    size: int
    sha256: str
    created_at: float
    owner: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> StoredFile:
        return cls(
            id=row["id"],
            filename=row["filename"],
            size=int(row["size"]),
            sha256=row["sha256"],
            created_at=row["created_at"],
            owner=row.get("owner"),
        )


@dataclass(frozen=True, slots=True)
class Token:
    """An API token's record (never the token itself: only its hash is stored)."""

    id: str
    name: str
    admin: bool
    created_at: float
    revoked_at: float | None = None
    last_used_at: float | None = None

    @property
    def owner(self) -> str:
        return f"token:{self.name}"

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Token:
        return cls(
            id=row["id"],
            name=row["name"],
            admin=bool(row["admin"]),
            created_at=row["created_at"],
            revoked_at=row["revoked_at"],
            last_used_at=row["last_used_at"],
        )


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the owner recorded on what they create, and what they may see.

    With tokens on, a token sees only what its owner created (``visible`` is that owner)
    and an admin token sees everything; with auth off everyone sees everything
    (``visible`` is None) and ``owner`` is the client's address, for quotas.
    """

    owner: str
    scoped: bool = False  # sees only its own jobs, files, batches and setups
    admin: bool = False
    token_id: str | None = None

    @property
    def visible(self) -> str | None:
        """The owner filter for store queries; None: everything."""
        return self.owner if self.scoped else None


def job_of_key(key: str) -> str:
    """The job id of an attempt's key (``lease.Hold.key``: ``job_id:attempt``)."""
    return key.split(":", 1)[0]
