"""@RISK statistics cells (RiskMean, RiskPercentile...) are computed from the run's results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.engines.excel.books import save_book

from montesim.engines.base import InputError
from montesim.simulation import simulate


def _book(tmp_path: Path, extra: dict | None = None) -> Path:
    cells = {
        "Model!A1": 0.5,  # the input: uniform(0, 1) in the spec
        "Model!B1": "=A1*2",  # the output: uniform(0, 2)
        "Model!D1": "=A1+10",  # described by a statistic, not listed as an output
        "Stats!A1": "=RiskMean(Model!B1)",
        "Stats!A2": "=RiskPercentile(Model!B1, 0.9)",
        "Stats!A3": "=RiskStdDev(Model!B1)",
        "Stats!A4": "=RiskTarget(Model!B1, 0.5)",
        "Stats!A5": "=RiskMax(Model!B1)",
        "Stats!A6": "=RiskMean(Model!D1)",
        "Stats!A7": "=RiskSkewness(Model!B1)",  # not computed: not a number we guess
    }
    cells.update(extra or {})
    return save_book(tmp_path / "stats.xlsx", cells)


def test_statistics_cells_are_computed_after_the_run(tmp_path: Path) -> None:
    res = simulate(
        _book(tmp_path),
        inputs={"Model!A1": "uniform(0, 1)"},
        outputs=["Model!B1"],
        iterations=20_000,
        seed=2,
    )
    stats = {s["cell"]: s for s in res.summary["statistics"]}
    assert list(stats) == [f"Stats!A{i}" for i in range(1, 7)]  # workbook order
    x = res.outputs["Model!B1"]
    # by definition, from the run's own values
    assert stats["Stats!A1"]["value"] == pytest.approx(np.mean(x), rel=1e-12)
    assert stats["Stats!A3"]["value"] == pytest.approx(np.std(x, ddof=1), rel=1e-12)
    assert stats["Stats!A5"]["value"] == np.max(x)
    # and against the distribution, uniform(0, 2), within a few standard errors
    assert stats["Stats!A1"]["value"] == pytest.approx(1.0, abs=0.02)
    assert stats["Stats!A2"]["value"] == pytest.approx(1.8, abs=0.03)
    assert stats["Stats!A3"]["value"] == pytest.approx(2 / np.sqrt(12), abs=0.02)
    assert stats["Stats!A4"]["value"] == pytest.approx(0.25, abs=0.015)
    assert stats["Stats!A6"]["value"] == pytest.approx(10.5, abs=0.01)
    assert stats["Stats!A6"]["of"] == "Model!D1"
    assert "Model!D1" in res.summary["outputs"], "the described cell is simulated too"
    assert stats["Stats!A2"]["function"] == "RISKPERCENTILE"
    assert stats["Stats!A2"]["formula"] == "=RiskPercentile(Model!B1, 0.9)"


def test_a_statistic_of_a_sheet_that_does_not_exist_is_not_computed(tmp_path: Path) -> None:
    book = _book(tmp_path, {"Stats!A8": "=RiskMean(Nowhere!B1)"})
    res = simulate(book, inputs={"Model!A1": "uniform(0, 1)"}, outputs=["Model!B1"], iterations=50)
    assert "Stats!A8" not in [s["cell"] for s in res.summary["statistics"]]


def test_a_percentile_outside_0_1_is_null_not_a_guess(tmp_path: Path) -> None:
    book = _book(tmp_path, {"Stats!A2": "=RiskPercentile(Model!B1, 90)"})
    res = simulate(book, inputs={"Model!A1": "uniform(0, 1)"}, outputs=["Model!B1"], iterations=100)
    (p90,) = [s for s in res.summary["statistics"] if s["cell"] == "Stats!A2"]
    assert p90["value"] is None


def test_a_formula_of_one_iteration_cannot_read_a_statistic(tmp_path: Path) -> None:
    book = _book(tmp_path, {"Model!C1": "=B1-Stats!A1"})
    with pytest.raises(InputError) as exc:
        simulate(book, inputs={"Model!A1": "uniform(0, 1)"}, outputs=["Model!C1"], iterations=10)
    assert exc.value.code == "unsupported_function"
    assert "RISKMEAN" in exc.value.message and "Stats!A1" in exc.value.message


def test_risk_simtable_takes_the_value_of_the_jobs_simulation() -> None:
    from montesim.jobs.service import run_now

    cells = {
        "M!A1": "=RiskSimtable({0.05, 0.07, 0.09})",
        "M!A2": "=RiskUniform(0, 1)",
        "M!B1": '=RiskOutput("rate") + A1 + 0 * A2',
    }
    rates = []
    for simulation in (1, 3):
        spec = {"cells": cells, "iterations": 50, "seed": 1, "simulation": simulation}
        outcome = run_now("excel", spec)
        assert outcome.job.status.value == "complete", outcome.job
        summary = outcome.result.summary
        rates.append(summary["outputs"]["rate"]["mean"])
        (warning,) = [w for w in summary["warnings"] if w["code"] == "simulation_table"]
        assert f"simulation {simulation}" in warning["message"]
    assert rates == pytest.approx([0.05, 0.09])
    spec = {"cells": cells, "iterations": 10, "simulation": 4}  # the table has 3 values
    outcome = run_now("excel", spec)
    assert outcome.result.summary["outputs"]["rate"]["errors"] == {"#REF!": 10}
