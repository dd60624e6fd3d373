"""Text functions (element-wise on strings): CONCAT, LEFT, MID, FIND, SUBSTITUTE, TEXT..."""

from __future__ import annotations

import numpy as np

from ..values import (
    VALUE,
    Value,
    XlError,
    error,
    format_general,
    merge_err,
    parse_datetime_text,
    parse_number,
    text_result,
    texts,
)
from .helpers import collect, lift
from .numfmt import comma_decimal_format, format_value
from .registry import ALL, EvalContext, Params, params, register


def _int(x: float, lo: int = 0) -> int:
    n = int(np.floor(x))
    if n < lo:
        raise XlError(VALUE)
    return n


def _text_fn(name: str, fn, how: str, min_args: int | None = None, **rules: Params) -> None:
    def impl(ctx: EvalContext, *args: Value | None) -> Value:
        padded = list(args) + [None] * (len(how) - len(args))
        return lift(fn, padded, how)

    register(
        name,
        min_args=len(how) if min_args is None else min_args,
        max_args=len(how),
        values=ALL,
        **rules,
    )(impl)


_text_fn("LEFT", lambda s, n=None: s[: _int(1 if n is None else n)], "sn", 1)
_text_fn(
    "RIGHT",
    lambda s, n=None: s[-_int(1 if n is None else n) :] if _int(1 if n is None else n) else "",
    "sn",
    1,
)
_text_fn("MID", lambda s, start, n: s[_int(start, 1) - 1 : _int(start, 1) - 1 + _int(n)], "snn")
_text_fn("LEN", lambda s: float(len(s)), "s")
_text_fn("UPPER", lambda s: s.upper(), "s")
_text_fn("LOWER", lambda s: s.lower(), "s")
_text_fn("PROPER", lambda s: _proper(s), "s")
_text_fn("TRIM", lambda s: " ".join(part for part in s.split(" ") if part), "s")
_text_fn("CLEAN", lambda s: "".join(ch for ch in s if ord(ch) >= 32), "s")
_text_fn("EXACT", lambda a, b: a == b, "ss")
_text_fn("REPT", lambda s, n: s * _int(n), "sn")


def _char(n: float, codepage: str) -> str:
    """CHAR: the character of code ``n`` (1 to 255) in the character set of the computer
    that calculates, Windows' ANSI (cp1252) or the Macintosh set (Mac Roman)."""
    k = _int(n, 1)
    if k > 255:
        raise XlError(VALUE)
    try:
        return bytes([k]).decode(codepage)
    except UnicodeDecodeError:  # the five codes cp1252 leaves unassigned: as Latin-1
        return chr(k)


def _code(s: str, codepage: str) -> float:
    """CODE: the code of the first character in that character set; 63 ("?") for a
    character it does not have."""
    if not s:
        raise XlError(VALUE)
    try:
        return float(s[0].encode(codepage)[0])
    except UnicodeEncodeError:
        return 63.0 if ord(s[0]) > 255 else float(ord(s[0]))


_text_fn("CHAR", lambda n: _char(n, "cp1252"), "n")
_text_fn("UNICHAR", lambda n: chr(_int(n, 1)), "n")
_text_fn("CODE", lambda s: _code(s, "cp1252"), "s")
# a workbook saved by Excel for Mac: the compiler calls these for CHAR and CODE
_text_fn("_CHAR_MAC", lambda n: _char(n, "mac_roman"), "n")
_text_fn("_CODE_MAC", lambda s: _code(s, "mac_roman"), "s")
_text_fn("UNICODE", lambda s: float(ord(s[0])) if s else _raise(VALUE), "s")
_text_fn("T", lambda x: x if isinstance(x, str) else "", "a")
# a format that only makes sense with a decimal comma is read that way (the compiler
# reports the cells: the locale Excel ran in is not in the file)
_text_fn(
    "TEXT",
    lambda x, fmt: format_value(x, fmt, comma_decimal=comma_decimal_format(fmt)),
    "as",
    formats=params(1),
)
_text_fn(
    "REPLACE",
    lambda s, start, n, new: s[: _int(start, 1) - 1] + new + s[_int(start, 1) - 1 + _int(n) :],
    "snns",
)


def _raise(code: int):
    raise XlError(code)


def _proper(s: str) -> str:
    out = []
    prev_alpha = False
    for ch in s:
        out.append(ch.lower() if prev_alpha else ch.upper())
        prev_alpha = ch.isalpha()
    return "".join(out)


def _find(needle: str, hay: str, start: float | None, case: bool) -> float:
    st = 1 if start is None else _int(start, 1)
    if st > len(hay) + 1:
        raise XlError(VALUE)
    if case:
        pos = hay.find(needle, st - 1)
    else:
        from .criteria import wildcard_regex

        if any(ch in needle for ch in "*?~"):
            rx = wildcard_regex(needle)
            pat = rx.pattern[1:-1]
            import re

            m = re.compile(pat, re.IGNORECASE | re.DOTALL).search(hay, st - 1)
            pos = -1 if m is None else m.start()
        else:
            pos = hay.lower().find(needle.lower(), st - 1)
    if pos < 0:
        raise XlError(VALUE)
    return float(pos + 1)


_text_fn("FIND", lambda a, b, s=None: _find(a, b, s, True), "ssn", 2)
_text_fn("SEARCH", lambda a, b, s=None: _find(a, b, s, False), "ssn", 2)


def _substitute(s: str, old: str, new: str, nth: float | None) -> str:
    if old == "":
        return s
    if nth is None:
        return s.replace(old, new)
    k = _int(nth, 1)
    pos = -1
    for _ in range(k):
        pos = s.find(old, pos + 1)
        if pos < 0:
            return s
    return s[:pos] + new + s[pos + len(old) :]


_text_fn("SUBSTITUTE", _substitute, "sssn", 3)


def _value(x):
    if isinstance(x, bool):
        raise XlError(VALUE)
    if isinstance(x, float):
        return x
    if x is None:
        return 0.0
    v = parse_number(str(x))
    if v is None:
        raise XlError(VALUE)
    return v


_text_fn("VALUE", _value, "a")
_text_fn("DATEVALUE", lambda s: float(np.floor(_value(s))), "s")


def _timevalue(x) -> float:
    """Only text that reads as a date or time: numbers, booleans and "1.25" are #VALUE!."""
    v = parse_datetime_text(x) if isinstance(x, str) else None
    if v is None:
        raise XlError(VALUE)
    return v % 1.0


_text_fn("TIMEVALUE", _timevalue, "a")


def _numbervalue(s: str, dec: str | None = None, grp: str | None = None) -> float:
    dec = dec or "."
    grp = grp or ","
    t = s.replace(" ", "").replace(grp[0], "").replace(dec[0], ".")
    v = parse_number(t) if t else 0.0
    if v is None:
        raise XlError(VALUE)
    return v


_text_fn("NUMBERVALUE", _numbervalue, "sss", 1)


def _fixed(x: float, d: float | None = None, no_commas: bool | None = None) -> str:
    from .math import excel_round

    dd = 2 if d is None else int(np.trunc(d))
    v = float(excel_round(np.array(x), np.array(float(dd))))
    fmt = f"{{:{'' if no_commas else ','}.{max(dd, 0)}f}}"
    return fmt.format(v)


_text_fn("FIXED", _fixed, "nnb", 1)
_text_fn("DOLLAR", lambda x, d=None: ("-" if x < 0 else "") + "$" + _fixed(abs(x), d), "nn", 1)


def _concat_all(args, delim: str = "", skip_empty: bool = False) -> Value:
    """Join every element of every argument per trial."""
    parts = []
    errs = []
    t = max((a.trials for a in args if a is not None), default=1)
    for a in args:
        if a is None:
            continue
        tx, e = texts(a)
        tx = np.broadcast_to(tx, (tx.shape[0], *a.dims)).reshape(tx.shape[0], -1)
        parts.append(np.broadcast_to(tx, (t, tx.shape[1])))
        if e is not None:
            from ..values import first_error

            errs.append(first_error(np.broadcast_to(e, a.shape)))
    out = np.empty((t, 1, 1), dtype=object)
    allp = np.concatenate(parts, axis=1) if parts else np.empty((t, 0), dtype=object)
    for i in range(t):
        items = [str(x) for x in allp[i] if not (skip_empty and x == "")]
        out[i, 0, 0] = delim.join(items)
    err = merge_err(*errs) if errs else None
    return text_result(out, None if err is None else np.asarray(err, np.int8).reshape(-1, 1, 1))


@register("CONCAT", min_args=1, arrays=ALL)
def concat(ctx: EvalContext, *args: Value | None) -> Value:
    return _concat_all(args)


@register("CONCATENATE", min_args=1, values=ALL)
def concatenate(ctx: EvalContext, *args: Value | None) -> Value:
    from .operators import concat as amp

    res: Value | None = None
    for a in args:
        a = a if a is not None else text_result(np.array([[[""]]], dtype=object), None)
        res = a if res is None else amp(ctx, res, a)
        if res is a:
            tx, e = texts(a)
            res = text_result(tx, e)
    return res  # type: ignore[return-value]


@register("TEXTJOIN", min_args=3, values=params(0, 1), arrays=params(every=(2, 1)))
def textjoin(ctx: EvalContext, delim: Value, skip: Value, *args: Value | None) -> Value:
    d = delim.to_py()
    d = "" if d is None else (d if isinstance(d, str) else format_general(float(d)))
    return _concat_all(args, d, bool(skip.to_py()))


@register("ARRAYTOTEXT", min_args=1, max_args=2, values=params(1), arrays=params(0))
def arraytotext(ctx: EvalContext, arr: Value, fmt: Value | None = None) -> Value:
    """ARRAYTOTEXT(array, [format]): concise (0) ``1, a, TRUE`` or strict (1)
    ``{1,"a",TRUE;...}`` with text quoted, columns split by "," and rows by ";"."""
    mode = 0.0 if fmt is None else fmt.to_py()
    if mode not in (0.0, 1.0, None):
        return error(VALUE)
    strict = mode == 1.0
    rows, cols = arr.dims
    out = np.empty((arr.trials, 1, 1), dtype=object)
    for t in range(arr.trials):
        lines = []
        for r in range(rows):
            items = []
            for c in range(cols):
                x = arr.to_py(t, r, c)
                if isinstance(x, bool):
                    items.append("TRUE" if x else "FALSE")
                elif isinstance(x, float):
                    items.append(format_general(x))
                elif x is None:
                    items.append("")
                elif isinstance(x, str):
                    items.append('"' + x.replace('"', '""') + '"' if strict else x)
                else:
                    items.append(str(x))  # an error value: its text
            lines.append(("," if strict else ", ").join(items))
        body = (";" if strict else ", ").join(lines)
        out[t, 0, 0] = "{" + body + "}" if strict else body
    return text_result(out, None)


__all__ = ["collect"]


def _address(
    row: float,
    col: float,
    abs_num: float | None = None,
    a1: bool | None = None,
    sheet: str | None = None,
) -> str:
    from openpyxl.utils import get_column_letter

    r, c = int(np.trunc(row)), int(np.trunc(col))
    mode = 1 if abs_num is None else int(np.trunc(abs_num))
    if r < 1 or c < 1 or r > 1048576 or c > 16384 or mode not in (1, 2, 3, 4):
        raise XlError(VALUE)
    abs_row, abs_col = mode in (1, 2), mode in (1, 3)
    if a1 is None or a1:
        text = f"{'$' if abs_col else ''}{get_column_letter(c)}{'$' if abs_row else ''}{r}"
    else:
        text = f"R{r if abs_row else f'[{r}]'}C{c if abs_col else f'[{c}]'}"
    if sheet:
        from ..refs import quote_sheet

        text = f"{quote_sheet(sheet)}!{text}"
    return text


_text_fn("ADDRESS", _address, "nnnbs", 2)
