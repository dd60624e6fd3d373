"""Sizes a workbook may have, checked before the work that grows with them.

- From the zip directory alone (at submit, before anything is inflated): the total
  unzipped size, the number of parts, and each large part's compression ratio (a zip
  bomb inflates a few hundred KB to gigabytes).
- Before compiling: each formula's length and parenthesis nesting (Excel allows 8,192
  characters and 64 nested functions; deeper input would exhaust the compiler's stack).

Each limit is an environment variable (engines read no settings object), and each refusal
is an InputError naming the limit, the value and where.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterable
from typing import TYPE_CHECKING

from montesim.engines.base import InputError
from montesim.engines.excel.refs import address

if TYPE_CHECKING:
    from montesim.engines.excel.reader import Workbook

LIMITS = {
    # name: (environment variable, default)
    "unzipped_bytes": ("MONTESIM_WORKBOOK_MAX_UNZIPPED_BYTES", 1 << 30),
    "parts": ("MONTESIM_WORKBOOK_MAX_PARTS", 10_000),
    "ratio": ("MONTESIM_WORKBOOK_MAX_RATIO", 200),
    "formula_chars": ("MONTESIM_FORMULA_MAX_CHARS", 8_192),
    "formula_depth": ("MONTESIM_FORMULA_MAX_DEPTH", 100),
}
RATIO_FLOOR = 1 << 20  # parts smaller than this inflate to nothing worth refusing


def limit(name: str) -> int:
    var, default = LIMITS[name]
    text = os.environ.get(var, "").strip()
    return int(text) if text.isdigit() else default


def check_zip_directory(zf: zipfile.ZipFile, label: str) -> None:
    """Refuse a package whose directory promises too much, before inflating any of it."""
    infos = zf.infolist()
    if len(infos) > (most := limit("parts")):
        raise too_big(f"{label} has {len(infos):,} parts; the limit is {most:,}", "parts", most)
    total = 0
    ratio_limit = limit("ratio")
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_FLOOR:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > ratio_limit:
                raise too_big(
                    f"{label}: part {info.filename[:100]!r} inflates {ratio:,.0f} times "
                    f"(to {info.file_size:,} bytes); the limit is {ratio_limit} times",
                    "ratio",
                    ratio_limit,
                    value=round(ratio),
                )
    if total > (most := limit("unzipped_bytes")):
        raise too_big(
            f"{label} unzips to {total:,} bytes; the limit is {most:,}",
            "unzipped_bytes",
            most,
            value=total,
        )


def too_big(message: str, name: str, most: int, value: int | None = None) -> InputError:
    return InputError(
        message,
        code="workbook_too_large",
        location="file",
        status=413,
        detail={"limit": name, "max": most, "value": value, "variable": LIMITS[name][0]},
    )


# -- formulas ------------------------------------------------------------------------------

# String literals and quoted sheet names may hold any parenthesis; drop them first.
_QUOTED = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'')


def formula_depth(formula: str) -> int:
    """The deepest parenthesis nesting of ``formula``, outside quoted text."""
    text = _QUOTED.sub("", formula)
    depth = deepest = 0
    for ch in text:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
    return deepest


def check_workbook_formulas(book: Workbook) -> None:
    """Every formula of ``book`` (cells and defined names) within the limits."""
    chars, depth = limit("formula_chars"), limit("formula_depth")
    check_formulas(
        (address(sheet.name, r, c), cell.formula)
        for sheet in book.sheets.values()
        for (r, c), cell in sheet.cells.items()
        if cell.formula is not None and too_long_or_deep(cell.formula, chars, depth)
    )
    check_formulas(
        (f"{scope + '!' if scope else ''}{name}", text)
        for (scope, name), text in book.names.items()
    )


def too_long_or_deep(formula: str, chars: int, depth: int) -> bool:
    """A cheap (C-speed) pre-filter: could ``formula`` be past the limits ``chars`` and
    ``depth``?"""
    return len(formula) > chars or formula.count("(") > depth


def check_formulas(formulas: Iterable[tuple[str, str]]) -> None:
    """``(where, formula)`` pairs: each within the length and nesting limits."""
    most_chars = limit("formula_chars")
    most_depth = limit("formula_depth")
    for where, formula in formulas:
        if len(formula) > most_chars:
            raise InputError(
                f"{where}: the formula has {len(formula):,} characters; the limit is "
                f"{most_chars:,} (Excel's own)",
                code="formula_too_long",
                location=where,
                detail={"limit": "formula_chars", "max": most_chars, "value": len(formula)},
            )
        # Counting is cheap in C; only formulas that could be too deep are scanned.
        if formula.count("(") > most_depth and (depth := formula_depth(formula)) > most_depth:
            raise InputError(
                f"{where}: the formula nests {depth} levels of parentheses; the limit is "
                f"{most_depth} (Excel allows 64 nested functions)",
                code="formula_too_deep",
                location=where,
                detail={"limit": "formula_depth", "max": most_depth, "value": depth},
            )
