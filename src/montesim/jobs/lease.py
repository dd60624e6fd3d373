"""A runner's hold on its job: the lease kept alive for as long as the runner lives, and
store writes that ride out a short outage of the store.

The lease is renewed from a thread of its own, so planning, merging and storing a result
(which may take longer than the lease) never let it lapse while the runner is alive.
Every renewal is fenced by the job's attempt: once another worker took the job over, the
renewal matches nothing and the hold is lost; the runner's next check stops it.

A write that fails because the store is unreachable (a restart, a failover, dropped
connections) is tried again with backoff for as long as the lease the runner last renewed
is still valid; only then does the runner give the job up. Fenced writes are safe to
repeat: one that committed before its connection broke matches again or finds the job
already where it put it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError

from montesim.jobs.store import Store

log = logging.getLogger("montesim.lease")

T = TypeVar("T")

# Errors of the connection, not of the statement: worth trying again.
TRANSIENT = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class Hold:
    """Which runner holds a job: its owner string and the attempt it claimed."""

    job_id: str
    owner: str
    attempt: int

    @property
    def key(self) -> str:
        """The executor's key for this attempt's plan and reports (``id:attempt``)."""
        return f"{self.job_id}:{self.attempt}"


class LeaseKeeper:
    """Renews a hold's lease every ``every`` seconds until stopped or lost."""

    def __init__(self, store: Store, hold: Hold, lease_seconds: float, every: float) -> None:
        self.store = store
        self.hold = hold
        self.lease_seconds = lease_seconds
        self.every = every
        # Monotonic time until which the last renewal keeps the lease ours.
        self.valid_until = time.monotonic() + lease_seconds
        self.lost = threading.Event()
        self.renewed = threading.Event()  # set at each renewal (tests wait on it)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"lease-{hold.job_id[:8]}", daemon=True
        )

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def seconds_left(self) -> float:
        return self.valid_until - time.monotonic()

    def renew(self) -> bool:
        """One renewal now; False when the hold is lost (raises on a store error)."""
        started = time.monotonic()
        h = self.hold
        row = self.store.heartbeat(h.job_id, h.owner, self.lease_seconds, attempt=h.attempt)
        if row is None:
            self.lost.set()
            return False
        self.valid_until = started + self.lease_seconds
        self.renewed.set()
        return True

    def _loop(self) -> None:
        failing = 0
        while not self._stop.wait(self.every if not failing else min(0.25 * failing, 1.0)):
            try:
                if not self.renew():
                    log.info("job %s: lease lost to another worker", self.hold.job_id)
                    return
                if failing:
                    log.info(
                        "job %s: lease renewed again after %d failed tries",
                        self.hold.job_id,
                        failing,
                    )
                failing = 0
            except TRANSIENT as exc:
                failing += 1
                if failing == 1:
                    log.warning(
                        "job %s: cannot renew its lease (%s); retrying while it lasts "
                        "(%.1f s left)",
                        self.hold.job_id,
                        str(exc).splitlines()[0][:200],
                        self.seconds_left(),
                    )
                if self.seconds_left() <= 0:
                    log.warning("job %s: lease ran out while the store was away", self.hold.job_id)
                    self.lost.set()
                    return
            except Exception:
                log.exception("job %s: lease renewal failed", self.hold.job_id)
                failing += 1


def retrying(write: Callable[[], T], keeper: LeaseKeeper, what: str) -> T:
    """``write()``, tried again with backoff while the store is unreachable and the lease
    is still ours; the last error once it is not."""
    delay = 0.1
    while True:
        try:
            return write()
        except TRANSIENT as exc:
            if keeper.lost.is_set() or keeper.seconds_left() <= delay:
                raise
            log.warning(
                "job %s: %s failed (%s); retrying in %.1f s",
                keeper.hold.job_id,
                what,
                str(exc).splitlines()[0][:200],
                delay,
            )
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
