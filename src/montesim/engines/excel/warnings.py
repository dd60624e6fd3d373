"""Warnings for outputs with error trials: how many, of which error, and where it began;
and for TEXT formats read with a decimal comma.

A run whose every NPV trial is ``#N/A`` must not look like a clean result. For each
output and each error type it carries, the result gets a warning with the share of
trials, and, where one of those trials lies in the kept raw-input window, the first cell
(in calculation order, upstream of the output) whose value is that error in that trial:
the program is run again for that single trial with every intermediate value kept.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from montesim.engines.excel.functions import EvalContext
from montesim.engines.excel.functions.numfmt import format_value
from montesim.engines.excel.program import Op, run
from montesim.engines.excel.refs import address
from montesim.engines.excel.values import ERROR_TEXT, Value, XlError

if TYPE_CHECKING:
    from montesim.engines.excel.compiler import CompileIssues
    from montesim.engines.excel.model import Plan

NON_NUMERIC = 100  # as results.NON_NUMERIC: the trial's output is text
NUM = 6  # #NUM!: also what a non-finite number becomes


def error_label(code: int) -> str:
    return "non-numeric" if code == NON_NUMERIC else ERROR_TEXT.get(int(code), f"#ERR{code}")


def error_warnings(
    plan: Plan, codes: np.ndarray | None, raw_inputs: np.ndarray
) -> list[dict[str, Any]]:
    """One warning per (output, error type) with error trials, most frequent first."""
    if codes is None:
        return []
    out: list[dict[str, Any]] = []
    total = codes.shape[1]
    for i, output in enumerate(plan.outputs):
        found, counts = np.unique(codes[i][codes[i] != 0], return_counts=True)
        for code, n in sorted(zip(found, counts, strict=True), key=lambda fc: -fc[1]):
            code, n = int(code), int(n)
            share = n / total
            label = error_label(code)
            origin = first_error_cell(plan, i, code, codes[i], raw_inputs)
            where = f"; first produced by {origin}" if origin else ""
            every = "every trial" if n == total else f"{_percent(share)} of trials"
            out.append(
                {
                    "code": "output_all_errors" if n == total else "output_errors",
                    "location": output.cell,
                    "output": output.name,
                    "error": label,
                    "trials": n,
                    "share": share,
                    "origin": origin,
                    "message": f"{every} of output {output.name} ({output.cell}) "
                    f"{'is' if n == total else 'are'} {label}{where}",
                }
            )
    return out


def compile_warnings(issues: CompileIssues) -> list[dict[str, str]]:
    """The warnings of what the compiler saw computed otherwise than Excel may have."""
    return comma_decimal_warnings(issues.comma_decimal_formats) + criteria_tie_warnings(
        issues.criteria_ties
    )


def _listed(cells: list[str]) -> str:
    return ", ".join(cells[:5]) + (f" and {len(cells) - 5} more" if len(cells) > 5 else "")


def comma_decimal_warnings(formats: dict[str, str]) -> list[dict[str, str]]:
    """One warning naming the cells whose TEXT format only makes sense with a decimal
    comma (``"0,00"``): they are computed with ``,`` as the decimal separator, as Excel
    shows them in a locale that uses one; the file does not say which locale it was."""
    if not formats:
        return []
    cells = list(formats)
    fmt = formats[cells[0]]
    ours = format_value(1234.567, fmt, comma_decimal=True)
    try:
        en_us = f"{format_value(1234.567, fmt)!r} in Excel with a decimal point (en-US)"
    except XlError as exc:
        en_us = f"{exc} in Excel with a decimal point (en-US)"
    listed = _listed(cells)
    kinds = sorted(set(formats.values()))
    shown = ", ".join(repr(f) for f in kinds[:3]) + (" ..." if len(kinds) > 3 else "")
    return [
        {
            "code": "text_format_decimal_comma",
            "location": cells[0],
            "message": f"TEXT format(s) {shown} in {len(cells)} cell(s) ({listed}) only makes "
            "sense with a comma as the decimal separator, as in the locale the workbook was "
            f"written in (the file does not record it): it is computed that way, 1234.567 "
            f"in {fmt!r} giving {ours!r}, where it gives {en_us}",
        }
    ]


def criteria_tie_warnings(ties: dict[str, str]) -> list[dict[str, str]]:
    """One warning naming the cells whose criterion, built as text from a number
    (``">="&B3``), has a value of its range between its number rounded to 15 digits and
    cut after the 15th: Excel does not always round to the nearest, as we do, so whether
    that value meets the criterion may differ from Excel (see ``ties_at_15_digits``)."""
    if not ties:
        return []
    cells = list(ties)
    listed = _listed(cells)
    return [
        {
            "code": "criteria_15_digits",
            "location": cells[0],
            "message": f"{len(cells)} cell(s) ({listed}) compare with a criterion built "
            f"from a number as text (in {cells[0]}: {ties[cells[0]]}), which writes the "
            "number with 15 significant digits, and a value of the range lies between the "
            "number rounded to 15 digits (as computed here) and cut after the 15th (as "
            "Excel sometimes writes it): whether that value meets the criterion may "
            "differ from Excel",
        }
    ]


def _percent(share: float) -> str:
    pct = 100 * share
    if pct >= 1:
        return f"{pct:.0f}%"
    return f"{pct:.2g}%"


def first_error_cell(
    plan: Plan, output: int, code: int, output_codes: np.ndarray, raw_inputs: np.ndarray
) -> str | None:
    """The first cell upstream of ``output`` whose value is error ``code`` in the first
    kept trial where the output had that error; None when that cannot be known."""
    slot = plan.outputs[output].slot
    cells: dict[int, tuple[str, int, int]] = getattr(plan, "slot_cells", None) or {}
    n_raw = raw_inputs.shape[1]
    if slot is None or code == NON_NUMERIC or not cells or n_raw == 0:
        return None
    hits = np.flatnonzero(output_codes[:n_raw] == code)
    if not len(hits):
        return None
    trial = int(hits[0])
    program = plan.program
    upstream = _upstream(program.ops, slot)
    samples = raw_inputs[:, trial : trial + 1].T
    ctx = EvalContext(1, plan.today, plan.today + 0.5)
    values = run(program, samples, ctx, keep={program.ops[k].out for k in upstream})
    for k in sorted(upstream):
        op = program.ops[k]
        value = values.get(op.out)
        if value is not None and _has_error(value, code):
            return _cell_of(program.ops, k, cells)
    return None


def _upstream(ops: list[Op], slot: int) -> set[int]:
    """Indices of the ops whose values the op producing ``slot`` reads, transitively."""
    producer = {op.out: k for k, op in enumerate(ops)}
    seen: set[int] = set()
    todo = [slot]
    while todo:
        k = producer.get(todo.pop())
        if k is None or k in seen:
            continue
        seen.add(k)
        op = ops[k]
        args = list(op.args) + (list(op.data[1]) if op.fn == "@fill" else [])
        todo.extend(a[1] for a in args if a is not None and a[0] == "s")
    return seen


def _has_error(value: Value, code: int) -> bool:
    if value.err is not None and bool(np.any(value.err == code)):
        return True
    if code == NUM and value.kind is None:
        num = value.num
        if num.size == 1:  # one trial of one cell: the usual case here, without NumPy
            return not math.isfinite(num.item())
        return not bool(np.all(np.isfinite(num)))
    return False


def _cell_of(ops: list[Op], k: int, cells: dict[int, tuple[str, int, int]]) -> str | None:
    """The cell whose formula holds op ``k``: a cell's ops are emitted together, ending
    with the op that produces the cell's own slot."""
    for j in range(k, len(ops)):
        cell = cells.get(ops[j].out)
        if cell is not None:
            return address(*cell)
    return None
