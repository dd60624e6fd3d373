"""The compiled-plan cache on disk: a second run of a model skips reading and compiling;
a changed workbook is planned again; a tampered, unsigned or foreign entry is never
unpickled (the plan is built again)."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import montesim
from montesim.engines.base import Chunk
from montesim.jobs.planning import PlanCache, PlannedJob
from montesim.jobs.signing import Signer


class Evil:
    """Unpickling this creates a marker file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.marker,))


def planned(tag: bytes = b"plan", size: int = 0) -> PlannedJob:
    return PlannedJob(tag + b"x" * size, [Chunk(0, 0, 10), Chunk(1, 10, 5)], 123)


def disk_cache(folder: Path, signer: Signer, **kw: int) -> PlanCache:
    return PlanCache(directory=folder, signer=signer, **kw)


def test_a_new_process_finds_the_plan_on_disk(tmp_path: Path) -> None:
    signer = Signer.random()
    key = PlanCache.key("excel", {"file_id": "a", "iterations": 10}, {"a": "00" * 32})
    first = disk_cache(tmp_path, signer)
    assert first.get(key) is None and first.misses == 1
    first.put(key, planned())
    second = disk_cache(tmp_path, signer)  # another process: an empty memory
    assert second.get(key) == planned()
    assert (second.disk_hits, second.misses) == (1, 0)
    assert second.get(key) == planned() and second.hits == 1  # now in memory too


def test_the_key_is_the_file_content_not_its_id() -> None:
    spec = {"iterations": 10, "seed": 1}
    same_a = PlanCache.key("excel", {**spec, "file_id": "id-1"}, {"id-1": "aa" * 32})
    same_b = PlanCache.key("excel", {**spec, "file_id": "id-2"}, {"id-2": "aa" * 32})
    changed = PlanCache.key("excel", {**spec, "file_id": "id-3"}, {"id-3": "bb" * 32})
    other_spec = PlanCache.key("excel", {**spec, "seed": 2, "file_id": "id-1"}, {"id-1": "aa" * 32})
    assert same_a == same_b
    assert len({same_a, changed, other_spec}) == 3


@pytest.mark.parametrize("how", ["flipped", "unsigned", "other_key", "truncated"])
def test_a_bad_entry_is_never_trusted(tmp_path: Path, how: str) -> None:
    signer = Signer.random()
    key = "k" * 64
    disk_cache(tmp_path, signer).put(key, planned())
    path = tmp_path / f"{key}.plan"
    marker = tmp_path / "pwned"
    evil = pickle.dumps(Evil(marker))
    if how == "flipped":  # a valid signature over other bytes
        blob = path.read_bytes()
        path.write_bytes(blob[: -len(evil)] + evil if len(blob) > len(evil) else evil)
    elif how == "unsigned":
        path.write_bytes(evil)
    elif how == "other_key":
        path.write_bytes(Signer.random().sign(evil))
    else:
        path.write_bytes(path.read_bytes()[:20])
    cache = disk_cache(tmp_path, signer)
    assert cache.get(key) is None
    assert (cache.rejected, cache.disk_hits, cache.misses) == (1, 0, 1)
    assert not marker.exists()
    assert not path.exists()  # dropped, so the rebuilt plan replaces it


def test_the_folder_is_bounded_oldest_first(tmp_path: Path) -> None:
    signer = Signer.random()
    cache = disk_cache(tmp_path, signer, max_disk_bytes=10_000)
    for i in range(6):  # each entry is about 2 KB
        cache.put(f"{i}" * 64, planned(str(i).encode(), 2000))
    kept = sorted(p.name[0] for p in tmp_path.glob("*.plan"))
    assert kept == ["2", "3", "4", "5"]
    assert sum(p.stat().st_size for p in tmp_path.glob("*.plan")) <= 10_000


def write_book(path: Path, price: float) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Model"
    ws["A1"] = "=RiskNormal(100, 10)"
    ws["A2"] = price
    ws["A3"] = "=A1*A2"
    wb.save(path)


def cache_events(caplog: pytest.LogCaptureFixture) -> list[str]:
    events = [r.getMessage() for r in caplog.records if r.name == "montesim.planning"]
    caplog.clear()
    return events


def test_simulate_twice_reads_and_compiles_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "plans"
    monkeypatch.setenv("MONTESIM_PLAN_CACHE_DIR", str(folder))
    caplog.set_level(logging.INFO, logger="montesim.planning")
    book = tmp_path / "model.xlsx"
    write_book(book, 2.0)

    def run() -> float:
        res = montesim.simulate(book, outputs=["Model!A3"], iterations=2000, seed=3, workers=1)
        return float(res.outputs["Model!A3"].mean())

    first = run()
    assert not any("disk cache" in e for e in cache_events(caplog))
    assert len(list(folder.glob("*.plan"))) == 2  # for this spec, and for the model
    assert run() == first
    assert any("from the disk cache" in e for e in cache_events(caplog))

    write_book(book, 3.0)  # a changed workbook is read and compiled again
    changed = run()
    assert not any("from the disk cache" in e for e in cache_events(caplog))
    assert changed == pytest.approx(first * 1.5)
    assert len(list(folder.glob("*.plan"))) == 4

    for entry in folder.glob("*.plan"):  # tampered: ignored, planned again, same numbers
        entry.write_bytes(entry.read_bytes()[:-1] + b"!")
    assert run() == changed
    assert any("ignoring the cached plan" in e for e in cache_events(caplog))


def test_other_iterations_or_seed_reuse_the_compiled_model(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="montesim.planning")
    book = tmp_path / "model.xlsx"
    write_book(book, 2.0)

    def run(folder: str, **kw: object) -> montesim.SimulationResult:
        monkeypatch.setenv("MONTESIM_PLAN_CACHE_DIR", str(tmp_path / folder))
        return montesim.simulate(book, outputs=["Model!A3"], workers=1, **kw)

    run("warm", iterations=1000, seed=1)
    cache_events(caplog)
    for kw in ({"iterations": 9000, "seed": 4}, {"iterations": 5000, "sampling": "mc"}):
        again = run("warm", raw_iterations=100, **kw)
        assert any("from the disk cache" in e for e in cache_events(caplog))
        cold = run(f"cold-{kw['iterations']}", raw_iterations=100, **kw)  # compiled afresh
        assert not any("from the disk cache" in e for e in cache_events(caplog))
        assert again.iterations == kw["iterations"] and again.summary == cold.summary
        assert np.array_equal(again.outputs["Model!A3"], cold.outputs["Model!A3"])
        assert len(again.inputs["Model!A1"]) == 100


def test_other_code_or_another_day_is_another_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime

    from montesim.jobs import planning

    args = ("excel", {"file_id": "a"}, {"a": "cc" * 32})
    key = PlanCache.key(*args)
    monkeypatch.setattr(planning, "code_fingerprint", lambda: "edited")
    edited = PlanCache.key(*args)

    class Tomorrow(datetime.date):
        @classmethod
        def today(cls) -> datetime.date:  # a plan may hold TODAY()
            return datetime.date(2999, 1, 1)

    monkeypatch.setattr(planning, "date", Tomorrow)
    assert len({key, edited, PlanCache.key(*args)}) == 3
