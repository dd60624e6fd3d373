"""Cell values as Excel shows them: number formats, General in a standard column, errors."""

from __future__ import annotations

import math
import re
from typing import Any

from montesim.engines.excel.functions.numfmt import format_value
from montesim.engines.excel.values import XlError, format_general

_FUTURE_PREFIX = re.compile(r"\b_(?:xlfn|xlws|xll)\.", re.IGNORECASE)


def as_written(formula: str) -> str:
    """A formula as Excel shows it: without the file format's ``_xlfn.`` prefixes."""
    return _FUTURE_PREFIX.sub("", formula)


def kind_of(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, XlError):
        return "e"
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int | float):
        return "n"
    return "s"


def general(x: float, width: int = 10) -> str:
    """General format in a standard-width cell: fewer decimals, else scientific notation,
    until the text fits (never digits of the integer part dropped)."""
    text = format_general(x)
    if len(text) <= width:
        return text
    ax, sign = abs(x), int(x < 0)
    if 1e-4 <= ax < 10 ** (width - sign):
        decimals = max(0, width - sign - len(str(int(ax))) - 1)
        text = format_general(round(x, decimals))
        if len(text) <= width:
            return text
    for digits in range(width - 6 - sign, 0, -1):
        mantissa, exponent = f"{x:.{digits}E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        text = f"{mantissa}E{exponent[0]}{exponent[1:].zfill(2)}"
        if len(text) <= width:
            return text
    return text


def display(value: Any, fmt: str) -> str:
    """The text Excel shows for ``value`` in a cell formatted ``fmt``."""
    if value is None:
        return ""
    if isinstance(value, XlError):
        return str(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if not math.isfinite(float(value)):
            return "#NUM!"
        if fmt in ("", "General", "general"):
            return general(float(value))
    try:
        return format_value(value, fmt)
    except XlError as exc:
        return str(exc)
    except Exception:  # an exotic format our TEXT() does not know: show it plainly
        return format_general(float(value)) if isinstance(value, int | float) else str(value)
