"""Outputs with error trials carry a warning: share, error type and the first cell."""

from __future__ import annotations

import numpy as np
import pytest

import montesim

MODEL = {
    "M!B1": '=RiskUniform(0, 1, RiskName("U"))',
    "M!B2": "=IF(B1<0.3, NA(), B1)",
    "M!B3": "=B2*10",
    "M!B4": '=RiskOutput("Value") + B3 + 1',
    "M!C1": "=LN(B1-2)",
    "M!C2": '=RiskOutput("All NUM") + C1 * 2',
    "M!D1": '=RiskOutput("Clean") + B1 * 3',
}


@pytest.fixture(scope="module")
def result() -> montesim.SimulationResult:  # type: ignore[name-defined]
    return montesim.simulate(MODEL, iterations=4_000, seed=3, raw_iterations=1_000)


def by_output(result) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for w in result.summary["warnings"]:
        if "output" in w:
            out.setdefault(w["output"], []).append(w)
    return out


def test_partial_errors_name_share_error_and_first_cell(result) -> None:
    warned = by_output(result)
    (value,) = warned["Value"]
    na_trials = result.summary["outputs"]["Value"]["errors"]["#N/A"]
    assert value["error"] == "#N/A" and value["code"] == "output_errors"
    assert value["trials"] == na_trials and value["share"] == pytest.approx(na_trials / 4_000)
    assert 0.25 < value["share"] < 0.35
    assert value["origin"] == "M!B2"  # not B3 or B4, which only pass the error on
    assert value["location"] == "M!B4"
    assert "first produced by M!B2" in value["message"] and "#N/A" in value["message"]
    assert f"{round(100 * value['share'])}% of trials" in value["message"]


def test_every_trial_an_error_says_so(result) -> None:
    (num,) = by_output(result)["All NUM"]
    assert num["code"] == "output_all_errors" and num["share"] == 1.0
    assert num["error"] == "#NUM!" and num["origin"] == "M!C1"
    assert num["message"].startswith("every trial of output All NUM")


def test_clean_output_has_no_warning(result) -> None:
    assert "Clean" not in by_output(result)


def test_origin_unknown_outside_the_raw_window() -> None:
    # errors only after the kept window: the share is reported, the cell is not guessed
    model = {
        "M!B1": '=RiskUniform(0, 1, RiskName("U"))',
        "M!B2": '=RiskOutput("Late") + IF(B1 > 0.999, NA(), B1)',
    }
    res = montesim.simulate(model, iterations=20_000, seed=1, raw_iterations=1)
    codes_trials = res.summary["outputs"]["Late"]["error_trials"]
    warned = by_output(res).get("Late", [])
    assert codes_trials > 0 and len(warned) == 1
    first_kept_is_error = bool(np.isnan(res.outputs["Late"][0]))
    assert warned[0]["origin"] == ("M!B2" if first_kept_is_error else None)
