"""Warming engines at worker start (MONTESIM_WARM_ENGINES): opt-in, in the background.

A real spawned pool runs the test engine's warm_up, held open by a gate, while a chunk
runs in the same (single) worker; the horn engine's warm-up is checked with the solve
stubbed (no BEM in the default selection).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import typer
from tests.conftest import poll

from montesim.cli import _check_warm
from montesim.config import Settings
from montesim.engines.base import Chunk, get_engine, register
from montesim.jobs import warming
from montesim.jobs.executors import ChunkTask, LocalExecutor
from montesim.jobs.warming import start_warming, warm_state

pytestmark = pytest.mark.xdist_group("executors")


def test_pool_workers_warm_named_engines_without_holding_chunks_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = tmp_path / "gate"
    monkeypatch.setenv("MONTESIM_TEST_WARM_GATE", str(gate))  # inherited by the workers
    plan = pickle.dumps(get_engine("sleep").validate({"units": 3, "chunk_size": 3}, {}))
    warm = LocalExecutor(1, warm=("sleep",))
    try:
        state = lambda: warm._pool.submit(warm_state).result(timeout=60)  # noqa: E731
        poll(state, lambda s: s == {"sleep": "warming"}, 60, "the worker warming")
        # the one worker takes a chunk while its warm-up is still held
        partial, _ = warm.submit(ChunkTask("sleep", "j:1", plan, Chunk(0, 0, 3))).result(60)
        assert pickle.loads(partial)["n"] == 3
        assert state() == {"sleep": "warming"}
        gate.touch()
        done = poll(state, lambda s: s["sleep"] != "warming", 60, "the warm-up ending")
        assert done["sleep"].startswith("warm in "), done
    finally:
        warm.shutdown()
    cold = LocalExecutor(1)  # not asked: nothing is warmed
    try:
        assert cold._pool.submit(warm_state).result(timeout=60) == {}
    finally:
        cold.shutdown()


class Brittle:
    name = "brittle-warm"
    calls = 0

    def warm_up(self) -> None:
        Brittle.calls += 1
        raise RuntimeError("no compiler here")


def test_a_failing_warm_up_is_recorded_not_raised_and_nothing_runs_unasked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(warming, "_warmed", {})
    register(Brittle)
    assert start_warming(()) is None and Brittle.calls == 0 and warm_state() == {}
    thread = start_warming(("brittle-warm", "excel", "no-such-engine"))
    assert thread is not None
    thread.join(30)
    state = warm_state()
    assert Brittle.calls == 1
    assert state["brittle-warm"] == "failed: RuntimeError: no compiler here"
    assert state["excel"] == "skipped: the engine has no warm_up"
    assert state["no-such-engine"].startswith("failed: InputError: Unknown engine")


def test_settings_and_the_cli_check_the_names(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, warm_engines=" horn, sleep ,")
    assert settings.warm_engine_names == ("horn", "sleep")
    assert Settings(data_dir=tmp_path).warm_engine_names == ()
    _check_warm(settings)
    for bad in ("nope", "excel"):  # unknown; nothing to warm
        with pytest.raises(typer.Exit):
            _check_warm(Settings(data_dir=tmp_path, warm_engines=bad))


def test_the_scheduler_passes_the_names_to_its_pool(tmp_path: Path) -> None:
    from montesim.jobs.service import build

    settings = Settings(data_dir=tmp_path, warm_engines="horn", workers=1)
    service = build(settings)
    try:
        assert service.scheduler is not None
        assert service.scheduler.executor.warm == ("horn",)
    finally:
        service.scheduler.executor.shutdown()
        service.close()


def test_the_horn_warm_up_is_one_tiny_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    from montesim.engines.horn import HornEngine, solver
    from montesim.engines.horn.mesh import SOURCE, check

    seen = []
    monkeypatch.setattr(solver, "Surface", lambda mesh: mesh)
    monkeypatch.setattr(solver, "solve", lambda *args, **kw: seen.append(args))
    monkeypatch.setattr(solver, "_state", {})
    monkeypatch.setenv("MONTESIM_HORN_DEVICE", "numba")
    HornEngine().warm_up()
    ((mesh, frequency, air, points),) = seen
    check(mesh, location="x", max_triangles=200)  # closed, outward, a source present
    assert mesh.triangle_count == 80 and (mesh.tags == SOURCE).any() and (mesh.tags == 1).any()
    assert frequency > 0 and points.shape == (3, 1)
    # a bad device setting fails at once, before bempp is imported
    monkeypatch.setattr(solver, "_state", {})
    monkeypatch.setenv("MONTESIM_HORN_DEVICE", "gpu")
    with pytest.raises(ValueError, match="MONTESIM_HORN_DEVICE"):
        HornEngine().warm_up()


def test_a_finished_chunk_is_freed_once_its_future_is_dropped() -> None:
    """No reference cycle between the runner's future and the pool's: a chunk's result
    goes with its future, not at the cyclic GC's next pass (tens of MB per chunk)."""
    import gc
    import weakref

    plan = pickle.dumps(get_engine("sleep").validate({"units": 3, "chunk_size": 3}, {}))
    pool = LocalExecutor(1)
    enabled = gc.isenabled()
    gc.disable()
    try:
        out = pool.submit(ChunkTask("sleep", "j:1", plan, Chunk(0, 0, 3)))
        out.result(60)
        gone = weakref.ref(out)
        del out
        assert gone() is None
    finally:
        if enabled:
            gc.enable()
        pool.shutdown()


def engine_modules_loaded() -> list[str]:
    """The engine packages imported in this process (run on a pool's worker)."""
    import sys

    names = ("excel", "horn", "risktree", "montesim_testengines")
    return [n for n in names if f"montesim.engines.{n}" in sys.modules or n in sys.modules]


def test_a_one_engine_pool_imports_that_engine_and_loads_others_on_demand() -> None:
    """run_now's pool (``engines=``) imports only its job's engine as a worker starts;
    the server's pool (no ``engines``) imports every registered one."""
    plan = pickle.dumps(get_engine("sleep").validate({"units": 3, "chunk_size": 3}, {}))
    one = LocalExecutor(1, engines=("excel",))
    try:
        one.start_workers()
        assert one._pool.submit(engine_modules_loaded).result(timeout=60) == ["excel"]
        partial, _ = one.submit(ChunkTask("sleep", "j:1", plan, Chunk(0, 0, 3))).result(60)
        assert pickle.loads(partial)["n"] == 3  # another engine still loads when asked
    finally:
        one.shutdown()
    every = LocalExecutor(1)
    try:
        loaded = every._pool.submit(engine_modules_loaded).result(timeout=60)
        assert {"excel", "horn", "risktree", "montesim_testengines"} <= set(loaded)
    finally:
        every.shutdown()


def test_get_engine_imports_only_the_engine_asked_for() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from montesim.engines.base import get_engine, InputError\n"
        "assert get_engine('excel').name == 'excel'\n"
        "print(sorted(m for m in ('montesim.engines.horn', 'montesim.engines.risktree') "
        "if m in sys.modules))\n"
        "try:\n    get_engine('nope')\nexcept InputError as e:\n    print(e.message)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1].startswith("Unknown engine 'nope'; registered engines: ") and "horn" in out[1]
