"""A Dask worker plugin that imports montesim's engines as each worker starts, and warms
those named in MONTESIM_WARM_ENGINES.

Imported only by the Dask executor (it needs ``distributed``); workers that join later
get it too, so no chunk pays for the imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from distributed import WorkerPlugin

from montesim.engines.base import engine_names
from montesim.heap import keep_freed_memory
from montesim.jobs.warming import start_warming


class EnginePreload(WorkerPlugin):
    name = "montesim-engines"

    def __init__(self, warm: Sequence[str] = ()) -> None:
        self.warm = tuple(warm)

    def setup(self, worker: Any) -> None:
        keep_freed_memory()
        engine_names()
        start_warming(self.warm)
