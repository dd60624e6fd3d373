"""Warming engines as a worker process starts (MONTESIM_WARM_ENGINES): each named engine's
``warm_up`` runs on a background thread, so a JIT's compilation happens before the first
job rather than inside its first chunk, without holding any chunk back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from montesim.engines.base import get_engine

log = logging.getLogger("montesim.executor")

_warmed: dict[str, str] = {}  # engine -> "warming", "warm in 12.3 s", "failed: ..."


def start_warming(names: Sequence[str]) -> threading.Thread | None:
    """Run the named engines' ``warm_up`` on a background thread (MONTESIM_WARM_ENGINES).

    The worker takes chunks meanwhile: warming shares the CPU with them but holds no
    chunk back. A failure is logged and recorded, never raised.
    """
    if not names:
        return None
    for name in names:
        _warmed[name] = "waiting"

    def warm() -> None:
        for name in names:
            _warmed[name] = "warming"
            t0 = time.perf_counter()
            try:
                hook = getattr(get_engine(name), "warm_up", None)
                if hook is None:
                    _warmed[name] = "skipped: the engine has no warm_up"
                    continue
                hook()
            except Exception as exc:
                _warmed[name] = f"failed: {type(exc).__name__}: {exc}"
                log.warning("warming the %s engine failed: %s", name, exc)
            else:
                _warmed[name] = f"warm in {time.perf_counter() - t0:.1f} s"
                log.info("%s engine warmed in %.1f s", name, time.perf_counter() - t0)

    thread = threading.Thread(target=warm, name="engine-warm-up", daemon=True)
    thread.start()
    return thread


def warm_state() -> dict[str, str]:
    """What this process's warm-up did, per engine (diagnostics; run it on a worker)."""
    return dict(_warmed)
