"""What is in a workbook: sheets, formulas, @RISK inputs and outputs, unsupported functions.

A static scan of the parsed formulas: nothing is evaluated, so it is quick even on
workbooks that have circular references.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from montesim.engines.excel.compiler import SPECIAL_FUNCTIONS
from montesim.engines.excel.functions import get_function
from montesim.engines.excel.functions.numfmt import comma_decimal_format
from montesim.engines.excel.inputs import RISK_PROPERTIES, risk_family
from montesim.engines.excel.model import risk_outputs
from montesim.engines.excel.parser import (
    Call,
    Num,
    ParseError,
    RefText,
    Str,
    Unary,
    parse,
    walk,
)
from montesim.engines.excel.randoms import RANDOM_FUNCTIONS, RISK_STATISTICS, random_draw
from montesim.engines.excel.reader import Workbook
from montesim.engines.excel.refs import address
from montesim.engines.excel.warnings import comma_decimal_warnings


def inspect_workbook(book: Workbook) -> dict[str, Any]:
    sheets = []
    inputs = []
    statistics: list[dict[str, str]] = []
    used: Counter[str] = Counter()
    unsupported: dict[str, list[str]] = {}
    parse_errors: dict[str, str] = {}
    comma_formats: dict[str, str] = {}  # cell -> a TEXT format written with a decimal comma
    total = 0
    for sheet in book.sheets.values():
        if sheet.external:
            continue
        formulas = 0
        for (r, c), cd in sorted(sheet.cells.items()):
            if cd.formula is None:
                continue
            formulas += 1
            cell = address(sheet.name, r, c)
            try:
                ast = parse(cd.formula)
            except ParseError as exc:
                parse_errors[cell] = str(exc)
                continue
            seen: set[str] = set()
            skip: set[int] = set()  # the RAND() inside NORM.INV(RAND(), ...), listed once
            for node in walk(ast):
                if not isinstance(node, Call) or id(node) in skip:
                    continue
                name = node.name
                used[name] += 1
                fmt = node.args[1] if name == "TEXT" and len(node.args) > 1 else None
                if isinstance(fmt, Str) and comma_decimal_format(str(fmt.value)):
                    comma_formats[cell] = str(fmt.value)
                drawn = random_draw(node)
                if drawn is not None:
                    inputs.append(
                        {
                            "cell": cell,
                            "function": name,
                            "family": drawn,
                            "name": None,
                            "formula": cd.formula,
                        }
                    )
                    if name != "RAND":
                        skip.update(id(a) for a in node.args[:1])
                    continue
                if name in RISK_STATISTICS:
                    statistics.append({"cell": cell, "function": name, "formula": cd.formula})
                    continue
                family = risk_family(name)
                if family is not None:
                    inputs.append(
                        {
                            "cell": cell,
                            "function": name,
                            "family": family,
                            "name": _risk_name(node),
                            "formula": cd.formula,
                            "static": _static_value(node),
                        }
                    )
                    # RiskStatic(v) here is the input's value outside a simulation, not a
                    # statistics cell: the cell is listed once, as this input
                    skip.update(id(a) for a in node.args if _is_call(a, "RISKSTATIC"))
                elif not _known(name) and name not in seen:
                    unsupported.setdefault(name, []).append(cell)
                seen.add(name)
        total += formulas
        entry: dict[str, Any] = {
            "name": sheet.name,
            "cells": len(sheet.cells),
            "formulas": formulas,
        }
        if sheet.add_in is not None:
            entry["add_in"] = sheet.add_in  # read as saved values, not part of the model
        sheets.append(entry)
    return {
        "source": book.source,
        "sheets": sheets,
        "formula_count": total,
        "inputs": inputs,
        "outputs": [{"cell": cell, "name": name} for _, cell, name in risk_outputs(book)],
        "statistics": statistics,
        "links": [
            {
                "index": n,
                "workbook": target,
                "sheets": [s.name for s in book.sheets.values() if s.name.startswith(f"[{n}]")],
            }
            for n, target in sorted(book.links.items())
        ],
        "tables": [
            {"name": t.name, "range": str(t.area), "columns": list(t.columns)}
            for t in book.tables.values()
        ],
        "iterative_calculation": book.iterate,
        "defined_names": len(book.names),
        "unsupported": dict(sorted(unsupported.items())),
        "parse_errors": parse_errors,
        "functions": dict(sorted(used.items())),
        # formats given as text in the formula; verify also sees those read from cells
        "warnings": comma_decimal_warnings(comma_formats),
    }


def _known(name: str) -> bool:
    return (
        get_function(name) is not None
        or name in SPECIAL_FUNCTIONS
        or name in RISK_PROPERTIES
        or name in RANDOM_FUNCTIONS
    )


def _is_call(node: object, name: str) -> bool:
    return isinstance(node, Call) and node.name == name


def _static_value(node: Call) -> float | str | None:
    """The value a distribution's RiskStatic(...) gives outside a simulation: a number, a
    reference as written (``B7``), or None (no RiskStatic, or an expression)."""
    for arg in node.args:
        if _is_call(arg, "RISKSTATIC") and arg.args:
            first = arg.args[0]
            if isinstance(first, Num):
                return float(first.value)
            if isinstance(first, Unary) and first.op == "-" and isinstance(first.operand, Num):
                return -float(first.operand.value)
            if isinstance(first, RefText):
                return first.text
    return None


def _risk_name(node: Call) -> str | None:
    for arg in node.args:
        if isinstance(arg, Call) and arg.name == "RISKNAME" and arg.args:
            first = arg.args[0]
            if isinstance(first, Str):
                return str(first.value)
    return None
