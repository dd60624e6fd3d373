"""Excel's own random functions as per-trial random inputs.

``RAND()``, ``RANDBETWEEN(a, b)``, ``RANDARRAY(...)`` and the ``NORM.INV(RAND(), mu, sd)``
pattern are how plain-Excel Monte Carlo models draw. Each occurrence becomes one input
stream (keyed by its cell and its place in the formula, like @RISK inputs), so it is
sampled with the job's method, can be correlated, and is named in the results.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..base import InputError
from .parser import Call, Missing, Node
from .values import NUM, VALUE, Value, error, number

if TYPE_CHECKING:
    from .cnodes import CNode
    from .compiler import Compiler

RANDOM_FUNCTIONS = {"RAND", "RANDBETWEEN", "RANDARRAY"}
# @RISK statistics of the last simulation: their cached values come from @RISK's run
RISK_STATISTICS = {
    "RISKMEAN",
    "RISKSTDDEV",
    "RISKPERCENTILE",
    "RISKPTOX",
    "RISKXTOP",
    "RISKMIN",
    "RISKMAX",
    "RISKTARGET",
    "RISKSIMTABLE",
    "RISKVARIANCE",
    "RISKSKEWNESS",
    "RISKKURTOSIS",
    "RISKMODE",
    "RISKRANGE",
    "RISKSTATIC",
    "RISKCURRENTITER",
    "RISKCURRENTSIM",
}
# an inverse CDF applied to RAND(): (family, how many parameters, extra checks)
INVERSE_FAMILIES: dict[str, tuple[str, int]] = {
    "NORM.INV": ("normal", 2),
    "NORMINV": ("normal", 2),
    "NORM.S.INV": ("normal", 0),
    "NORMSINV": ("normal", 0),
    "LOGNORM.INV": ("lognorm2", 2),
    "LOGINV": ("lognorm2", 2),
    "GAMMA.INV": ("gamma", 2),
    "GAMMAINV": ("gamma", 2),
    "BETA.INV": ("beta", 2),
    "BETAINV": ("beta", 2),
}
MAX_RANDARRAY = 10_000


def is_volatile_formula(ast: Node) -> bool:
    """Whether a formula reads the clock (TODAY, NOW): Excel cached the value of the day
    it last saved the file, not the job's ``today``."""
    from .parser import walk

    return any(isinstance(n, Call) and n.name in ("TODAY", "NOW") for n in walk(ast))


def is_random_formula(ast: Node) -> bool:
    """Whether a formula draws random numbers or reads @RISK's simulation statistics."""
    from .parser import walk

    return any(
        isinstance(n, Call) and (n.name in RANDOM_FUNCTIONS or n.name in RISK_STATISTICS)
        for n in walk(ast)
    )


def _is_rand(node: Node) -> bool:
    return isinstance(node, Call) and node.name == "RAND" and not node.args


def _const_args(
    c: Compiler, nodes: tuple[Node, ...], *, logical: bool = False
) -> list[float] | None:
    """The arguments as numbers when each is a fixed number (or TRUE/FALSE), else None."""
    out = []
    for n in nodes:
        if isinstance(n, Missing):
            return None
        v = c.expr(n)
        from .cnodes import Const

        if not isinstance(v, Const) or v.value.dims != (1, 1):
            return None
        x = v.value.to_py()
        if isinstance(x, bool) and logical:
            x = float(x)
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            return None
        out.append(float(x))
    return out


def inverse_of_rand(c: Compiler, node: Call) -> CNode | None:
    """``NORM.INV(RAND(), mu, sd)`` with fixed parameters: one input of that family."""
    spec = INVERSE_FAMILIES.get(node.name)
    if spec is None or not node.args or not _is_rand(node.args[0]):
        return None
    family, n = spec
    if len(node.args) != n + 1:
        return None
    params = _const_args(c, node.args[1:])
    if params is None:
        return None
    if family == "normal" and n == 0:
        params = [0.0, 1.0]
    if family in ("normal", "lognorm2") and not params[1] > 0:
        return None  # Excel gives #NUM!; the general path computes it
    try:
        return c.random_input(family, tuple(params))
    except InputError:
        return None


def compile_random(c: Compiler, node: Call) -> CNode:
    """RAND, RANDBETWEEN or RANDARRAY as random inputs (values per trial)."""
    if node.name == "RAND":
        if node.args:
            return c.const(error(VALUE))
        return c.random_input("uniform", (0.0, 1.0))
    if node.name == "RANDBETWEEN":
        return _randbetween(c, node)
    return _randarray(c, node)


def _randbetween(c: Compiler, node: Call) -> CNode:
    if len(node.args) != 2:
        return c.const(error(VALUE))
    bounds = _const_args(c, node.args)
    if bounds is not None:
        lo, hi = math.ceil(bounds[0]), math.floor(bounds[1])
        if lo > hi:
            return c.const(error(NUM))
        return c.random_input("intuniform", (float(lo), float(hi)))
    # bounds that vary: lo + INT(u * (hi - lo + 1)) with lo, hi rounded inwards
    lo_n, hi_n = c.expr(node.args[0]), c.expr(node.args[1])
    lo_c = c.call("CEILING.MATH", [lo_n])
    hi_c = c.call("FLOOR.MATH", [hi_n])
    u = c.random_input("uniform", (0.0, 1.0))
    width = c.call("+", [c.call("-", [hi_c, lo_c]), c.const(number(1.0))])
    return c.call("+", [lo_c, c.call("INT", [c.call("*", [u, width])])])


def _randarray(c: Compiler, node: Call) -> CNode:
    args = list(node.args) + [Missing()] * (5 - len(node.args))
    if len(node.args) > 5:
        return c.const(error(VALUE))
    defaults = [1.0, 1.0, 0.0, 1.0, 0.0]
    vals: list[float] = []
    for a, d in zip(args, defaults, strict=True):
        if isinstance(a, Missing):
            vals.append(d)
            continue
        got = _const_args(c, (a,), logical=True)
        if got is None:
            c.unsupported("RANDARRAY with arguments that are not fixed numbers")
            return c.const(error(VALUE))
        vals.append(got[0])
    rows, cols, lo, hi, whole = int(vals[0]), int(vals[1]), vals[2], vals[3], bool(vals[4])
    if rows < 1 or cols < 1 or lo > hi:
        return c.const(error(VALUE))
    if rows * cols > MAX_RANDARRAY:
        c.unsupported(f"RANDARRAY of more than {MAX_RANDARRAY:,} cells")
        return c.const(error(VALUE))
    if whole:
        a, b = math.ceil(lo), math.floor(hi)
        if a > b:
            return c.const(error(VALUE))
        family, params = "intuniform", (float(a), float(b))
    else:
        family, params = "uniform", (lo, hi)
    cells = [c.random_input(family, params) for _ in range(rows * cols)]
    base = Value(np.zeros((1, rows, cols)))
    return c.fill_array(base, [((k // cols, k % cols), n) for k, n in enumerate(cells)])


# -- a static description, for inspect ------------------------------------------------------


def random_draw(node: Call) -> str | None:
    """What a call draws, read from the formula alone: ``uniform(0, 1)``,
    ``normal(100, B4)`` for ``NORM.INV(RAND(), 100, B4)``; None if it draws nothing."""
    inv = INVERSE_FAMILIES.get(node.name)
    if inv is not None and node.args and _is_rand(node.args[0]) and len(node.args) == inv[1] + 1:
        params = [_text(a) for a in node.args[1:]] or ["0", "1"]
        return f"{inv[0]}({', '.join(params)})"
    if node.name == "RAND":
        return "uniform(0, 1)"
    if node.name == "RANDBETWEEN":
        return f"intuniform({', '.join(_text(a) for a in node.args)})"
    if node.name == "RANDARRAY":
        whole = len(node.args) > 4 and _text(node.args[4]).upper() in ("TRUE", "1")
        lo = _text(node.args[2]) if len(node.args) > 2 else "0"
        hi = _text(node.args[3]) if len(node.args) > 3 else "1"
        return f"{'intuniform' if whole else 'uniform'}({lo or '0'}, {hi or '1'}) per cell"
    return None


def _text(node: Node) -> str:
    from .parser import Bool, Name, Num, RefText, Str, Unary

    if isinstance(node, Num):
        return f"{node.value:g}"
    if isinstance(node, RefText):
        return node.text
    if isinstance(node, Name):
        return node.name if node.sheet is None else f"{node.sheet}!{node.name}"
    if isinstance(node, Bool):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, Str):
        return repr(node.value)
    if isinstance(node, Unary):
        return node.op + _text(node.operand)
    if isinstance(node, Missing):
        return ""
    return "..."
