"""Excel tables and structured references: ``Sales[Amount]``, ``Sales[[#This Row],[Qty]]``,
``[@Qty]``, ``Sales[#Totals]``, ``Sales[[#Headers],[Region]:[Qty]]`` -> an Area.

Excel stores ``[@Qty]`` as ``Sales[[#This Row],[Qty]]`` in the file; both are read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .refs import Area
from .values import REF, VALUE, XlError

_SPECIALS = {"#ALL", "#DATA", "#HEADERS", "#TOTALS", "#THIS ROW"}
_REF_RE = re.compile(r"^([^\[\]]*)\[(.*)\]$", re.S)


@dataclass(frozen=True)
class TableDef:
    name: str
    sheet: str
    area: Area  # the whole table, headers and totals included
    columns: tuple[str, ...]
    header_rows: int = 1
    totals_rows: int = 0

    @property
    def data_rows(self) -> tuple[int, int]:
        return self.area.r1 + self.header_rows, self.area.r2 - self.totals_rows

    def column(self, name: str) -> int | None:
        up = name.strip().upper()
        for i, col in enumerate(self.columns):
            if col.upper() == up:
                return self.area.c1 + i
        return None


def is_structured(text: str) -> bool:
    return "[" in text and text.endswith("]") and _REF_RE.match(text) is not None


def _items(inner: str) -> list[str] | None:
    """``[#This Row],[Qty]`` -> ``["#This Row", ",", "Qty"]``; separators kept."""
    out: list[str] = []
    i = 0
    while i < len(inner):
        ch = inner[i]
        if ch in " \t\r\n":
            i += 1
        elif ch in ",:":
            out.append(ch)
            i += 1
        elif ch == "[":
            j, buf = i + 1, []
            while j < len(inner) and inner[j] != "]":
                if inner[j] == "'" and j + 1 < len(inner):
                    j += 1  # ' escapes the next character: '[ '] '# ''
                buf.append(inner[j])
                j += 1
            if j >= len(inner):
                return None
            out.append("".join(buf))
            i = j + 1
        else:
            return None
    return out


def _unescape(text: str) -> str:
    return re.sub(r"'(.)", r"\1", text)


def resolve(
    text: str, tables: dict[str, TableDef], cur: tuple[str, int, int]
) -> Area | XlError | None:
    """The area a structured reference stands for in cell ``cur`` (sheet, row, col);
    None when ``text`` is not a structured reference to a known table."""
    parsed = _parse(text)
    if parsed is None or isinstance(parsed, XlError):
        if parsed is not None and _table_named(tables, text, cur) is None:
            return None
        return parsed
    name, specials, cols, range_cols = parsed
    table = tables.get(name.upper()) if name else _table_at(tables, cur)
    if table is None:
        return None
    if "#THIS ROW" in specials:
        return _area(table, specials, cols, range_cols, cur)
    return _fixed_area(table, specials, cols, range_cols)


def _table_named(
    tables: dict[str, TableDef], text: str, cur: tuple[str, int, int]
) -> TableDef | None:
    m = _REF_RE.match(text)
    name = m.group(1).strip() if m else ""
    return tables.get(name.upper()) if name else _table_at(tables, cur)


@lru_cache(maxsize=8192)
def _parse(text: str) -> tuple[str, tuple[str, ...], tuple[str, ...], bool] | XlError | None:
    """A structured reference's table name, specials (upper case), columns and whether
    the columns are a range; one parse per distinct text (models repeat them a lot)."""
    m = _REF_RE.match(text)
    if m is None:
        return None
    name, inner = m.group(1).strip(), m.group(2)
    specials: list[str] = []
    cols: list[str] = []
    range_cols = False
    if inner.lstrip().startswith("["):
        items = _items(inner)
        if items is None:
            return XlError(REF)
        for item in items:
            if item == ":":
                range_cols = True
            elif item != ",":
                (specials if item.strip().upper() in _SPECIALS else cols).append(item)
    elif inner.startswith("@"):
        specials.append("#THIS ROW")
        rest = inner[1:].strip()
        if rest.startswith("["):
            items = _items(rest)
            if items is None:
                return XlError(REF)
            range_cols = ":" in items
            cols.extend(x for x in items if x not in (",", ":"))
        elif rest:
            cols.append(_unescape(rest))
    elif inner.strip().upper() in _SPECIALS:
        specials.append(inner)
    elif inner:
        cols.append(_unescape(inner))
    return name, tuple(s.strip().upper() for s in specials), tuple(cols), range_cols


@lru_cache(maxsize=16384)
def _fixed_area(
    table: TableDef, specials: tuple[str, ...], cols: tuple[str, ...], range_cols: bool
) -> Area | XlError:
    return _area(table, specials, cols, range_cols, ("", 0, 0))


def _area(
    table: TableDef,
    specials: tuple[str, ...],
    cols: tuple[str, ...],
    range_cols: bool,
    cur: tuple[str, int, int],
) -> Area | XlError:
    a = table.area
    d1, d2 = table.data_rows
    rows: list[tuple[int, int]] = []
    for s in specials or ["#DATA"]:
        if s == "#ALL":
            rows.append((a.r1, a.r2))
        elif s == "#DATA":
            rows.append((d1, d2))
        elif s == "#HEADERS":
            if not table.header_rows:
                return XlError(REF)
            rows.append((a.r1, a.r1))
        elif s == "#TOTALS":
            if not table.totals_rows:
                return XlError(REF)
            rows.append((a.r2, a.r2))
        elif s == "#THIS ROW":
            r = cur[1]
            if cur[0].upper() != table.sheet.upper() or not d1 <= r <= d2:
                return XlError(VALUE)
            rows.append((r, r))
    r1, r2 = min(r for r, _ in rows), max(r for _, r in rows)
    if cols:
        found = [table.column(c) for c in cols]
        if any(c is None for c in found):
            return XlError(REF)
        idx = [c for c in found if c is not None]
        if len(idx) > 1 and not range_cols:
            return XlError(REF)
        c1, c2 = min(idx), max(idx)
    else:
        c1, c2 = a.c1, a.c2
    if r1 > r2:
        return XlError(REF)  # a table with no data rows
    return Area(table.sheet, r1, c1, r2, c2)


def _table_at(tables: dict[str, TableDef], cur: tuple[str, int, int]) -> TableDef | None:
    for t in tables.values():
        a = t.area
        if t.sheet.upper() == cur[0].upper() and a.r1 <= cur[1] <= a.r2 and a.c1 <= cur[2] <= a.c2:
            return t
    return None
