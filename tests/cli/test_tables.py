"""Numbers shortened for narrow terminals keep three significant digits and their sign."""

from __future__ import annotations

import math

import pytest
from rich.console import Console
from rich.table import Table

from montesim.cli.tables import compact, fitted_table, full, longest_word


@pytest.mark.parametrize(
    ("x", "shown"),
    [
        (0, "0"),
        (7_375_512, "7.38M"),
        (501_865, "502k"),
        (39_081, "39.1k"),
        (999, "999"),
        (999_600, "1.00M"),  # rounds up into the next suffix, not "1000k"
        (-93_912.4, "-93.9k"),
        (12.345, "12.3"),
        (0.1149, "0.115"),
        (2.5e9, "2.50B"),
        (None, "-"),
        (math.nan, "-"),
    ],
)
def test_compact_keeps_three_significant_digits(x: float | None, shown: str) -> None:
    assert compact(x) == shown


@pytest.mark.parametrize("x", [1.0, 12_345.0, 7_375_512.0, -93_912.4, 4.2e11, 0.0123])
def test_compact_reads_back_within_half_a_unit_of_its_last_digit(x: float) -> None:
    text = compact(x)
    scale = {"k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}.get(text[-1], 1.0)
    value = float(text.rstrip("kMBT")) * scale
    assert value == pytest.approx(x, rel=5e-3)


def test_full_numbers_where_they_fit_short_ones_where_they_do_not() -> None:
    def build(fmt):
        table = Table()
        for col in ("node", "a", "b", "c", "d", "e"):
            table.add_column(col, no_wrap=True)
        table.add_row("root", *(fmt(12_345_678.0) for _ in range(5)))
        return table

    wide, narrow = Console(width=120), Console(width=60)
    assert "12,345,678" in _text(fitted_table(build, wide, [full, compact]), wide)
    shown = _text(fitted_table(build, narrow, [full, compact]), narrow)
    assert "12.3M" in shown and "…" not in shown


def test_longest_word() -> None:
    assert longest_word(["Business email compromise", "  Ransomware"]) == len("compromise")


def _text(table: Table, console: Console) -> str:
    with console.capture() as captured:
        console.print(table)
    return captured.get()
