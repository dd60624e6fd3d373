"""The store: every job's state, progress, partials, results and events.

It is the single source of truth (SQLite in WAL mode by default, PostgreSQL for
clusters). One module per concern; :class:`Store` is all of them together.

- ``base``: connections, transactions, ``on_commit`` hooks, the write probe
- ``jobs``: create, read, list, label, delete, cancel, fail, stages, results
- ``leases``: claiming under the cap, heartbeats, take-over
- ``chunks``: persisted partials and the final result
- ``events``: the event log readers
- ``settings``: store-wide settings (the job cap)
- ``workers``: each process's heartbeat row
- ``tokens``: API tokens (hashes only), for MONTESIM_AUTH=tokens
- ``batches``, ``files``, ``retention``, ``setups`` (the studio's saved model setups)
"""

from __future__ import annotations

from montesim.jobs.states import ACTIVE, TERMINAL
from montesim.jobs.store.base import StoreUnavailable, now
from montesim.jobs.store.batches import BatchesStore
from montesim.jobs.store.chunks import ChunksStore
from montesim.jobs.store.events import Event, EventsStore
from montesim.jobs.store.files import FilesStore
from montesim.jobs.store.jobs import new_job_values, request_hash
from montesim.jobs.store.leases import LeasesStore
from montesim.jobs.store.retention import RetentionStore
from montesim.jobs.store.tokens import TokensStore
from montesim.jobs.store.workers import WorkersStore


class Store(
    BatchesStore,
    RetentionStore,
    LeasesStore,
    ChunksStore,
    EventsStore,
    FilesStore,
    WorkersStore,
    TokensStore,
):
    """Tables and queries; one instance per process, safe to share between threads."""


__all__ = [
    "ACTIVE",
    "TERMINAL",
    "Event",
    "Store",
    "StoreUnavailable",
    "new_job_values",
    "now",
    "request_hash",
]
