"""Check a job before it runs: everything that would stop it or make it meaningless.

The studio calls this while the user defines a model. Unlike ``build_plan``, which stops
at the first problem, it lists them all with their cells: unsupported functions
(volatile ``RAND()`` among them), circular references, formulas that do not parse,
outputs that depend on no random input, and random inputs that no output depends on.
When none of those is found, ``build_plan`` itself runs, so what passes here is what the
job's validation accepts.
"""

from __future__ import annotations

from typing import Any

from montesim.engines.excel.compiler import CellKey, Compiler, Const, SpecInput
from montesim.engines.excel.inspect import inspect_workbook
from montesim.engines.excel.model import build_plan, resolve_cell, risk_outputs, spec_input
from montesim.engines.excel.reader import Workbook
from montesim.engines.excel.refs import split_sheet
from montesim.engines.excel.sheetview import RANDOM_FUNCTIONS
from montesim.engines.excel.spec import ExcelSpec, InputSpec, OutputSpec, parse_spec
from montesim.errors import InputError


def _item(severity: str, code: str, message: str, cells: list[str] | None = None) -> dict[str, Any]:
    return {"severity": severity, "code": code, "message": message, "cells": cells or []}


def _from_error(exc: InputError) -> dict[str, Any]:
    cells = [exc.location] if exc.location and "!" in str(exc.location) else []
    item = _item("error", exc.code or "invalid_spec", exc.message, cells)
    if exc.location:
        item["location"] = exc.location
    return item


def check(spec: dict[str, Any], book: Workbook) -> dict[str, Any]:
    """``{ok, items, inputs, outputs}``: ok when no item is an error."""
    try:
        parsed = parse_spec(spec)
    except InputError as exc:
        return _report([_from_error(exc)], [], [])
    items: list[dict[str, Any]] = []
    spec_inputs: dict[CellKey, SpecInput] = {}
    fixed: dict[CellKey, Any] = {}
    for text, value in parsed.inputs.items():
        try:
            key, cell = resolve_cell(book, text, f"spec.inputs[{text!r}]")
            spec_inputs[key] = spec_input(value, cell)
        except InputError as exc:
            items.append(_from_error(exc))
    for text, value in parsed.fixed.items():
        try:
            key, _ = resolve_cell(book, text, f"spec.fixed[{text!r}]")
            fixed[key] = value
        except InputError as exc:
            items.append(_from_error(exc))
    outputs = _outputs(parsed, book, items)
    if not outputs:
        items.append(
            _item(
                "error",
                "no_outputs",
                "no outputs: click a cell and make it an output, or mark one with RiskOutput()",
            )
        )
    comp = Compiler(book, spec_inputs=spec_inputs, fixed=fixed)
    try:
        comp.compile([key for key, _, _ in outputs], on_cycle="mark")
    except InputError as exc:
        items.append(_from_error(exc))
        return _report(items, [], [])
    issues = comp.issues
    for fn, cells in sorted(issues.unsupported.items()):
        listing = sorted(cells)
        if fn in RANDOM_FUNCTIONS:
            items.append(
                _item(
                    "error",
                    "random_function",
                    f"{fn}() changes on every recalculation: make the cell an input (a "
                    "distribution) or fix it at a value",
                    listing,
                )
            )
        else:
            items.append(
                _item(
                    "error",
                    "unsupported_function",
                    f"{fn} is not a function montesim supports ({len(listing)} "
                    f"cell{'s' if len(listing) > 1 else ''}): replace it, or fix the cells "
                    "that use it at their value",
                    listing,
                )
            )
    for cycle in issues.cycles:
        items.append(
            _item(
                "error",
                "circular_reference",
                "Circular reference: " + " -> ".join([*cycle, cycle[0]]),
                list(cycle),
            )
        )
    for cell, msg in sorted(issues.parse_errors.items()):
        items.append(
            _item("error", "formula_syntax", f"{cell}: cannot parse the formula: {msg}", [cell])
        )
    out_list = []
    for key, cell, name in outputs:
        node = comp.cells.get(key)
        random = node is not None and not isinstance(node, Const)
        out_list.append({"cell": cell, "name": name or cell, "random": random})
        if node is not None and not random:
            items.append(
                _item(
                    "warning",
                    "output_not_random",
                    f"output {name or cell} ({cell}) depends on no random input: every "
                    "iteration gives the same value",
                    [cell],
                )
            )
    used = {d.cell.split("#")[0] for d in comp.inputs}
    in_list = [
        {"cell": d.cell, "name": d.name, "family": d.family, "source": d.source}
        for d in comp.inputs
    ]
    for cell, name in _candidate_inputs(parsed, book, spec_inputs, fixed):
        if cell not in used:
            items.append(
                _item(
                    "warning",
                    "input_unused",
                    f"input {name} ({cell}) feeds no output: it does not change any result",
                    [cell],
                )
            )
    if not any(i["severity"] == "error" for i in items):
        try:
            plan = build_plan(parsed, book)
        except InputError as exc:
            items.append(_from_error(exc))
        else:
            known = {(i["code"], tuple(i["cells"])) for i in items}
            for w in plan.warnings:
                cells = [w["location"]] if "!" in w["location"] else []
                if (w["code"], tuple(cells)) not in known:
                    items.append(_item("warning", w["code"], w["message"], cells))
    return _report(items, in_list, out_list)


def _report(
    items: list[dict[str, Any]], inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]
) -> dict[str, Any]:
    order = {"error": 0, "warning": 1}
    items.sort(key=lambda i: order.get(i["severity"], 2))
    return {
        "ok": not any(i["severity"] == "error" for i in items),
        "items": items,
        "inputs": inputs,
        "outputs": outputs,
    }


def _outputs(
    spec: ExcelSpec, book: Workbook, items: list[dict[str, Any]]
) -> list[tuple[CellKey, str, str | None]]:
    if not spec.outputs:
        return risk_outputs(book)
    out = []
    for i, item in enumerate(spec.outputs):
        text, name = (item.cell, item.name) if isinstance(item, OutputSpec) else (item, None)
        try:
            key, cell = resolve_cell(book, text, f"spec.outputs[{i}]")
        except InputError as exc:
            items.append(_from_error(exc))
            continue
        out.append((key, cell, name))
    return out


def _candidate_inputs(
    spec: ExcelSpec,
    book: Workbook,
    spec_inputs: dict[CellKey, SpecInput],
    fixed: dict[CellKey, Any],
) -> list[tuple[str, str]]:
    """(cell, name) of every random input defined: the spec's and the workbook's Risk* cells."""
    out: dict[str, str] = {}
    for text, value in spec.inputs.items():
        try:
            _, cell = resolve_cell(book, text, "input")
        except InputError:
            continue
        name = value.name if isinstance(value, InputSpec) and value.name else cell
        out[cell] = name
    for item in inspect_workbook(book)["inputs"]:
        cell = item["cell"].split("#")[0]
        sheet, rest = split_sheet(cell)
        try:
            key, cell = resolve_cell(book, cell, "input")
        except InputError:
            continue
        if key in fixed or key in spec_inputs or sheet is None or not rest:
            continue
        out.setdefault(cell, item["name"] or cell)
    return list(out.items())
