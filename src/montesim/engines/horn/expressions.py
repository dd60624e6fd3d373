"""Waveguide parameters that vary with the azimuth ``p``: a small, safe expression language.

``"22 * (abs(cos(p)/1.2)^8 + abs(sin(p)/1)^4)^(-1/4)"`` is parsed with :mod:`ast` and
only a whitelist of nodes is accepted: numbers, the name ``p`` (and ``pi``, ``e``), the
arithmetic operators (``^`` means power, as in ATH), unary minus, and calls of the
functions in ``FUNCTIONS``. Nothing is ever passed to ``eval``; length and nesting depth
are bounded before parsing. Evaluation is vectorised over an array of azimuths.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from montesim.errors import InputError

MAX_LENGTH = 500
MAX_DEPTH = 40
MAX_POWER = 64.0  # bounded exponent of a constant power: no 10^10^10

FUNCTIONS: dict[str, Callable[..., np.ndarray]] = {
    "abs": np.abs,
    "sqrt": np.sqrt,
    "exp": np.exp,
    "log": np.log,
    "log10": np.log10,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "atan2": np.arctan2,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "min": np.minimum,
    "max": np.maximum,
    "pow": np.power,
    "floor": np.floor,
    "ceil": np.ceil,
    "sign": np.sign,
    "deg": np.degrees,
    "rad": np.radians,
}
ARITY = {"atan2": 2, "min": 2, "max": 2, "pow": 2}
CONSTANTS = {"pi": np.pi, "e": np.e}
VARIABLE = "p"

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: np.power,
    ast.BitXor: np.power,  # ATH writes powers with ^
    ast.Mod: np.mod,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression in ``p`` (picklable: it keeps its source text)."""

    source: str

    def __call__(self, p: np.ndarray | float) -> np.ndarray:
        tree = ast.parse(self.source.replace("^", "**"), mode="eval")
        with np.errstate(all="ignore"):
            return np.asarray(_eval(tree.body, np.asarray(p, dtype=float)), dtype=float)

    @property
    def constant(self) -> bool:
        return VARIABLE not in _names(ast.parse(self.source.replace("^", "**"), mode="eval"))


def parse_expression(text: str, location: str) -> Expression:
    """Check ``text`` against the whitelist; InputError naming ``location`` if it fails."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("expected a number or an expression in p", location=location)
    if len(text) > MAX_LENGTH:
        raise InputError(f"expression longer than {MAX_LENGTH} characters", location=location)
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise InputError(
            f"cannot parse expression {text!r}: {exc.msg}", location=location
        ) from None
    _check(tree.body, location, 0)
    return Expression(text)


def _check(node: ast.AST, location: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InputError(f"expression nested deeper than {MAX_DEPTH}", location=location)
    match node:
        case ast.Constant(value=v) if isinstance(v, int | float) and not isinstance(v, bool):
            return
        case ast.Name(id=name):
            if name != VARIABLE and name not in CONSTANTS:
                known = ", ".join([VARIABLE, *CONSTANTS])
                raise InputError(
                    f"unknown name {name!r} in expression (names allowed: {known})",
                    location=location,
                )
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
            if (
                isinstance(op, ast.Pow | ast.BitXor)
                and isinstance(right, ast.Constant)
                and isinstance(right.value, int | float)
                and abs(right.value) > MAX_POWER
            ):
                raise InputError(f"exponent above {MAX_POWER:g}", location=location)
            _check(left, location, depth + 1)
            _check(right, location, depth + 1)
        case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
            _check(operand, location, depth + 1)
        case ast.Call(func=ast.Name(id=name), args=args, keywords=[]):
            if name not in FUNCTIONS:
                raise InputError(
                    f"unknown function {name!r} in expression (functions allowed: "
                    f"{', '.join(sorted(FUNCTIONS))})",
                    location=location,
                )
            if len(args) != ARITY.get(name, 1):
                raise InputError(
                    f"{name}() takes {ARITY.get(name, 1)} argument(s), got {len(args)}",
                    location=location,
                )
            for arg in args:
                _check(arg, location, depth + 1)
        case _:
            raise InputError(
                f"not allowed in an expression: {type(node).__name__}", location=location
            )


def _eval(node: ast.AST, p: np.ndarray) -> np.ndarray | float:
    match node:
        case ast.Constant(value=v):
            return float(v)
        case ast.Name(id=name):
            return p if name == VARIABLE else CONSTANTS[name]
        case ast.BinOp(left=left, op=op, right=right):
            return _BINARY[type(op)](_eval(left, p), _eval(right, p))
        case ast.UnaryOp(op=op, operand=operand):
            return _UNARY[type(op)](_eval(operand, p))
        case ast.Call(func=ast.Name(id=name), args=args):
            return FUNCTIONS[name](*(_eval(a, p) for a in args))
    raise AssertionError(f"unchecked node {type(node).__name__}")


def _names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
