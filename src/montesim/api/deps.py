"""What request handlers share: settings, the store and this process's scheduler."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from montesim.config import Settings
from montesim.jobs.scheduler import Scheduler
from montesim.jobs.store import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    scheduler: Scheduler | None

    def wake(self) -> None:
        if self.scheduler is not None:
            self.scheduler.wake()


def services(request: Request) -> Services:
    return request.app.state.services
