"""The Excel function library, vectorized over trials.

Value-representation contract (read this before adding a function)
-------------------------------------------------------------------
Every argument and result is a :class:`montesim.engines.excel.values.Value` of shape
``(T, R, C)``: ``T`` trials, ``R`` rows, ``C`` columns. A single cell is ``(T, 1, 1)``; a
range or array is ``(T, R, C)``; a constant (anything not depending on a random input)
has ``T == 1`` and must broadcast against any ``T`` (NumPy broadcasting rules).

A Value holds parallel arrays (never mutate them; they may be shared or broadcast views):

* ``num``  float64 -- the number; booleans are 0.0/1.0, empty cells 0.0.
* ``kind`` int8 or None -- ``NUM=0, BOOL=1, TEXT=2, EMPTY=3``; None means all numbers.
* ``err``  int8 or None -- Excel error code per element, 0 for none; None means no
  errors. Codes are ERROR.TYPE's: ``NULL=1 DIV0=2 VALUE=3 REF=4 NAME=5 NUMERR=6 NA=7``.
  An error wins over ``kind``/``num``. Errors are data: a function never raises for a
  bad element, it returns an error code for that element (and only that element/trial).
* ``text`` object array of ``str`` or None -- set where ``kind == TEXT``.
* ``is_ref`` -- the value came straight from a cell/range reference (aggregates such as
  SUM then ignore text and booleans, as Excel does for references).

Helpers in ``values``: ``numbers(v) -> (float array, err)`` (Excel's coercion for
arithmetic), ``truth(v)``, ``texts(v)``, ``num_result(num, err)`` (non-finite -> #NUM!),
``bool_result``, ``text_result``, ``where(cond, a, b)`` (per-trial choice: the branch
not taken never leaks its errors), ``merge_err``. In ``functions.helpers``: ``lift`` runs a
plain Python scalar function element by element (for text, dates, engineering...),
``numeric`` applies a NumPy function to coerced numbers, ``collect`` flattens aggregate
arguments per trial.

Registering a function::

    from .registry import register

    @register("SQRT", min_args=1, max_args=1)
    def sqrt(ctx: EvalContext, x: Value) -> Value:
        return numeric(np.sqrt, x)

``ctx`` is an :class:`EvalContext` (``trials``, ``today`` serial, ``caller`` cell).
Omitted arguments (``f(a,,b)``) and arguments beyond those given arrive as ``None``.
Names are upper case without the ``_xlfn.`` prefix; several names may share one
implementation. Reference-level functions (OFFSET, INDIRECT, ROW, COLUMN, ROWS,
COLUMNS, AREAS) and @RISK functions live in the compiler, not here. A function whose
arguments are all constants is evaluated once at compile time with ``ctx.trials == 1``.
"""

from __future__ import annotations

# importing the modules fills the registry
from . import (  # noqa: E402, F401, I001
    arrays,
    bonds,
    complexnum,
    database,
    dates,
    discount,
    distributions,
    engineering,
    financial,
    info,
    logic,
    lookup,
    math,
    numerals,
    operators,
    regression,
    stats,
    text,
    textsplit,
)
from .registry import REGISTRY, EvalContext, FunctionSpec, get_function, register

__all__ = ["REGISTRY", "EvalContext", "FunctionSpec", "get_function", "register"]
