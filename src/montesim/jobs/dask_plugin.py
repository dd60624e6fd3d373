"""A Dask worker plugin that imports montesim's engines as each worker starts.

Imported only by the Dask executor (it needs ``distributed``); workers that join later
get it too, so no chunk pays for the imports.
"""

from __future__ import annotations

from typing import Any

from distributed import WorkerPlugin

from montesim.engines.base import engine_names


class EnginePreload(WorkerPlugin):
    name = "montesim-engines"

    def setup(self, worker: Any) -> None:
        engine_names()
