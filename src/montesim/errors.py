"""The errors montesim raises, at the bottom of the import graph.

Hierarchy::

    MontesimError
    ├── InputError        a user mistake in a spec, a file or a request; 4xx problem+json
    │                     with a stable ``code`` and the ``location`` of the mistake
    ├── EngineError       a failure while computing (not the user's input): job ``error``
    ├── Cancelled         an engine noticed cancellation mid-chunk
    ├── EngineError
    │   └── TamperedData  stored bytes whose signature does not match: never unpickled
    ├── Conflict          a job is not in a state that allows the operation (409)
    ├── QuotaExceeded     an owner is over a quota (429 with Retry-After)
    └── the job layer's own (never shown to a user as such):
        ├── StoreUnavailable     the store cannot be written (disk full, database gone)
        ├── ObjectStoreError     the object store refused or could not be reached
        ├── ExecutorUnavailable  the executor cannot start (no Dask scheduler there)
        ├── MetricsUnavailable   a worker's metrics port cannot be bound
        ├── LeaseLost            another attempt holds the job: the runner stops quietly
        └── HandBack             a draining worker leaves the rest of its job to another

Every module may import this one; it imports nothing of montesim.
"""

from __future__ import annotations

from typing import Any


class MontesimError(Exception):
    """Base of every error montesim raises on purpose."""


class InputError(MontesimError, ValueError):
    """A user mistake in a spec or an input file; maps to a 4xx problem+json.

    ``location`` names where the problem is: a spec field (``"spec.iterations"``),
    a sheet and cell (``"Sheet1!B2"``) or a tree node (``"leaves[3].probability"``).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid_spec",
        location: str | None = None,
        status: int = 422,
        detail: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.location = location
        self.status = status
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.location:
            out["location"] = self.location
        if self.detail is not None:
            out["detail"] = self.detail
        return out


class EngineError(MontesimError, RuntimeError):
    """A failure while computing (not the user's input); the job ends in ``error``."""

    def __init__(self, message: str, *, code: str = "engine_error", detail: Any = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail


class Cancelled(MontesimError):
    """Raised by an engine (or its context) when it notices cancellation mid-chunk."""


class Conflict(MontesimError):
    """The job is not in a state that allows the operation."""

    def __init__(self, message: str, status: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class TamperedData(EngineError):
    """Stored bytes whose signature does not match: never unpickled."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} failed its integrity check (it was changed outside montesim, or "
            "written with another MONTESIM_SECRET_KEY); it was not loaded",
            code="tampered_data",
        )


class StoreUnavailable(MontesimError):
    """The store cannot be written (disk full, read-only, database gone)."""


class ObjectStoreError(MontesimError):
    """The object store could not be reached or refused the operation."""


class ExecutorUnavailable(MontesimError):
    """The executor cannot start (for example, no Dask scheduler at the configured address)."""


class MetricsUnavailable(MontesimError):
    """A worker's metrics endpoint cannot be served (its port is taken)."""


class LeaseLost(MontesimError):
    """Another worker took the job over, or it ended elsewhere: the runner stops quietly."""


class HandBack(MontesimError):
    """The worker is draining: persisted chunks stay, the rest is left to another worker."""


class QuotaExceeded(MontesimError):
    """An owner is over a quota; ``retry_after`` seconds is a fair wait before trying again."""

    def __init__(self, message: str, *, code: str, limit: int, value: int, retry_after: int):
        super().__init__(message)
        self.message = message
        self.code = code
        self.limit = limit
        self.value = value
        self.retry_after = retry_after
