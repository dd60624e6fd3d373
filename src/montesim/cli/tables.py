"""Tables that fit the terminal: numbers shortened (7.38M) rather than cut, words wrapped.

Rich squeezes a table that is too wide by cutting cells ("7,375,5…"), which turns a number
into a different one. These helpers measure first: figures are printed in full when the
table fits, in three significant digits with a k/M/B/T suffix when it does not, and text
columns wrap at spaces.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def full(x: float | None, digits: int = 0) -> str:
    """``x`` with thousands separators and ``digits`` decimals (``-`` for none)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.{digits}f}"


def compact(x: float | None) -> str:
    """``x`` in three significant digits with a suffix: 7375512 -> 7.38M, 501865 -> 502k."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    size = abs(x)
    if size == 0:
        return "0"
    for scale, suffix in SUFFIXES:
        if size >= scale * 0.9995:  # 999,600 is 1.00M, not 1000k
            return f"{_three_digits(x / scale)}{suffix}"
    return _three_digits(x) if size >= 1 else f"{x:.3g}"


def _three_digits(v: float) -> str:
    size = abs(v)
    if size >= 99.95:
        return f"{v:.0f}"
    if size >= 9.995:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fits(table: Table, console: Console) -> bool:
    """Whether ``table`` prints at its natural width (no cell wrapped) within the console."""
    unbounded = console.options.update(max_width=100_000)
    return Measurement.get(console, unbounded, table).maximum <= console.width


def longest_word(texts: Iterable[str]) -> int:
    """The width a column needs so that wrapping it never splits a word."""
    return max((len(word) for text in texts for word in text.split()), default=1)


def fitted_table(
    build: Callable[[Callable[[float | None], str]], Table],
    console: Console,
    formats: Sequence[Callable[[float | None], str]],
) -> Table:
    """The first table ``build(fmt)`` that fits, trying ``formats`` in order (the last one
    is used whatever its width; its text columns then wrap)."""
    table = build(formats[-1])
    for fmt in formats[:-1]:
        candidate = build(fmt)
        if fits(candidate, console):
            return candidate
    return table
