"""Excel number formats for TEXT(): numbers (0 # ? , . % E+), dates and times.

TEXT's format is read with the separators of the locale Excel runs in, which the file
does not record. Formats are read as in en-US (``.`` decimal, ``,`` thousands), except a
format that only makes sense with a decimal comma (``"0,00"``, ``"#.##0,00"``: see
:func:`comma_decimal_format`), which is read and shown that way; the compiler reports
the cells that use one.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from ..values import VALUE, XlError, format_general, from_serial, parse_number

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _sections(fmt: str) -> list[str]:
    out, cur, quoted, i = [], [], False, 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == '"':
            quoted = not quoted
        if ch == "\\" and i + 1 < len(fmt):
            cur.append(fmt[i : i + 2])
            i += 2
            continue
        if ch == ";" and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _tokens(sec: str) -> list[tuple[str, str]]:
    """(kind, text): kind 'lit' for literal text, 'ch' for a format character."""
    toks: list[tuple[str, str]] = []
    i = 0
    while i < len(sec):
        ch = sec[i]
        if ch == '"':
            j = sec.find('"', i + 1)
            j = len(sec) if j < 0 else j
            toks.append(("lit", sec[i + 1 : j]))
            i = j + 1
        elif ch == "\\" and i + 1 < len(sec):
            toks.append(("lit", sec[i + 1]))
            i += 2
        elif ch == "_" and i + 1 < len(sec):
            toks.append(("lit", " "))
            i += 2
        elif ch == "*" and i + 1 < len(sec):
            i += 2
        elif ch == "[":
            j = sec.find("]", i)
            j = len(sec) if j < 0 else j
            inner = sec[i + 1 : j]
            if inner.lower() in ("h", "hh", "m", "mm", "s", "ss"):
                toks.append(("elapsed", inner.lower()))
            i = j + 1
        else:
            toks.append(("ch", ch))
            i += 1
    return toks


_DATE_CHARS = set("yYdDhHsS")


def _has_at(sec: str) -> bool:
    return any(k == "ch" and t == "@" for k, t in _tokens(sec))


def _is_date(toks: list[tuple[str, str]]) -> bool:
    chars = {t for k, t in toks if k == "ch"}
    if any(k == "elapsed" for k, _ in toks):
        return True
    if chars & _DATE_CHARS:
        return True
    return ("m" in chars or "M" in chars) and not (chars & set("0#?"))


_PLACEHOLDERS = "0#?"


@functools.lru_cache(maxsize=1024)
def comma_decimal_format(fmt: str) -> bool:
    """Whether a TEXT format only makes sense with ``,`` as the decimal separator and
    ``.`` as the thousands separator (as in most of Europe): its number sections are not
    usual formats in the en-US reading (a comma that does not group three digits, a comma
    after the decimal point) but are all usual with the two separators swapped."""
    sections = []
    for sec in _sections(fmt):
        toks = _tokens(sec)
        if _has_at(sec) or _is_date(toks):
            continue
        chars = [t for k, t in toks if k == "ch"]
        if any(ch in _PLACEHOLDERS for ch in chars) and ("," in chars or "." in chars):
            sections.append(chars)
    return (
        bool(sections)
        and not all(_usual(chars, point=".", sep=",") for chars in sections)
        and all(_usual(chars, point=",", sep=".") for chars in sections)
    )


def _usual(chars: list[str], *, point: str, sep: str) -> bool:
    """A number section whose digits (up to an exponent) are placeholders and separators
    only, with at most one decimal ``point`` and thousands separators ``sep`` between
    integer digits three apart or trailing (each one scales by 1000)."""
    for i in range(len(chars) - 1):
        if chars[i] in "Ee" and chars[i + 1] in "+-":
            chars = chars[:i]  # the mantissa
            break
    places = [i for i, ch in enumerate(chars) if ch in _PLACEHOLDERS]
    if not places:
        return True
    chars = chars[places[0] : places[-1] + 1]  # separators after the last digit scale
    if any(ch not in _PLACEHOLDERS + point + sep for ch in chars):
        return False  # text among the digits: a format written for its own sake
    if chars.count(point) > 1:
        return False
    whole = chars[: chars.index(point)] if point in chars else chars
    if sep in chars[len(whole) :]:
        return False
    groups, run = [], 0  # digits between separators
    for ch in whole:
        if ch in _PLACEHOLDERS:
            run += 1
        else:
            groups.append(run)
            run = 0
    groups.append(run)
    return all(g == 3 for g in groups[1:])


def _swap_separators(toks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    swap = {",": ".", ".": ","}
    return [("ch", swap[t]) if k == "ch" and t in swap else (k, t) for k, t in toks]


def format_value(x: Any, fmt: str, *, comma_decimal: bool = False) -> str:
    """``x`` shown in number format ``fmt``; ``comma_decimal`` reads and shows ``,`` as
    the decimal separator and ``.`` as the thousands separator."""
    if isinstance(x, XlError):
        raise x
    if isinstance(x, bool):
        return "TRUE" if x else "FALSE"
    if x is None:
        x = 0.0
    if fmt == "":
        # an empty format shows text as it is, of a number nothing but a minus sign
        if isinstance(x, str):
            return x
        return "-" if x < 0 else ""
    secs = _sections(fmt)
    at = [_has_at(sec) for sec in secs]
    if len(secs) >= 4 and any(at[:3]):
        raise XlError(VALUE)  # text (@) in a number section
    if 1 < len(secs) < 4 and at[-1] and not any(at[:-1]):
        # the last section holds @: it is the text section, the others are for numbers
        text_sec: str | None = secs[-1]
        secs = secs[:-1]
    else:
        text_sec = secs[3] if len(secs) >= 4 else (secs[0] if at[0] else None)
    if isinstance(x, str) and len(secs) < 4 and "@" not in fmt:
        # TEXT reads text that looks like a number, date or time as that number
        parsed = parse_number(x)
        if parsed is None:
            parsed = _parse_time(x)
        if parsed is not None:
            x = parsed
    if isinstance(x, str):
        if text_sec is not None:
            return "".join(
                t if k == "lit" else (x if t == "@" else t) for k, t in _tokens(text_sec)
            )
        return x
    x = float(x)
    if fmt.strip() == "" or fmt.lower() == "general":
        return format_general(x)
    neg_auto = False
    if x > 0 or len(secs) == 1:
        sec = secs[0]
        neg_auto = x < 0
    elif x < 0:
        sec = secs[1] if len(secs) > 1 else secs[0]
        neg_auto = len(secs) < 2
        x = abs(x) if len(secs) > 1 else x
    else:
        sec = secs[2] if len(secs) > 2 else secs[0]
    toks = _tokens(sec)
    if sec.lower() == "general":
        return format_general(x)
    chars = {t for k, t in toks if k == "ch"}
    if "@" in chars and chars & set("0#?"):
        raise XlError(VALUE)  # text and digit placeholders in one number section
    if _is_date(toks):
        if chars & set("#?"):
            raise XlError(VALUE)  # digit placeholders in a date or time
        if x >= 2958466 and not any(k == "elapsed" for k, _ in toks):
            raise XlError(VALUE)  # after 9999-12-31
        if x < 0:
            if _elapsed_only(toks):  # [h], [m], [s] count down as well as up
                return "-" + _format_date(-x, toks)
            raise XlError(VALUE)
        return _format_date(x, toks)
    point, sep = ".", ","
    if comma_decimal:
        toks, point, sep = _swap_separators(toks), ",", "."
    out = _format_number(abs(x) if neg_auto else x, toks, point=point, sep=sep)
    return ("-" + out) if neg_auto and out.strip("0.,% ") != "" else out


def _elapsed_only(toks: list[tuple[str, str]]) -> bool:
    """A lone [h], [m] or [s]: the only time formats Excel applies to a negative number."""
    codes = [t for k, t in toks if k == "elapsed" or (k == "ch" and t.lower() in "ymdhs.0")]
    return len(codes) == 1 and any(k == "elapsed" for k, _ in toks)


_TIME_RE = re.compile(r"^\s*(\d+):(\d+)(?::(\d+(?:\.\d*)?))?(\.\d*)?\s*$")


def _parse_time(text: str) -> float | None:
    """Excel's reading of times typed loosely: ``23:99`` (h:m), ``0:59:99`` (h:m:s),
    ``59:9999.5`` (m:s with a fraction); overflowing fields carry over."""
    m = _TIME_RE.match(text)
    if m is None:
        return None
    a, b, c, frac = m.group(1), m.group(2), m.group(3), m.group(4)
    if c is not None:  # h:m:s
        if frac or int(a) > 23 or int(b) > 59 or float(c) >= 10000:
            return None
        seconds = int(a) * 3600 + int(b) * 60 + float(c)
    elif frac and frac != ".":  # m:s.fraction
        if int(a) > 59 or float(b + frac) >= 10000:
            return None
        seconds = int(a) * 60 + float(b + frac)
    else:  # h:m
        if int(a) > 23 or int(b) >= 10000:
            return None
        seconds = int(a) * 3600 + int(b) * 60
    return seconds / 86400.0


def _format_number(
    x: float, toks: list[tuple[str, str]], *, point: str = ".", sep: str = ","
) -> str:
    """``point`` and ``sep`` are the decimal and thousands separators shown."""
    chars = [t for k, t in toks if k == "ch"]
    has_digits = any(c in "0#?" for c in chars)
    if not has_digits:
        return "".join(t for _, t in toks)
    pct = chars.count("%")
    x = x * (100**pct)
    # scientific?
    sci_idx = None
    for i, (k, t) in enumerate(toks):
        if k == "ch" and t in "Ee" and i + 1 < len(toks) and toks[i + 1][1] in "+-":
            sci_idx = i
            break
    if sci_idx is not None:
        return _format_sci(x, toks, sci_idx, point=point, sep=sep)
    # split integer / fraction at the first '.'
    dot = next((i for i, (k, t) in enumerate(toks) if k == "ch" and t == "."), None)
    int_toks = toks if dot is None else toks[:dot]
    frac_toks = [] if dot is None else toks[dot + 1 :]
    # trailing commas after the last integer placeholder scale by 1000
    last_ph = max((i for i, (k, t) in enumerate(int_toks) if k == "ch" and t in "0#?"), default=-1)
    scale_commas = 0
    if dot is None:
        j = last_ph + 1
        while j < len(int_toks) and int_toks[j] == ("ch", ","):
            scale_commas += 1
            j += 1
    else:
        j = len(int_toks) - 1
        while j > last_ph and int_toks[j] == ("ch", ","):
            scale_commas += 1
            j -= 1
    x = x / (1000**scale_commas)
    grouping = any(k == "ch" and t == "," for i, (k, t) in enumerate(int_toks) if i < last_ph)
    nfrac = sum(1 for k, t in frac_toks if k == "ch" and t in "0#?")
    neg = x < 0
    ax = abs(x)
    rounded = _round_half_away(ax, nfrac)
    int_part = int(math.floor(rounded))
    frac_digits = f"{rounded - int_part:.{nfrac}f}"[2:] if nfrac else ""
    if nfrac and len(frac_digits) < nfrac:
        frac_digits = frac_digits.ljust(nfrac, "0")
    int_str = str(int_part) if int_part else ""
    # integer placeholders
    phs = [i for i, (k, t) in enumerate(int_toks) if k == "ch" and t in "0#?"]
    min_zero = 0
    seen_zero = False
    for i in phs:
        if int_toks[i][1] == "0":
            seen_zero = True
        if seen_zero:
            min_zero += 1
    digits = int_str.rjust(min_zero, "0") if min_zero else int_str
    if grouping:
        digits = f"{int(digits):,}".replace(",", sep) if digits else ""
        digits = digits.rjust(min_zero, "0") if min_zero and len(digits) < min_zero else digits
    out_int: list[str] = []
    remaining = digits
    ph_left = len(phs)
    for k, t in reversed(int_toks):
        if k == "ch" and t in "0#?":
            ph_left -= 1
            if ph_left == 0:
                out_int.append(remaining)
                remaining = ""
            elif remaining:
                out_int.append(remaining[-1])
                remaining = remaining[:-1]
            elif t == "?":
                out_int.append(" ")
        elif k == "ch" and t == ",":
            continue
        elif k == "ch" and t == "%":
            out_int.append("%")
        else:
            out_int.append(t)
    int_out = "".join(reversed(out_int))
    if not phs and remaining:
        int_out += remaining  # no integer placeholder (".##"): the digits still show
    frac_out: list[str] = []
    fd = list(frac_digits)
    # '#' drops trailing zeros, '?' turns them into spaces
    ph_frac = [t for k, t in frac_toks if k == "ch" and t in "0#?"]
    keep = len(fd)
    while keep > 0 and fd[keep - 1] == "0" and ph_frac[keep - 1] != "0":
        keep -= 1
    pi = 0
    for k, t in frac_toks:
        if k == "ch" and t in "0#?":
            if pi < keep:
                frac_out.append(fd[pi])
            elif t == "?":
                frac_out.append(" ")
            pi += 1
        elif k == "ch" and t == ",":
            continue
        else:
            frac_out.append(t)
    res = int_out + (point + "".join(frac_out) if dot is not None else "")
    return ("-" if neg else "") + res


def _round_half_away(x: float, nd: int) -> float:
    m = 10.0**nd
    y = float(f"{x * m:.12g}") if x * m < 1e15 else x * m
    return math.floor(y + 0.5) / m


def _format_sci(
    x: float, toks: list[tuple[str, str]], e_idx: int, *, point: str = ".", sep: str = ","
) -> str:
    mant_toks = toks[:e_idx]
    exp_toks = toks[e_idx + 2 :]
    sign_ch = toks[e_idx + 1][1]
    exp_digits = sum(1 for k, t in exp_toks if k == "ch" and t in "0#?")
    dot = next((i for i, (k, t) in enumerate(mant_toks) if k == "ch" and t == "."), None)
    nfrac = (
        0 if dot is None else sum(1 for k, t in mant_toks[dot + 1 :] if k == "ch" and t in "0#?")
    )
    nint = sum(
        1 for k, t in (mant_toks if dot is None else mant_toks[:dot]) if k == "ch" and t in "0#?"
    )
    if x == 0:
        exp = 0
    else:
        exp = int(math.floor(math.log10(abs(x))))
        step = max(nint, 1)
        if nint > 1:
            exp = exp - (exp % step)
    mant = x / (10.0**exp) if x else 0.0
    mant = _round_half_away(abs(mant), nfrac) * (1 if x >= 0 else -1)
    if abs(mant) >= 10 ** max(nint, 1):
        exp += 1
        mant = mant / 10
    mant_fmt = _format_number(mant, mant_toks, point=point, sep=sep)
    es = ("-" if exp < 0 else ("+" if sign_ch == "+" else "")) + str(abs(exp)).rjust(
        exp_digits, "0"
    )
    return mant_fmt + "E" + es


def _format_date(serial: float, toks: list[tuple[str, str]]) -> str:
    # round to the nearest second, like Excel's display
    total_seconds = round(serial * 86400)
    days, secs = divmod(total_seconds, 86400)
    if not any(k == "ch" and t.lower() in "ymd" for k, t in toks):
        y, mo, d, wd = 1900, 1, 0, 5  # a time or an elapsed duration: no calendar needed
    elif days == 60:
        y, mo, d, wd = 1900, 2, 29, 2
    elif days == 0:
        y, mo, d, wd = 1900, 1, 0, 5
    else:
        dt = from_serial(days)
        y, mo, d, wd = dt.year, dt.month, dt.day, dt.weekday()
    hh, rem = divmod(secs, 3600)
    mi, ss = divmod(rem, 60)
    has_ampm = any(k == "ch" and t.upper() in ("A",) for k, t in toks) and re.search(
        r"(?i)am/pm|a/p", "".join(t for k, t in toks if k == "ch")
    )
    # group consecutive identical format characters
    groups: list[tuple[str, str]] = []
    i = 0
    while i < len(toks):
        k, t = toks[i]
        if k == "ch" and t.lower() in "ymdhs":
            j = i
            while j < len(toks) and toks[j][0] == "ch" and toks[j][1].lower() == t.lower():
                j += 1
            groups.append(("code", t.lower() * (j - i)))
            i = j
            continue
        if k == "ch" and t.upper() == "A":
            rest = "".join(x[1] for x in toks[i : i + 5])
            if rest.upper() == "AM/PM":
                groups.append(("ampm", "AM/PM"))
                i += 5
                continue
            rest = "".join(x[1] for x in toks[i : i + 3])
            if rest.upper() == "A/P":
                groups.append(("ampm", "A/P"))
                i += 3
                continue
        if k == "elapsed":
            groups.append(("elapsed", t))
            i += 1
            continue
        groups.append(("lit", t))
        i += 1
    out = []
    for gi, (k, t) in enumerate(groups):
        if k == "lit":
            out.append(t)
        elif k == "ampm":
            pm = hh >= 12
            out.append(("PM" if pm else "AM") if t == "AM/PM" else ("P" if pm else "A"))
        elif k == "elapsed":
            if t.startswith("h"):
                out.append(str(int(total_seconds // 3600)).rjust(len(t), "0"))
            elif t.startswith("m"):
                out.append(str(int(total_seconds // 60)).rjust(len(t), "0"))
            else:
                out.append(str(int(total_seconds)).rjust(len(t), "0"))
        elif t[0] == "y":
            out.append(str(y) if len(t) > 2 else f"{y % 100:02d}")
        elif t[0] == "d":
            if len(t) >= 4:
                out.append(_DAYS[wd])
            elif len(t) == 3:
                out.append(_DAYS[wd][:3])
            else:
                out.append(f"{d:0{len(t)}d}")
        elif t[0] == "h":
            h = hh % 12 or 12 if has_ampm else hh
            out.append(f"{h:0{min(len(t), 2)}d}")
        elif t[0] == "s":
            out.append(f"{ss:0{min(len(t), 2)}d}")
        elif t[0] == "m":
            prev = next((g for g in reversed(groups[:gi]) if g[0] == "code"), None)
            nxt = next((g for g in groups[gi + 1 :] if g[0] == "code"), None)
            prev_any = next((g for g in reversed(groups[:gi]) if g[0] != "lit"), None)
            minute = len(t) <= 2 and (
                (prev is not None and prev[1][0] == "h")
                or (nxt is not None and nxt[1][0] == "s")
                or (prev_any is not None and prev_any[0] == "elapsed" and prev_any[1][0] == "h")
            )
            if minute:
                out.append(f"{mi:0{len(t)}d}")
            elif len(t) >= 5:
                out.append(_MONTHS[mo - 1][0])
            elif len(t) == 4:
                out.append(_MONTHS[mo - 1])
            elif len(t) == 3:
                out.append(_MONTHS[mo - 1][:3])
            else:
                out.append(f"{mo:0{len(t)}d}")
    return "".join(out)
