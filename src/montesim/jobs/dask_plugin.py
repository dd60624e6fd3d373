"""A Dask worker plugin that imports montesim's engines as each worker starts, warms
those named in MONTESIM_WARM_ENGINES, and checks the worker's arithmetic against the
store's reference (a worker started without montesim's NumPy settings refuses chunks).

Imported only by the Dask executor (it needs ``distributed``); workers that join later
get it too, so no chunk pays for the imports.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from distributed import WorkerPlugin

from montesim import portable
from montesim.engines.base import engine_names
from montesim.heap import keep_freed_memory
from montesim.jobs.warming import start_warming

log = logging.getLogger("montesim.executor")


class EnginePreload(WorkerPlugin):
    name = "montesim-engines"

    def __init__(self, warm: Sequence[str] = (), reference_digest: str | None = None) -> None:
        self.warm = tuple(warm)
        self.reference_digest = reference_digest

    def setup(self, worker: Any) -> None:
        problem = portable.compare(self.reference_digest)
        if problem is not None:
            log.error("%s", problem)
        keep_freed_memory()
        engine_names()
        start_warming(self.warm)
