"""The engine's fast paths give the same bits as the plain NumPy they replace: the
branch-free select behind IF, lookups in small sorted tables by comparisons, and one
``take`` from a constant table (VLOOKUP's fixed column)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from montesim.engines.excel.draws import draw_inputs
from montesim.engines.excel.engine import ExcelEngine, run_trials
from montesim.engines.excel.functions.lookup import SMALL_TABLE, gather
from montesim.engines.excel.values import SELECT_MIN, Value, select
from montesim.heap import keep_freed_memory, release_free_memory, return_large_blocks

specials = st.sampled_from([0.0, -0.0, 1.0, -1.5, np.inf, -np.inf, np.nan, 5e-324, 1e308])
floats = st.floats(allow_nan=True, allow_infinity=True) | specials


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.int64)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    a_const=floats,
    b_const=floats,
    shape=st.sampled_from(["full", "a_scalar", "b_scalar", "cond_scalar"]),
)
def test_select_is_np_where_bit_for_bit(seed, a_const, b_const, shape) -> None:
    rng = np.random.default_rng(seed)
    n = SELECT_MIN * 2
    cond = rng.random((n, 1, 1)) < 0.5
    a = rng.normal(size=(n, 1, 1))
    b = rng.normal(size=(n, 1, 1))
    a[::7] = a_const
    b[::5] = b_const
    if shape == "a_scalar":
        a = np.full((1, 1, 1), a_const)
    elif shape == "b_scalar":
        b = np.full((1, 1, 1), b_const)
    elif shape == "cond_scalar":
        cond = np.ones((1, 1, 1), bool)
    got = select(cond, a, b)
    want = np.where(cond, a, b)
    assert got.shape == want.shape
    assert np.array_equal(bits(got), bits(want))


def test_select_keeps_negative_zero_in_the_branch_not_taken() -> None:
    cond = np.arange(SELECT_MIN * 2) % 2 == 0
    a = np.ones(cond.size)
    for b in (np.array([-0.0]), np.array([0.0])):
        assert np.array_equal(bits(select(cond, a, b)), bits(np.where(cond, a, b)))


@settings(max_examples=60, deadline=None)
@given(
    table=st.lists(st.integers(-50, 50), min_size=1, max_size=SMALL_TABLE + 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_approximate_vlookup_in_a_sorted_table_is_searchsorted(table, seed) -> None:
    """Small (comparisons) and larger (binary search) tables, ties included: VLOOKUP's
    row is the last entry <= the key, #N/A below the first."""
    keys = sorted(table)
    cells = {"M!X1": "=RiskUniform(-60, 60)"}
    for i, k in enumerate(keys, start=1):
        cells[f"M!A{i}"] = k
        cells[f"M!B{i}"] = i * 10
    cells["M!C1"] = f"=VLOOKUP(X1, A1:B{len(keys)}, 2, TRUE)"
    plan = ExcelEngine().validate(
        {"cells": cells, "outputs": ["M!C1"], "iterations": 4096, "seed": seed % 1000}, {}
    )
    part = run_trials(plan, 0, 4096)
    x = draw_inputs(plan, 0, 4096)[:, 0]
    row = np.searchsorted(np.array(keys, float), x, side="right") - 1
    want = np.where(row >= 0, (row + 1) * 10.0, np.nan)
    assert np.array_equal(part.values[0], want, equal_nan=True)
    codes = part.codes[0] if part.codes is not None else np.zeros(4096, np.int8)
    assert np.array_equal(codes != 0, row < 0)


def test_gather_from_a_constant_table_matches_fancy_indexing() -> None:
    rng = np.random.default_rng(3)
    num = rng.normal(size=(1, 5, 3))
    kind = np.zeros((1, 5, 3), np.int8)
    kind[0, 2, 1] = 3
    text = np.full((1, 5, 3), None, object)
    text[0, 2, 1] = "x"
    v = Value(num, kind, None, text)
    rows = rng.integers(0, 5, 1000)
    for col in range(3):
        got = gather(v, rows, np.array([col]))
        assert np.array_equal(got.num[:, 0, 0], num[0, rows, col])
        assert np.array_equal(got.kind[:, 0, 0], kind[0, rows, col])
        assert list(got.text[:, 0, 0]) == list(text[0, rows, col])
    got = gather(v, np.array([4]), rows % 3)  # a fixed row (HLOOKUP's)
    assert np.array_equal(got.num[:, 0, 0], num[0, 4, rows % 3])


def test_irr_skips_trials_without_a_sign_change_and_keeps_the_others() -> None:
    """IRR over random flows: trials whose flows never change sign are #NUM! without a
    search, the others get the rate each one gets when computed alone."""
    cells = {
        "M!A1": "=RiskUniform(-150, 20)",  # mostly an outlay, sometimes an inflow
        "M!A2": "=RiskUniform(10, 60)",
        "M!A3": "=RiskUniform(10, 90)",
        "M!B1": "=IRR(A1:A3)",
    }
    plan = ExcelEngine().validate(
        {"cells": cells, "outputs": ["M!B1"], "iterations": 4096, "seed": 4}, {}
    )
    part = run_trials(plan, 0, 4096)
    flows = draw_inputs(plan, 0, 4096)
    no_change = flows[:, 0] > 0
    assert 0 < no_change.sum() < 4096
    codes = part.codes[0]
    assert (codes[no_change] == 6).all() and np.isnan(part.values[0][no_change]).all()
    for t in np.flatnonzero(~no_change)[:40]:
        alone = {**cells, **{f"M!A{k + 1}": float(flows[t, k]) for k in range(3)}}
        one = ExcelEngine().validate(
            {"cells": alone, "outputs": ["M!B1"], "iterations": 1, "seed": 1}, {}
        )
        got = run_trials(one, 0, 1)
        assert got.values[0][0] == part.values[0][t] or (
            np.isnan(got.values[0][0]) and np.isnan(part.values[0][t])
        )
        npv = sum(flows[t, k] / (1 + part.values[0][t]) ** k for k in range(3))
        assert np.isnan(part.values[0][t]) or abs(npv) < 1e-6 * np.abs(flows[t]).sum()


def test_heap_thresholds_apply_here() -> None:
    """glibc takes both settings (this project runs on Linux with glibc); the test
    process ends with the main process's."""
    assert keep_freed_memory() is True
    assert return_large_blocks() is True
    assert release_free_memory() is True


def test_sum_max_min_of_a_range_of_random_cells_as_if_the_range_were_built() -> None:
    """SUM/MAX/MIN read a range of per-trial cells without building it: the numbers are
    NumPy's reduction of the built (cell-major) range, bit for bit; a range read by
    another function too, or holding a constant, still works."""
    n = 40
    cells = {f"M!A{i}": f"=RiskNormal(0, {10.0 ** (i % 9 - 4)})" for i in range(1, n + 1)}
    cells.update(
        {
            "M!B1": f"=SUM(A1:A{n})",
            "M!B2": f"=MAX(A1:A{n})",
            "M!B3": f"=MIN(A1:A{n}, -1)",
            "M!B4": f"=SUM(A1:A{n}, 2, A3)",
            "M!B5": f'=SUMIF(A1:A{n}, ">0") + SUM(A1:A{n})',  # built once for SUMIF
            "M!C1": 7,
            "M!B6": f"=SUM(A1:A{n}, C1:C1, A2:A{n})",
        }
    )
    outs = [f"M!B{k}" for k in range(1, 7)]
    plan = ExcelEngine().validate({"cells": cells, "outputs": outs, "iterations": 8192}, {})
    part = run_trials(plan, 0, 8192)
    x = np.ascontiguousarray(draw_inputs(plan, 0, 8192).T)  # (cells, trials)
    built = x.T  # the cell-major (trials, cells) view a built range is
    sums = np.add.reduce(built, axis=1)
    np.testing.assert_array_equal(part.values[0], sums)
    np.testing.assert_array_equal(part.values[1], np.maximum.reduce(built, axis=1))
    np.testing.assert_array_equal(part.values[2], np.minimum(np.minimum.reduce(built, axis=1), -1))
    np.testing.assert_array_equal(part.values[3], (sums + 2) + x[2])
    positive = np.where(built > 0, built, 0.0).sum(axis=1)
    np.testing.assert_allclose(part.values[4], positive + sums, rtol=1e-12)
    np.testing.assert_array_equal(part.values[5], (sums + 7) + np.add.reduce(built[:, 1:], axis=1))


@pytest.mark.parametrize("criterion", ["2", '">=2"', '"<>2"', "9", '">0"'])
def test_sumif_of_a_range_of_random_cells_as_if_the_range_were_built(criterion: str) -> None:
    """SUMIF with a fixed criteria row over a row of per-trial cells (a DCF's annual sum
    of monthly lines) adds the cells in the criteria without building the row: the same
    numbers as the built row's SUMIF (none, some or every cell picked)."""
    n = 24
    cells = {}
    for j in range(n):
        col = chr(ord("A") + j)
        cells[f"M!{col}1"] = j // 12 + 1  # the year of each month
        cells[f"M!{col}2"] = f"=RiskNormal(0, {10.0 ** (j % 7 - 3)})"
    cells["M!A3"] = f"=SUMIF(A1:X1, {criterion}, A2:X2)"
    plan = ExcelEngine().validate({"cells": cells, "outputs": ["M!A3"], "iterations": 8192}, {})
    part = run_trials(plan, 0, 8192)
    x = np.ascontiguousarray(draw_inputs(plan, 0, 8192).T)  # (cells, trials)
    built = x.T.reshape(8192, 1, n)  # the cell-major range
    years = np.arange(n) // 12 + 1
    pick = {"2": years == 2, '">=2"': years >= 2, '"<>2"': years != 2, "9": years == 9}.get(
        criterion, years > 0
    )
    want = np.where(pick.reshape(1, 1, n), built, 0.0).reshape(8192, -1).sum(axis=1)
    np.testing.assert_array_equal(part.values[0], want)
    assert np.array_equal(np.signbit(part.values[0]), np.signbit(want))


def test_final_subtraction_snaps_a_residue_among_many_trials() -> None:
    """The residue test's one bound for all trials never hides a residue: among 1,000
    trials of large differences, the one that is 0.1 + 0.2 - 0.3 still shows 0."""
    from montesim.engines.excel.functions.operators import SNAP_BOUND_MIN, sub_final

    n = max(1000, SNAP_BOUND_MIN)
    x = np.full((n, 1, 1), 1e6)
    y = np.ones((n, 1, 1))
    x[500], y[500] = 0.1 + 0.2, 0.3
    out = sub_final(None, Value(x), Value(y)).num
    assert out[500, 0, 0] == 0.0 and (0.1 + 0.2) - 0.3 != 0.0
    assert (np.delete(out.reshape(-1), 500) == 1e6 - 1).all()
    # no residue anywhere: the bound alone decides, and nothing changes
    far = sub_final(None, Value(x[:400]), Value(y[:400])).num
    assert (far == 1e6 - 1).all()


def test_the_residue_test_zeroes_exactly_the_residues_whatever_the_operands() -> None:
    """Results near 0 among large ones (a balance crossing zero), operands per trial or
    constant: the final + and - zero exactly the results that the plain element-wise
    rule does, |x + y| <= 2^-49 max(|x|, |y|), and nothing else."""
    from montesim.engines.excel.functions.operators import add_final, sub_final

    rng = np.random.default_rng(7)
    n = 4096
    for trial in range(40):
        x = rng.normal(0, 1e6, (n, 1, 1))
        y = -x + rng.choice([0.0, 1e-12, 1e-3, 1.0], (n, 1, 1)) * rng.normal(size=(n, 1, 1))
        if trial % 4 == 1:
            y = np.array([[[-x[3, 0, 0]]]])  # a constant operand, broadcast
        if trial % 4 == 2:
            x, y = np.array([[[0.1 + 0.2]]]), np.where(rng.random((n, 1, 1)) < 0.5, -0.3, 5.0)
        for fn, op in ((add_final, np.add), (sub_final, np.subtract)):
            yy = y if op is np.add else -y
            raw = op(x, yy)
            scale = np.maximum(np.abs(x), np.abs(yy)) * 2.0**-49
            want = np.where((np.abs(raw) <= scale) & (raw != 0), 0.0, raw)
            got = fn(None, Value(x), Value(yy)).num
            np.testing.assert_array_equal(got, want)
            assert np.array_equal(np.signbit(got), np.signbit(want))


def test_division_and_power_errors_where_the_operands_call_for_them() -> None:
    """#DIV/0! for x/0 and 0^negative, #NUM! for 0^0, whether the divisor or the exponent
    is a constant or varies by trial (zeros are looked for before broadcasting)."""
    from montesim.engines.excel.functions.operators import div, power
    from montesim.engines.excel.values import DIV0, NUMERR

    n = 8192
    x = np.where(np.arange(n) % 4 == 0, 0.0, 2.0).reshape(-1, 1, 1)
    codes = div(None, Value(np.ones((n, 1, 1))), Value(x)).err.reshape(-1)
    assert np.array_equal(codes == DIV0, x.reshape(-1) == 0)
    assert div(None, Value(x), Value(np.array([[[4.0]]]))).err is None
    assert (div(None, Value(x), Value(np.array([[[0.0]]]))).err == DIV0).all()
    for exponent, code in ((-1.0, DIV0), (0.0, NUMERR)):
        err = power(None, Value(x), Value(np.array([[[exponent]]]))).err.reshape(-1)
        assert (
            np.array_equal(err == code, x.reshape(-1) == 0) and not (err[x.reshape(-1) != 0]).any()
        )
    assert power(None, Value(x + 1), Value(np.array([[[-1.0]]]))).err is None


def test_a_scalar_value_is_built_as_from_grid_builds_it() -> None:
    """``from_py`` (every constant a formula holds) builds its one element directly: the
    same arrays, kinds, errors and text as ``from_grid([[x]])``."""
    import datetime

    from montesim.engines.excel.values import XlError, from_grid, from_py

    cases = [0, 1, -2.5, 1e300, float("nan"), float("inf"), True, False, None, "", "abc"]
    cases += ["TRUE", XlError(7), XlError(2), datetime.date(2020, 1, 2), np.float64(3)]
    cases += [np.int64(4), np.bool_(True), 10**20]
    for x in cases:
        got, want = from_py(x), from_grid([[x]])
        for field in ("num", "kind", "err", "text"):
            a, b = getattr(got, field), getattr(want, field)
            assert (a is None) == (b is None), (x, field)
            if a is not None:
                assert a.dtype == b.dtype and a.shape == b.shape == (1, 1, 1), (x, field)
                assert a[0, 0, 0] == b[0, 0, 0] or (a[0, 0, 0] != a[0, 0, 0]), (x, field)
        assert got.is_ref == want.is_ref


def test_a_program_pickles_column_by_column_and_loads_back_the_same() -> None:
    """A Program pickles its ops as columns and its one-cell numbers as one array: it
    loads back with the same ops and, for every constant, the same arrays (dtype and
    shape included), kinds, errors, text and reference flag."""
    import pickle

    from montesim.engines.excel.program import Op, Program
    from montesim.engines.excel.values import XlError, from_grid, from_py

    consts = [from_py(x) for x in (1.5, -0.0, 1e300, "abc", True, None, XlError(7))]
    consts += [from_py(2.0).with_ref(True), from_grid([[1, 2], [3, "x"]])]
    consts += [Value(np.array([[[3]]])), Value(np.arange(4.0).reshape(4, 1, 1))]
    ops = [Op("+", 0, (("c", 0), ("c", 7))), Op("@fill", 1, (), None, ("S", 2, 3))]
    program = Program(ops, consts, 2)
    back = pickle.loads(pickle.dumps(program, protocol=pickle.HIGHEST_PROTOCOL))
    assert back.ops == ops and back.n_slots == 2 and len(back.consts) == len(consts)
    for got, want in zip(back.consts, consts, strict=True):
        for field in ("num", "kind", "err", "text"):
            a, b = getattr(got, field), getattr(want, field)
            assert (a is None) == (b is None), field
            if a is not None:
                assert a.dtype == b.dtype and a.shape == b.shape, field
                assert a.tolist() == b.tolist(), field
        assert got.is_ref == want.is_ref


def test_plans_load_with_the_cycle_collector_paused_and_restored() -> None:
    """Ops pickled and loaded with ``loads_paused`` come back equal; the cycle collector is
    paused while a plan loads and comes back as it was (on, or off if it was off)."""
    import gc
    import pickle

    from montesim.engines.excel.program import Op
    from montesim.heap import gc_paused, loads_paused

    ops = [
        Op("+", 3, (("s", 1), ("c", 0))),
        Op("@input", 0, (), 2),
        Op("F", 1, (), None, ("S", 1, 2)),
    ]
    _SEEN.clear()

    class Probe:
        def __reduce__(self):
            return (_collector_state, ())

    back = loads_paused(pickle.dumps((ops, Probe())))
    assert back[0] == ops and _SEEN == [False] and gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


_SEEN: list[bool] = []  # the collector's state while a pickle loads


def _collector_state() -> None:
    import gc

    _SEEN.append(gc.isenabled())
