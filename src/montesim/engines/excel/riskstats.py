"""@RISK's statistics functions in cells (``=RiskMean(C10)``, ``=RiskPercentile(C10, 0.95)``).

They read the results of a whole simulation, so they are not formulas of one iteration:
montesim finds them in the workbook, simulates the cell each one describes (as an output
when it is not one already), and computes them from that output's values after the run.
Their cached values in the file come from @RISK's last run, which is why ``verify``
reports them as random rather than comparing them.

Statistics of the finite values of the output (iterations that gave an Excel error are
left out); standard deviation and variance are the sample ones; percentiles interpolate
linearly between order statistics. Skewness, kurtosis, mode and the simulation-table
functions stay unsupported (listed, never guessed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .parser import Call, Num, ParseError, RefText, Unary, parse
from .refs import address, parse_area

if TYPE_CHECKING:
    from .reader import Workbook

CellKey = tuple[str, int, int]

# function -> whether it takes a second, numeric argument
COMPUTED = {
    "RISKMEAN": False,
    "RISKSTDDEV": False,
    "RISKVARIANCE": False,
    "RISKMIN": False,
    "RISKMAX": False,
    "RISKRANGE": False,
    "RISKPERCENTILE": True,  # the value at probability p (0..1)
    "RISKPTOX": True,
    "RISKXTOP": True,  # the probability of a value <= x
    "RISKTARGET": True,
}


@dataclass(frozen=True)
class StatisticCell:
    cell: str  # where the statistic is written (Sheet!A1)
    formula: str
    function: str
    target: CellKey  # the cell it describes
    target_cell: str
    arg: float | None = None


def find(book: Workbook) -> list[StatisticCell]:
    """Every cell whose whole formula is one of the statistics above, over one cell."""
    found: list[StatisticCell] = []
    for sheet in book.sheets.values():
        for (r, c), cd in sorted(sheet.cells.items()):
            formula = cd.formula
            if formula is None or "RISK" not in formula.upper():
                continue
            try:
                ast = parse(formula)
            except ParseError:
                continue
            if not (isinstance(ast, Call) and ast.name in COMPUTED):
                continue
            stat = _statistic(ast, sheet.name)
            if stat is None or stat[0][0] not in book.sheets:
                continue  # not one we compute (a sheet that does not exist stays #REF!)
            target, arg = stat
            target_cell = address(book.sheets[target[0]].name, target[1], target[2])
            found.append(
                StatisticCell(
                    address(sheet.name, r, c), formula, ast.name, target, target_cell, arg
                )
            )
    return found


def _statistic(call: Call, sheet: str) -> tuple[CellKey, float | None] | None:
    takes_arg = COMPUTED[call.name]
    if len(call.args) != (2 if takes_arg else 1) or not isinstance(call.args[0], RefText):
        return None
    area = parse_area(call.args[0].text, sheet)
    if area is None or area.rows != 1 or area.r1 != area.r2 or area.c1 != area.c2:
        return None
    arg = None
    if takes_arg:
        arg = _number(call.args[1])
        if arg is None:
            return None
    return (area.sheet.upper(), area.r1, area.c1), arg


def _number(node: object) -> float | None:
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Num):
        return -float(node.operand.value)
    return None


def compute(function: str, x: np.ndarray, arg: float | None) -> float | None:
    """The statistic of the finite values ``x``; None where it is undefined."""
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return None
    if function in ("RISKPERCENTILE", "RISKPTOX"):
        if arg is None or not 0.0 <= arg <= 1.0:
            return None
        return float(np.quantile(x, arg))
    if function in ("RISKXTOP", "RISKTARGET"):
        return None if arg is None else float(np.count_nonzero(x <= arg) / n)
    if function == "RISKMEAN":
        return float(np.mean(x))
    if function == "RISKMIN":
        return float(np.min(x))
    if function == "RISKMAX":
        return float(np.max(x))
    if function == "RISKRANGE":
        return float(np.max(x) - np.min(x))
    if n < 2:
        return None
    if function == "RISKSTDDEV":
        return float(np.std(x, ddof=1))
    if function == "RISKVARIANCE":
        return float(np.var(x, ddof=1))
    raise KeyError(function)
