"""The parameter rules functions declare where they are registered (issue 26)."""

from __future__ import annotations

import pytest

from montesim.engines.excel.compiler import Compiler
from montesim.engines.excel.functions import REGISTRY, get_function
from montesim.engines.excel.functions.registry import ALL, NONE, FunctionSpec, params
from montesim.engines.excel.reader import inline_workbook
from montesim.engines.excel.values import Value


def test_parameter_sets() -> None:
    sumifs = params(0, every=(1, 2))  # SUMIFS' ranges: the sum range, then every other one
    assert [i for i in range(8) if i in sumifs] == [0, 1, 3, 5, 7]
    assert 3 in ALL and 3 not in NONE and not NONE
    assert (params(1) | params(every=(4, 2))).at == frozenset({1})
    with pytest.raises(ValueError, match="repeated"):
        params(every=(0, 2)) | params(every=(1, 2))


def test_rules_are_declared_with_the_functions() -> None:
    sumif = get_function("SUMIF")
    assert sumif is not None
    assert 1 in sumif.values and 0 in sumif.ranges and 2 in sumif.ranges
    match = get_function("MATCH")
    assert match is not None and 0 in match.values and 1 in match.ranges
    iff = get_function("IF")
    assert iff is not None and 0 in iff.values and 1 in iff.passes and 2 in iff.passes
    xl = get_function("XLOOKUP")
    assert xl is not None and xl.empty_is_omitted


def test_a_bug_in_a_function_is_reported_not_shown_as_value_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(ctx: object, x: Value) -> Value:
        raise TypeError("a bug")

    monkeypatch.setitem(REGISTRY, "ZZBROKEN", FunctionSpec("ZZBROKEN", broken, 1, 1))
    comp = Compiler(inline_workbook({"Sheet1!A1": "=ZZBROKEN(1)"}), static=True)
    comp.compile([("SHEET1", 1, 1)])
    assert "internal error: TypeError: a bug" in comp.issues.errors["Sheet1!A1"]
