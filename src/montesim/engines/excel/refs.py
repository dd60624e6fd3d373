"""Cell and range addresses: parsing ``'My Sheet'!$A$1:B2`` into an Area and back."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

MAX_ROW = 1_048_576
MAX_COL = 16_384

_CELL = r"\$?([A-Za-z]{1,3})\$?(\d+)"
_CELL_RE = re.compile(rf"^{_CELL}$")
_COL_RE = re.compile(r"^\$?([A-Za-z]{1,3})$")
_ROW_RE = re.compile(r"^\$?(\d+)$")
_LINKED = re.compile(r"^\[\d+\][^\[\]]+$")  # a sheet of a linked workbook, by link number


class Area(NamedTuple):
    """A rectangle of cells on one sheet; rows and columns are 1-based and inclusive.

    A named tuple: a workbook's compile makes and looks up tens of thousands of them,
    several times faster than as a frozen dataclass (ordered and hashed as its fields)."""

    sheet: str
    r1: int
    c1: int
    r2: int
    c2: int

    @property
    def rows(self) -> int:
        return self.r2 - self.r1 + 1

    @property
    def cols(self) -> int:
        return self.c2 - self.c1 + 1

    @property
    def size(self) -> int:
        return self.rows * self.cols

    def is_cell(self) -> bool:
        return self.r1 == self.r2 and self.c1 == self.c2

    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r in range(self.r1, self.r2 + 1) for c in range(self.c1, self.c2 + 1)]

    def intersect(self, other: Area) -> Area | None:
        if self.sheet.upper() != other.sheet.upper():
            return None
        r1, c1 = max(self.r1, other.r1), max(self.c1, other.c1)
        r2, c2 = min(self.r2, other.r2), min(self.c2, other.c2)
        if r1 > r2 or c1 > c2:
            return None
        return Area(self.sheet, r1, c1, r2, c2)

    def bounding(self, other: Area) -> Area:
        return Area(
            self.sheet,
            min(self.r1, other.r1),
            min(self.c1, other.c1),
            max(self.r2, other.r2),
            max(self.c2, other.c2),
        )

    def __str__(self) -> str:
        return address(self.sheet, self.r1, self.c1, self.r2, self.c2)


def column_index_from_string(letters: str) -> int:
    """1 for ``A``, 28 for ``AB`` (one to three letters, either case)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


@lru_cache(maxsize=MAX_COL)
def get_column_letter(col: int) -> str:
    """``A`` for 1, ``AB`` for 28; ValueError past ``ZZZ``."""
    if not 1 <= col <= 18_278:
        raise ValueError(f"invalid column index {col}")
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_name(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


def quote_sheet(sheet: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet):
        return sheet
    return "'" + sheet.replace("'", "''") + "'"


def address(sheet: str, r1: int, c1: int, r2: int | None = None, c2: int | None = None) -> str:
    """``Sheet1!B2`` or ``'My Sheet'!A1:C3``."""
    a = cell_name(r1, c1)
    if r2 is not None and c2 is not None and (r2, c2) != (r1, c1):
        a += ":" + cell_name(r2, c2)
    return f"{quote_sheet(sheet)}!{a}"


def split_sheet(text: str) -> tuple[str | None, str]:
    """``("My Sheet", "A1")`` from ``'My Sheet'!A1``; sheet is None when not given."""
    if "!" not in text:
        return None, text
    if text.startswith("'"):
        end = text.rfind("'!")
        return text[1:end].replace("''", "'"), text[end + 2 :]
    sheet, _, rest = text.rpartition("!")
    return sheet, rest


def _corner(part: str) -> tuple[int | None, int | None]:
    """(row, col) of ``A1``, ``A`` (row None) or ``1`` (col None)."""
    m = _CELL_RE.match(part)
    if m:
        return int(m.group(2)), column_index_from_string(m.group(1).upper())
    m = _COL_RE.match(part)
    if m:
        return None, column_index_from_string(m.group(1).upper())
    m = _ROW_RE.match(part)
    if m:
        return int(m.group(1)), None
    raise ValueError(part)


@lru_cache(maxsize=1 << 17)
def parse_area(text: str, default_sheet: str) -> Area | None:
    """The Area of a reference token, or None if it is not a plain A1-style reference.
    (Cached: a workbook's formulas name the same references over and over.)"""
    sheet, rest = split_sheet(text.strip())
    parts = rest.split(":")
    if len(parts) == 2 and "!" in parts[1]:
        # Sheet1!A1:Sheet1!B2
        _, parts[1] = split_sheet(parts[1])
    if sheet is not None and (not sheet or (sheet.startswith("[") and not _LINKED.match(sheet))):
        return None  # another workbook, not one of this file's links ([1]Sheet)
    try:
        corners = [_corner(p) for p in parts]
    except ValueError:
        return None
    if len(corners) == 1:
        r, c = corners[0]
        if r is None or c is None:
            return None
        r1 = r2 = r
        c1 = c2 = c
    elif len(corners) == 2:
        (ra, ca), (rb, cb) = corners
        if (ra is None) != (rb is None) or (ca is None) != (cb is None):
            return None
        r1, r2 = (1, MAX_ROW) if ra is None else (min(ra, rb), max(ra, rb))  # type: ignore[type-var]
        c1, c2 = (1, MAX_COL) if ca is None else (min(ca, cb), max(ca, cb))  # type: ignore[type-var]
    else:
        return None
    if not (1 <= r1 <= r2 <= MAX_ROW and 1 <= c1 <= c2 <= MAX_COL):
        return None
    return Area(sheet if sheet is not None else default_sheet, r1, c1, r2, c2)


def is_reference_text(text: str) -> bool:
    return parse_area(text, "x") is not None
