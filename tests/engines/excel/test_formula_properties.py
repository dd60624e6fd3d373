"""Property tests: no formula, however odd, makes verify, inspect or validate raise.

Formulas come from a small grammar of Excel expressions and from real model formulas
with arguments removed, swapped, emptied or duplicated (the `=IF(,1,2)` kind that once
aborted a whole verify).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from montesim.engines.base import InputError
from montesim.engines.excel.inspect import inspect_workbook
from montesim.engines.excel.model import build_plan
from montesim.engines.excel.parser import (
    ArrayLit,
    Binary,
    Bool,
    Call,
    Err,
    Missing,
    Name,
    Node,
    Num,
    ParseError,
    Postfix,
    RefText,
    Str,
    Unary,
    parse,
)
from montesim.engines.excel.reader import inline_workbook
from montesim.engines.excel.spec import parse_spec
from montesim.engines.excel.values import ERROR_TEXT
from montesim.engines.excel.verify import verify

REAL = [
    "=IF(B2>0,SUM(A1:A5)/B2,0)",
    "=INDEX(A1:C5,MATCH(B3,B1:B5,0),2)",
    "=VLOOKUP(A2,A1:C5,3,FALSE)",
    "=SUMPRODUCT((A1:A5>2)*(B1:B5))",
    '=IFERROR(NPV(0.1,A1:A5)-B1,"n/a")',
    "=NORM.INV(RAND(),A1,B1)",
    "=RANDBETWEEN(1,6)+RiskNormal(10,2)",
    '=TEXTJOIN(",",TRUE,A1:A5)',
    '=SUMIFS(B1:B5,A1:A5,">"&C1,C1:C5,"<>x")',
    "=OFFSET(A1,1,1,2,2)",
    '=INDIRECT("A"&ROW())',
    "=PMT(A1/12,B1*12,-C1)",
    "=ROUND(AVERAGE(A1:A5)*1.1,2)",
    '=CHOOSE(2,A1,B1,C1)&TEXT(A1,"0.00")',
    "=MAX(MIN(A1:A5),-B2)^2%",
    "=XLOOKUP(A1,A1:A5,B1:B5,,0)",
    '=COUNTIF(A1:C5,"*a*")',
    "=IRR({-100,30,40,50})",
    "=DATE(2024,A1,1)+EOMONTH(45000,B1)",
    "=AND(A1>0,OR(B1<1,NOT(C1)))",
]
FUNCTIONS = [
    "SUM", "IF", "INDEX", "MATCH", "VLOOKUP", "OFFSET", "INDIRECT", "ROUND", "TEXT", "NPV",
    "IRR", "SUMIF", "COUNTIFS", "CHOOSE", "IFERROR", "RAND", "RANDBETWEEN", "RANDARRAY",
    "NORM.INV", "RISKNORMAL", "RISKDISCRETE", "ROW", "COLUMNS", "MMULT", "TRANSPOSE",
    "LEFT", "MID", "DATE", "AND", "NOT", "XLOOKUP", "SUMPRODUCT", "ISREF", "NOSUCHFN",
]  # fmt: skip


def unparse(node: Node) -> str:
    """Formula text of an AST (enough for the nodes the parser builds)."""
    if isinstance(node, Num):
        return repr(node.value)
    if isinstance(node, Str):
        return '"' + node.value.replace('"', '""') + '"'
    if isinstance(node, Bool):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, Err):
        return ERROR_TEXT[node.code]
    if isinstance(node, Missing):
        return ""
    if isinstance(node, RefText):
        return node.text
    if isinstance(node, Name):
        return node.name if node.sheet is None else f"{node.sheet}!{node.name}"
    if isinstance(node, Unary):
        return node.op + unparse(node.operand)
    if isinstance(node, Postfix):
        return unparse(node.operand) + node.op
    if isinstance(node, Binary):
        op = node.op if node.op != "," else ","
        return f"({unparse(node.left)}{op}{unparse(node.right)})"
    if isinstance(node, Call):
        return f"{node.name}({','.join(unparse(a) for a in node.args)})"
    if isinstance(node, ArrayLit):
        return "{" + ";".join(",".join(unparse(x) for x in row) for row in node.rows) + "}"
    raise AssertionError(type(node))


@st.composite
def mutated(draw: Any) -> str:
    """A real formula with one function's arguments removed, swapped, emptied or doubled."""
    ast = parse(draw(st.sampled_from(REAL)))

    def calls(n: Node) -> list[Call]:
        out = [n] if isinstance(n, Call) else []
        for child in _children(n):
            out.extend(calls(child))
        return out

    found = calls(ast)
    target = draw(st.sampled_from(found)) if found else None

    def change(n: Node) -> Node:
        if n is target and isinstance(n, Call):
            args = list(n.args)
            how = draw(st.sampled_from(["remove", "swap", "empty", "double", "none"]))
            if how == "none" or not args:
                return Call(n.name, ())
            i = draw(st.integers(0, len(args) - 1))
            if how == "remove":
                del args[i]
            elif how == "swap":
                j = draw(st.integers(0, len(args) - 1))
                args[i], args[j] = args[j], args[i]
            elif how == "empty":
                args[i] = Missing()
            else:
                args.insert(i, args[i])
            return Call(n.name, tuple(args))
        return _rebuild(n, [change(c) for c in _children(n)])

    return "=" + unparse(change(ast))


def _children(n: Node) -> list[Node]:
    if isinstance(n, Unary | Postfix):
        return [n.operand]
    if isinstance(n, Binary):
        return [n.left, n.right]
    if isinstance(n, Call):
        return list(n.args)
    return []


def _rebuild(n: Node, kids: list[Node]) -> Node:
    if isinstance(n, Unary):
        return Unary(n.op, kids[0])
    if isinstance(n, Postfix):
        return Postfix(n.op, kids[0])
    if isinstance(n, Binary):
        return Binary(n.op, kids[0], kids[1])
    if isinstance(n, Call):
        return Call(n.name, tuple(kids))
    return n


def _grammar() -> st.SearchStrategy[str]:
    leaf = st.one_of(
        st.integers(-5, 5).map(str),
        st.sampled_from(["0.5", "1E+300", '"x"', '""', "TRUE", "#N/A", "#DIV/0!", ""]),
        st.sampled_from(["A1", "B2", "A1:C5", "$A$1:$A$5", "C:C", "1:1", "Sheet1!B1"]),
        st.sampled_from(["NoSuchName", "Rate", "{1,2;3,4}", "A1:B2 B1:C3"]),
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        call = st.tuples(st.sampled_from(FUNCTIONS), st.lists(inner, min_size=0, max_size=4)).map(
            lambda t: f"{t[0]}({','.join(t[1])})"
        )
        binary = st.tuples(inner, st.sampled_from(list("+-*/^&=<>") + ["<>", ":"]), inner).map(
            lambda t: f"{t[0]}{t[1]}{t[2]}"
        )
        unary = inner.map(lambda x: f"-{x}")
        paren = inner.map(lambda x: f"({x})")
        return st.one_of(call, binary, unary, paren)

    return st.recursive(leaf, extend, max_leaves=8).map(lambda x: "=" + x)


def _book(formula: str) -> Any:
    return inline_workbook(
        {
            "Sheet1!A1": 1,
            "Sheet1!A2": 2.5,
            "Sheet1!A3": "abc",
            "Sheet1!A4": True,
            "Sheet1!A5": 4,
            "Sheet1!B1": 2,
            "Sheet1!B2": "=A1*2",
            "Sheet1!B3": 3,
            "Sheet1!C1": 0.1,
            "Sheet1!D1": formula,
            "Sheet1!E1": "=D1+1",
        },
        {"Rate": "Sheet1!$C$1"},
    )


def _check(formula: str) -> None:
    book = _book(formula)
    rep = verify(book)
    assert rep.formula_cells == 3
    assert rep.compared + len(rep.random) == 3
    info = inspect_workbook(book)
    assert info["formula_count"] == 3
    spec = parse_spec({"cells": {}, "outputs": ["Sheet1!E1"], "iterations": 10})
    # a user error with a message is the right answer to a bad formula
    with contextlib.suppress(InputError):
        build_plan(spec, book)


SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(mutated())
def test_real_formulas_with_arguments_mangled_never_crash(formula: str) -> None:
    _check(formula)


@SETTINGS
@given(_grammar())
def test_formulas_from_the_grammar_never_crash(formula: str) -> None:
    _check(formula)


@pytest.mark.parametrize(
    "formula", ["=IF(,1,2)", '=TEXTJOIN(",",,A1:A5)', "=SUM(", "=((((", "=" + "(" * 400 + "1"]
)
def test_known_crashers(formula: str) -> None:
    _check(formula)


def test_if_with_an_empty_condition_is_false_as_in_excel() -> None:
    rep = verify(_book("=IF(,1,2)"))
    assert not rep.errors
    book = _book("=IF(,1,2)")
    from montesim.engines.excel.compiler import Compiler

    comp = Compiler(book, static=True)
    comp.compile([("SHEET1", 1, 4)], on_cycle="mark")
    assert comp.value_of(("SHEET1", 1, 4)).to_py() == 2.0


def test_parse_raises_only_parse_errors() -> None:
    for text in ["=SUM(1,", "={1,2;3}", "=A1:::B2", "=#NOPE!", '="unclosed', "=1 2"]:
        with contextlib.suppress(ParseError):
            parse(text)
