"""How Excel values live in NumPy: a float array, a kind array, an error array, text.

See ``functions/__init__.py`` for the contract every function follows. Every value has
shape ``(T, R, C)``: ``T`` trials (1 for a constant, broadcast against any ``T``), ``R``
rows and ``C`` columns (1x1 for a single cell).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np

# -- kinds (what a non-error element is) -----------------------------------------------
NUM, BOOL, TEXT, EMPTY = 0, 1, 2, 3

# -- error codes: the numbers ERROR.TYPE returns; 0 means "no error" ------------------
NULL, DIV0, VALUE, REF, NAME, NUMERR, NA, GETTING_DATA, SPILL, CALC = 1, 2, 3, 4, 5, 6, 7, 8, 9, 14
ERROR_TEXT = {
    NULL: "#NULL!",
    DIV0: "#DIV/0!",
    VALUE: "#VALUE!",
    REF: "#REF!",
    NAME: "#NAME?",
    NUMERR: "#NUM!",
    NA: "#N/A",
    GETTING_DATA: "#GETTING_DATA",
    SPILL: "#SPILL!",
    CALC: "#CALC!",
}
ERROR_CODE = {text: code for code, text in ERROR_TEXT.items()}


class XlError(Exception):
    """An Excel error as a Python value (scalar helpers raise or return it)."""

    def __init__(self, code: int) -> None:
        super().__init__(ERROR_TEXT.get(code, "#VALUE!"))
        self.code = code

    def __eq__(self, other: object) -> bool:
        return isinstance(other, XlError) and other.code == self.code

    def __hash__(self) -> int:
        return hash(("XlError", self.code))

    def __repr__(self) -> str:
        return ERROR_TEXT.get(self.code, "#VALUE!")

    __str__ = __repr__


class Value:
    """An Excel value over trials: ``num`` float64 plus optional kind, err and text arrays.

    ``kind is None`` means every element is a number; ``err is None`` means no element is
    an error; ``text`` holds strings where ``kind == TEXT``. Arrays are never mutated
    after construction (they may be broadcast views). ``is_ref`` is True when the value
    came straight from a cell reference or range (aggregates then skip text and booleans).
    """

    __slots__ = ("num", "kind", "err", "text", "is_ref")

    def __init__(
        self,
        num: np.ndarray,
        kind: np.ndarray | None = None,
        err: np.ndarray | None = None,
        text: np.ndarray | None = None,
        is_ref: bool = False,
    ) -> None:
        self.num = num
        self.kind = kind
        self.err = err
        self.text = text
        self.is_ref = is_ref

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        # pickled as its fields (a plan holds thousands of constants): faster both ways
        # than the slots' state that pickle otherwise builds and sets one by one
        return Value, (self.num, self.kind, self.err, self.text, self.is_ref)

    # -- shape ----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        first = self.num.shape
        kind, err, text = self.kind, self.err, self.text
        if (
            (kind is None or kind.shape == first)
            and (err is None or err.shape == first)
            and (text is None or text.shape == first)
        ):  # the usual case (plain numbers first), without NumPy's machinery
            return first  # type: ignore[return-value]
        others = [a.shape for a in (kind, err, text) if a is not None]
        return tuple(np.broadcast_shapes(first, *others))  # type: ignore[return-value]

    @property
    def trials(self) -> int:
        return self.shape[0]

    @property
    def dims(self) -> tuple[int, int]:
        s = self.shape
        return s[1], s[2]

    def plain(self) -> bool:
        """True when every element is an error-free number (the fast path)."""
        return self.kind is None and self.err is None

    def full(self) -> Value:
        """The same value with all arrays materialised to one shape (kind/err/text set)."""
        shape = self.shape
        kind = self.kind if self.kind is not None else np.zeros((1, 1, 1), np.int8)
        err = self.err if self.err is not None else np.zeros((1, 1, 1), np.int8)
        text = self.text if self.text is not None else np.full((1, 1, 1), None, object)
        return Value(
            np.broadcast_to(self.num, shape),
            np.broadcast_to(kind, shape),
            np.broadcast_to(err, shape),
            np.broadcast_to(text, shape),
            self.is_ref,
        )

    def with_ref(self, is_ref: bool) -> Value:
        return Value(self.num, self.kind, self.err, self.text, is_ref)

    def take_trial(self, t: int) -> Value:
        """Trial ``t`` of this value as a one-trial value (for scalar re-evaluation)."""

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            if a is None:
                return None
            return a[t : t + 1] if a.shape[0] > 1 else a

        return Value(pick(self.num), pick(self.kind), pick(self.err), pick(self.text), self.is_ref)

    # -- conversions ------------------------------------------------------------------
    def to_py(self, t: int = 0, r: int = 0, c: int = 0) -> Any:
        """One element as a Python value: float, bool, str, None (empty) or XlError."""

        def at(a: np.ndarray) -> Any:
            return a[min(t, a.shape[0] - 1), min(r, a.shape[1] - 1), min(c, a.shape[2] - 1)]

        if self.err is not None and at(self.err):
            return XlError(int(at(self.err)))
        kind = NUM if self.kind is None else int(at(self.kind))
        if kind == BOOL:
            return bool(at(self.num))
        if kind == TEXT:
            return str(at(self.text))  # type: ignore[arg-type]
        if kind == EMPTY:
            return None
        return float(at(self.num))

    def to_grid(self, t: int = 0) -> list[list[Any]]:
        _, rows, cols = self.shape
        return [[self.to_py(t, r, c) for c in range(cols)] for r in range(rows)]

    def __repr__(self) -> str:
        return f"Value(shape={self.shape}, first={self.to_py()!r})"


# -- construction -----------------------------------------------------------------------


def _one(x: float) -> np.ndarray:
    return np.full((1, 1, 1), x, dtype=np.float64)


def number(x: float | np.ndarray) -> Value:
    """A numeric value from a float or an array of shape (T,), (T,R,C)."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        a = a.reshape(1, 1, 1)
    elif a.ndim == 1:
        a = a.reshape(-1, 1, 1)
    return Value(a)


def error(code: int, shape: tuple[int, int, int] = (1, 1, 1)) -> Value:
    return Value(np.zeros(shape), np.zeros(shape, np.int8), np.full(shape, code, np.int8))


def empty_value(shape: tuple[int, int, int] = (1, 1, 1)) -> Value:
    return Value(np.zeros(shape), np.full(shape, EMPTY, np.int8))


def boolean(b: bool | np.ndarray) -> Value:
    a = np.asarray(b, dtype=np.float64)
    if a.ndim == 0:
        a = a.reshape(1, 1, 1)
    return Value(a, np.full((1, 1, 1), BOOL, np.int8))


def from_py(x: Any) -> Value:
    """A one-element value from a Python scalar (float, int, bool, str, None, XlError):
    ``from_grid([[x]])``, built directly."""
    k, n, e, s = py_kind(x)
    one = (1, 1, 1)
    return Value(
        np.full(one, n),
        None if k == NUM else np.full(one, k, np.int8),
        np.full(one, e, np.int8) if e else None,
        np.full(one, s, object) if k == TEXT else None,
    )


def py_kind(x: Any) -> tuple[int, float, int, str | None]:
    """(kind, num, err, text) of a Python scalar."""
    if isinstance(x, XlError):
        return NUM, 0.0, x.code, None
    if x is None:
        return EMPTY, 0.0, 0, None
    if isinstance(x, bool | np.bool_):
        return BOOL, float(bool(x)), 0, None
    if isinstance(x, int | float | np.integer | np.floating):
        f = float(x)
        if math.isnan(f) or math.isinf(f):
            return NUM, 0.0, NUMERR, None
        return NUM, f, 0, None
    if isinstance(x, datetime | date | time | timedelta):
        return NUM, to_serial(x), 0, None
    if isinstance(x, str):
        return TEXT, 0.0, 0, x
    return TEXT, 0.0, 0, str(x)


def from_grid(grid: list[list[Any]]) -> Value:
    """A one-trial value of shape (1, R, C) from rows of Python scalars."""
    rows = len(grid)
    cols = max((len(r) for r in grid), default=0)
    num = np.zeros((1, rows, cols))
    kind = np.zeros((1, rows, cols), np.int8)
    err = np.zeros((1, rows, cols), np.int8)
    text = np.full((1, rows, cols), None, object)
    for i, row in enumerate(grid):
        for j in range(cols):
            x = row[j] if j < len(row) else None
            k, n, e, s = py_kind(x)
            kind[0, i, j], num[0, i, j], err[0, i, j] = k, n, e
            if s is not None:
                text[0, i, j] = s
    return normalize(num, kind, err, text)


def from_objects(obj: np.ndarray) -> Value:
    """A value from an object array (T, R, C) of Python scalars."""
    shape = obj.shape
    num = np.zeros(shape)
    kind = np.zeros(shape, np.int8)
    err = np.zeros(shape, np.int8)
    text = np.full(shape, None, object)
    for idx, x in np.ndenumerate(obj):
        k, n, e, s = py_kind(x)
        kind[idx], num[idx], err[idx] = k, n, e
        if s is not None:
            text[idx] = s
    return normalize(num, kind, err, text)


def normalize(
    num: np.ndarray,
    kind: np.ndarray | None,
    err: np.ndarray | None,
    text: np.ndarray | None = None,
    is_ref: bool = False,
) -> Value:
    """Drop kind/err/text arrays that carry no information (keeps the fast path fast)."""
    if err is not None and not err.any():
        err = None
    if kind is not None and not kind.any():
        kind = None
    if kind is None or not (kind == TEXT).any():
        text = None
    return Value(num, kind, err, text, is_ref)


def stack_grid(cells: list[list[Value]]) -> Value:
    """A range value from per-cell values (each (T,1,1)), broadcasting trials."""
    rows, cols = len(cells), len(cells[0]) if cells else 0
    flat = [v for row in cells for v in row]
    t = max((v.trials for v in flat), default=1)
    shape = (t, rows, cols)
    num = np.empty(shape)
    any_kind = any(v.kind is not None for v in flat)
    any_err = any(v.err is not None for v in flat)
    any_text = any(v.text is not None for v in flat)
    kind = np.zeros(shape, np.int8) if any_kind else None
    err = np.zeros(shape, np.int8) if any_err else None
    text = np.full(shape, None, object) if any_text else None
    for i in range(rows):
        for j in range(cols):
            v = cells[i][j]
            num[:, i, j] = v.num[:, 0, 0]
            if kind is not None and v.kind is not None:
                kind[:, i, j] = v.kind[:, 0, 0]
            if err is not None and v.err is not None:
                err[:, i, j] = v.err[:, 0, 0]
            if text is not None and v.text is not None:
                text[:, i, j] = v.text[:, 0, 0]
    return Value(num, kind, err, text, True)


# -- dates --------------------------------------------------------------------------

_EPOCH = datetime(1899, 12, 30)


def to_serial(x: datetime | date | time | timedelta) -> float:
    """Excel 1900-system serial of a Python date/time (with Excel's 1900 leap-year bug)."""
    if isinstance(x, timedelta):
        return x.total_seconds() / 86400.0
    if isinstance(x, time):
        return (x.hour * 3600 + x.minute * 60 + x.second + x.microsecond / 1e6) / 86400.0
    if not isinstance(x, datetime):
        x = datetime(x.year, x.month, x.day)
    delta = x - _EPOCH
    serial = delta.days + delta.seconds / 86400.0 + delta.microseconds / 86400e6
    if 1 <= serial < 61:  # Excel pretends 1900-02-29 existed
        serial -= 1
    return serial


def from_serial(serial: float) -> datetime:
    s = float(serial)
    if 1 <= s < 61:
        s += 1
    return _EPOCH + timedelta(days=s)


# -- coercions ------------------------------------------------------------------------

_NUM_RE = re.compile(
    r"^\s*([+-]?)\s*\$?\s*((?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*(%?)\s*$"
)


def parse_number(s: str) -> float | None:
    """Excel's text-to-number coercion (``"1.5"``, ``" 2e3 "``, ``"50%"``, ``"$1,000"``, dates)."""
    m = _NUM_RE.match(s)
    if m and m.group(2) not in ("", "."):
        try:
            v = float(m.group(2).replace(",", ""))
        except ValueError:
            return None
        if m.group(1) == "-":
            v = -v
        if m.group(3):
            v /= 100.0
        return v
    return parse_datetime_text(s)


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%m-%d-%Y",
)
_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?\s*([AaPp][Mm])?\s*$")


def parse_datetime_text(s: str) -> float | None:
    s = s.strip()
    if not s:
        return None
    m = _TIME_RE.match(s)
    if m:
        return _time_serial(m)
    # date part, optional time part after a space
    parts = s.rsplit(" ", 1)
    candidates = [(s, None)]
    if len(parts) == 2 and _TIME_RE.match(parts[1]):
        candidates.insert(0, (parts[0], parts[1]))
    for dpart, tpart in candidates:
        for fmt in _DATE_FORMATS:
            try:
                d = datetime.strptime(dpart.strip(), fmt)
            except ValueError:
                continue
            serial = to_serial(d)
            if serial < 1:  # before 1900-01-01: not a date to Excel
                return None
            if tpart is not None:
                tm = _TIME_RE.match(tpart)
                t = _time_serial(tm) if tm else None
                if t is None:
                    return None
                serial += t
            return serial
    return None


def _time_serial(m: re.Match[str]) -> float | None:
    h, mi = int(m.group(1)), int(m.group(2))
    sec = float(m.group(3) or 0)
    ampm = m.group(4)
    if ampm:
        if h > 12 or h == 0:
            return None
        h = h % 12 + (12 if ampm.lower() == "pm" else 0)
    if mi >= 60 or sec >= 60:
        return None
    return (h * 3600 + mi * 60 + sec) / 86400.0


def _parse_or_nan(s: Any) -> float:
    v = parse_number(s) if isinstance(s, str) else None
    return np.nan if v is None else v


_parse_vec = np.frompyfunc(_parse_or_nan, 1, 1)


def numbers(v: Value, *, text_ok: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Numbers for arithmetic: booleans 0/1, empty 0, numeric text parsed, else #VALUE!."""
    if v.kind is None:
        return v.num, v.err
    num = v.num
    err = v.err
    is_text = v.kind == TEXT
    if is_text.any():
        num = np.array(np.broadcast_to(num, v.shape), dtype=np.float64)
        if text_ok:
            parsed = (
                _parse_vec(np.broadcast_to(v.text, v.shape)[is_text]).astype(np.float64)
                if v.text is not None
                else np.nan
            )
        else:
            parsed = np.full(int(is_text.sum()), np.nan)
        bad = np.zeros(v.shape, bool)
        full_text = np.broadcast_to(is_text, v.shape)
        num[full_text] = np.where(np.isnan(parsed), 0.0, parsed)
        bad[full_text] = np.isnan(parsed)
        if bad.any():
            err = merge_err(err, np.where(bad, np.int8(VALUE), np.int8(0)).astype(np.int8))
    return num, err


def merge_err(*errs: np.ndarray | None) -> np.ndarray | None:
    """Element-wise first non-zero error, left to right (Excel reports the leftmost)."""
    out: np.ndarray | None = None
    for e in errs:
        if e is None:
            continue
        out = e if out is None else np.where(out != 0, out, e).astype(np.int8)
    return out


def num_result(num: np.ndarray, err: np.ndarray | None, *, check: bool = True) -> Value:
    """A numeric result; non-finite numbers become #NUM! (Excel has no inf or NaN)."""
    # one reduction first: a finite sum means every element is finite (the common case);
    # one element (the compiler's probes) is read as a Python float, ten times faster
    if check and not (
        math.isfinite(num.item()) if num.size == 1 else np.isfinite(np.add.reduce(num, axis=None))
    ):
        bad = ~np.isfinite(num)
        if bad.any():
            code = np.where(bad, np.int8(NUMERR), np.int8(0)).astype(np.int8)
            err = code if err is None else np.where(err != 0, err, code).astype(np.int8)
            num = np.where(bad, 0.0, num)
    if err is not None and not err.any():
        err = None
    return Value(num, None if err is None else np.zeros((1, 1, 1), np.int8), err)


def bool_result(b: np.ndarray, err: np.ndarray | None) -> Value:
    if err is not None and not err.any():
        err = None
    return Value(b.astype(np.float64), np.full((1, 1, 1), BOOL, np.int8), err)


def truth(v: Value) -> tuple[np.ndarray, np.ndarray | None]:
    """Booleans for IF/AND/OR: numbers non-zero, "TRUE"/"FALSE" text, other text #VALUE!."""
    if v.kind is None or (v.kind.size == 1 and v.kind.flat[0] != TEXT):
        return v.num != 0, v.err  # numbers, or booleans from a comparison
    b = np.broadcast_to(v.num != 0, v.shape).copy()
    err = v.err
    is_text = np.broadcast_to(v.kind == TEXT, v.shape)
    if is_text.any():
        txt = np.broadcast_to(v.text, v.shape)[is_text]  # type: ignore[arg-type]
        up = np.array([str(s).upper() for s in txt], dtype=object)
        ok = (up == "TRUE") | (up == "FALSE")
        b[is_text] = up == "TRUE"
        bad = np.zeros(v.shape, np.int8)
        bad[is_text] = np.where(ok, 0, VALUE)
        err = merge_err(err, bad)
    return b, err


def format_general(x: float) -> str:
    """A number as Excel's General format shows it in text (up to 15 significant digits)."""
    if x == 0:
        return "0"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    ax = abs(x)
    if ax >= 1e15 or ax < 1e-9:
        s = f"{x:.14E}"
        mant, exp = s.split("E")
        mant = mant.rstrip("0").rstrip(".")
        e = int(exp)
        return f"{mant}E{'+' if e >= 0 else '-'}{abs(e):02d}"
    s = f"{x:.15g}"
    if "e" in s:
        s = f"{x:.15f}".rstrip("0").rstrip(".")
    return s


def _text_of(kind: int, num: float, txt: Any) -> str:
    if kind == TEXT:
        return str(txt)
    if kind == BOOL:
        return "TRUE" if num else "FALSE"
    if kind == EMPTY:
        return ""
    return format_general(num)


_text_vec = np.frompyfunc(_text_of, 3, 1)


def texts(v: Value) -> tuple[np.ndarray, np.ndarray | None]:
    """Strings for text functions: numbers in General format, TRUE/FALSE, empty ""."""
    f = v.full()
    return _text_vec(f.kind, f.num, f.text), v.err


def text_result(obj: np.ndarray, err: np.ndarray | None) -> Value:
    obj = np.asarray(obj, dtype=object)
    shape = obj.shape
    if err is not None and not err.any():
        err = None
    return Value(np.zeros(shape), np.full(shape, TEXT, np.int8), err, obj)


SELECT_MIN = 4096  # below this many elements np.where's branches cost nothing worth saving


def select(cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.where(cond, a, b)`` for float64 arrays, bit for bit, without branches.

    np.where branches per element, and on a Monte Carlo condition (true in a random half
    of the trials) half the branches are mispredicted: 128 µs for 32,768 trials on this
    project's machine against ~40 µs for the bit blend ``b ^ ((a ^ b) & mask)`` here,
    ~20 µs for ``IF(c, x, 0)`` (``a & mask``)."""
    shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
    if (
        math.prod(shape) < SELECT_MIN
        or a.dtype != np.float64
        or b.dtype != np.float64
        or cond.dtype != np.bool_
    ):
        return np.where(cond, a, b)
    mask = np.broadcast_to(cond, shape).astype(np.int64)
    np.negative(mask, out=mask)  # all 64 bits set where cond
    bits_b = np.broadcast_to(b, shape).view(np.int64)
    if b.size == 1 and not b.reshape(1).view(np.int64)[0]:  # +0.0: IF(c, x, 0)
        mask &= np.broadcast_to(a, shape).view(np.int64)
        return mask.view(np.float64)
    out = np.bitwise_xor(np.broadcast_to(a, shape).view(np.int64), bits_b)
    out &= mask
    out ^= bits_b
    return out.view(np.float64)


def where(cond: np.ndarray, a: Value, b: Value) -> Value:
    """Per-element choice between two values (errors in the branch not taken vanish)."""
    if a.plain() and b.plain():
        return Value(select(cond, a.num, b.num))
    fa, fb = a.full(), b.full()
    kind = np.where(cond, fa.kind, fb.kind).astype(np.int8)
    err = np.where(cond, fa.err, fb.err).astype(np.int8)
    text = np.where(cond, fa.text, fb.text) if (a.text is not None or b.text is not None) else None
    return normalize(np.where(cond, fa.num, fb.num), kind, err, text)


def first_error(err: np.ndarray) -> np.ndarray:
    """Per trial, the first non-zero error code over the (R, C) axes; shape (T,)."""
    flat = err.reshape(err.shape[0], -1)
    idx = (flat != 0).argmax(axis=1)
    return flat[np.arange(flat.shape[0]), idx]


def pick(v: Value, r: int, c: int) -> Value:
    """Element (r, c) of an array result, with Excel's broadcasting of 1-wide arrays."""
    _, rows, cols = v.shape
    rr = 0 if rows == 1 else r
    cc = 0 if cols == 1 else c
    if rr >= rows or cc >= cols:
        return error(NA)

    def sl(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        return a[
            :,
            min(rr, a.shape[1] - 1) : min(rr, a.shape[1] - 1) + 1,
            min(cc, a.shape[2] - 1) : min(cc, a.shape[2] - 1) + 1,
        ]

    return Value(sl(v.num), sl(v.kind), sl(v.err), sl(v.text), False)  # type: ignore[arg-type]


def fit_pair(a: Value | None, b: Value | None) -> tuple[Value | None, Value | None]:
    """Two operands of an element-wise operator made the same size the way Excel does:
    a single row or column repeats; where one array is shorter than the other, the
    positions it lacks are #N/A (``{1;2;3}+{1;2}`` is ``{2;4;#N/A}``)."""
    if a is None or b is None:
        return a, b
    (ra, ca), (rb, cb) = a.dims, b.dims
    if (ra == rb or 1 in (ra, rb)) and (ca == cb or 1 in (ca, cb)):
        return a, b
    rows, cols = max(ra, rb), max(ca, cb)
    return _pad_na(a, rows, cols), _pad_na(b, rows, cols)


def _pad_na(v: Value, rows: int, cols: int) -> Value:
    r0, c0 = v.dims
    r1 = 1 if r0 == 1 else rows
    c1 = 1 if c0 == 1 else cols
    if (r1, c1) == (r0, c0):
        return v
    f = v.full()
    t = f.shape[0]
    num = np.zeros((t, r1, c1))
    kind = np.full((t, r1, c1), NUM, np.int8)
    err = np.full((t, r1, c1), NA, np.int8)
    text = np.full((t, r1, c1), None, object)
    num[:, :r0, :c0] = f.num
    kind[:, :r0, :c0] = f.kind
    err[:, :r0, :c0] = f.err
    text[:, :r0, :c0] = f.text
    return Value(num, kind, err, text)
