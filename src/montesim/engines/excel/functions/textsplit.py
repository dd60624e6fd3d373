"""Text cut at delimiters (TEXTBEFORE, TEXTAFTER, TEXTSPLIT), regular expressions
(REGEXTEST, REGEXEXTRACT, REGEXREPLACE), VALUETOTEXT, and the byte-counting variants of
the text functions (LEFTB ...), which count characters as the others do in a language
without double-byte characters, the only kind this engine evaluates in."""

from __future__ import annotations

import re

import numpy as np

from ..values import NA, VALUE, Value, XlError, error, format_general, from_grid, text_result
from .helpers import lift
from .registry import ALL, EvalContext, get_function, params, register


def _texts_of(v: Value) -> list[str]:
    """The delimiters given: one text, or an array of them (the first trial's)."""
    out = []
    for r in range(v.dims[0]):
        for c in range(v.dims[1]):
            x = v.to_py(0, r, c)
            if isinstance(x, XlError):
                raise x
            out.append(_as_text(x))
    return out


def _as_text(x: object) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "TRUE" if x else "FALSE"
    if isinstance(x, float):
        return format_general(x)
    return str(x)


def _occurrences(text: str, delims: list[str], fold: bool) -> list[tuple[int, int]]:
    """(start, end) of each delimiter met scanning from the left, without overlaps; at
    one place the longest delimiter given wins."""
    hay = text.lower() if fold else text
    keys = sorted({d.lower() if fold else d for d in delims}, key=len, reverse=True)
    if any(k == "" for k in keys):
        return [(0, 0)]
    out, i = [], 0
    while i <= len(hay):
        hits = [(hay.find(k, i), -len(k)) for k in keys]
        hits = [h for h in hits if h[0] >= 0]
        if not hits:
            break
        start, neg = min(hits)
        out.append((start, start - neg))
        i = start - neg if neg else start + 1
    return out


def _cut(
    text: str,
    delims: list[str],
    instance: float,
    mode: float,
    match_end: float,
    before: bool,
) -> str | None:
    """TEXTBEFORE/TEXTAFTER of one text; None when the delimiter is not found."""
    n = int(instance)
    if n == 0 or abs(n) > max(len(text), 1) or int(mode) not in (0, 1):
        raise XlError(VALUE)
    if "" in delims:  # an empty delimiter sits at the start (or, from the end, at the end)
        at = (0, 0) if n > 0 else (len(text), len(text))
        return text[: at[0]] if before else text[at[1] :]
    found = _occurrences(text, delims, fold=int(mode) == 1)
    if match_end:
        found = [*found, (len(text), len(text))] if n > 0 else [(0, 0), *found]
    if abs(n) > len(found):
        return None
    start, end = found[n - 1] if n > 0 else found[n]
    return text[:start] if before else text[end:]


def _before_after(before: bool):
    def impl(
        ctx: EvalContext,
        text: Value,
        delim: Value,
        instance: Value | None = None,
        mode: Value | None = None,
        match_end: Value | None = None,
        missing: Value | None = None,
    ) -> Value:
        try:
            delims = _texts_of(delim)
        except XlError as e:
            return error(e.code)

        def one(t: str, n: float | None, m: float | None, e: float | None) -> object:
            got = _cut(t, delims, 1 if n is None else n, m or 0, e or 0, before)
            return XlError(NA) if got is None else got

        res = lift(one, [text, instance, mode, match_end], "snnn")
        if missing is None:
            return res
        from ..values import where

        miss = (res.err == NA) if res.err is not None else np.zeros(res.shape, bool)
        return where(miss, missing, res) if miss.any() else res

    return impl


register(
    "TEXTBEFORE",
    min_args=2,
    max_args=6,
    values=params(0, 2, 3, 4, 5),
    arrays=params(1),
    empty_is_omitted=True,
)(_before_after(True))
register(
    "TEXTAFTER",
    min_args=2,
    max_args=6,
    values=params(0, 2, 3, 4, 5),
    arrays=params(1),
    empty_is_omitted=True,
)(_before_after(False))


@register("TEXTSPLIT", min_args=2, max_args=6, empty_is_omitted=True, sized_by_data=True)
def textsplit(
    ctx: EvalContext,
    text: Value,
    cols: Value | None,
    rows: Value | None = None,
    ignore_empty: Value | None = None,
    mode: Value | None = None,
    pad: Value | None = None,
) -> Value:
    """One text split into columns at ``cols`` and rows at ``rows``; short rows padded
    with ``pad`` (#N/A by default). Its size follows the text, so a text that changes
    between trials is reported by the compiler, not computed here."""
    if text.trials > 1 or text.dims != (1, 1):
        return error(VALUE)
    s = text.to_py()
    if isinstance(s, XlError):
        return error(s.code)
    s = _as_text(s)
    try:
        cdel = _texts_of(cols) if cols is not None else []
        rdel = _texts_of(rows) if rows is not None else []
    except XlError as e:
        return error(e.code)
    if not cdel and not rdel:
        return error(VALUE)
    fold = mode is not None and bool(mode.to_py())
    skip = ignore_empty is not None and bool(ignore_empty.to_py())

    def split(x: str, delims: list[str]) -> list[str]:
        if not delims or any(d == "" for d in delims):
            return [x]
        pattern = "|".join(re.escape(d) for d in sorted(delims, key=len, reverse=True))
        parts = re.split(pattern, x, flags=re.IGNORECASE if fold else 0)
        return [p for p in parts if p] if skip else parts

    lines = [split(line, cdel) for line in split(s, rdel)] or [[""]]
    width = max(len(line) for line in lines)
    fill = XlError(NA) if pad is None else pad.to_py()
    return from_grid([line + [fill] * (width - len(line)) for line in lines])


# -- regular expressions --------------------------------------------------------------------


def _regex(pattern: str, case: float | None) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE if case else 0)
    except re.error as exc:
        raise XlError(VALUE) from exc


register("REGEXTEST", min_args=2, max_args=3, values=ALL)(
    lambda ctx, t, p, c=None: lift(
        lambda s, pat, k: _regex(pat, k).search(s) is not None, [t, p, c], "ssn"
    )
)


def _extract(s: str, pat: str, case: float | None) -> object:
    m = _regex(pat, case).search(s)
    return XlError(NA) if m is None else m.group(0)


@register("REGEXEXTRACT", min_args=2, max_args=4, values=ALL)
def regexextract(
    ctx: EvalContext, t: Value, p: Value, mode: Value | None = None, case: Value | None = None
) -> Value:
    """The first match (return mode 0). Modes 1 (every match) and 2 (the groups of the
    first) spill arrays: computed for one text that is the same in every trial."""
    how = 0 if mode is None else mode.to_py()
    if how in (None, 0.0):
        return lift(_extract, [t, p, case], "ssn")
    if how not in (1.0, 2.0) or t.trials > 1 or t.dims != (1, 1) or p.dims != (1, 1):
        return error(VALUE)
    s, pat = _as_text(t.to_py()), _as_text(p.to_py())
    try:
        rx = _regex(pat, None if case is None else case.to_py())
    except XlError as e:
        return error(e.code)
    if how == 1.0:
        found = [m.group(0) for m in rx.finditer(s)]
        return from_grid([[x] for x in found]) if found else error(NA)
    m = rx.search(s)
    if m is None:
        return error(NA)
    groups = [g if g is not None else "" for g in m.groups()] or [m.group(0)]
    return from_grid([groups])


def _replace(s: str, pat: str, new: str, occurrence: float | None, case: float | None) -> str:
    """Every match replaced (occurrence 0), or only the n-th (from the end if negative);
    ``$1`` in the replacement is the first group, as in Excel's (PCRE2) syntax."""
    rx = _regex(pat, case)
    repl = re.sub(r"\$(\d+)", r"\\g<\1>", new.replace("\\", "\\\\"))
    n = int(occurrence or 0)
    if n == 0:
        return rx.sub(repl, s)
    matches = list(rx.finditer(s))
    if abs(n) > len(matches):
        return s
    m = matches[n - 1] if n > 0 else matches[n]
    return s[: m.start()] + m.expand(repl) + s[m.end() :]


register("REGEXREPLACE", min_args=3, max_args=5, values=ALL)(
    lambda ctx, t, p, r, o=None, c=None: lift(_replace, [t, p, r, o, c], "sssnn")
)


@register("VALUETOTEXT", min_args=1, max_args=2, values=ALL)
def valuetotext(ctx: EvalContext, v: Value, fmt: Value | None = None) -> Value:
    """A value as text: concise (0) as it shows, strict (1) with text in quotes."""

    def one(x: object, mode: float | None) -> str:
        if int(mode or 0) not in (0, 1):
            raise XlError(VALUE)
        if isinstance(x, str) and mode:
            return '"' + x.replace('"', '""') + '"'
        return _as_text(x)

    return lift(one, [v, fmt], "xn")


def _encodeurl(s: str) -> str:
    """Percent-encoding of everything but letters, digits and - _ . ~ (UTF-8 bytes)."""
    from urllib.parse import quote

    return quote(s, safe="-_.~")


register("ENCODEURL", min_args=1, max_args=1, values=ALL)(lambda ctx, s: lift(_encodeurl, [s], "s"))


# -- the byte-counting variants -----------------------------------------------------------------

for _name in ("LEFT", "RIGHT", "MID", "LEN", "FIND", "SEARCH", "REPLACE"):
    _spec = get_function(_name)
    assert _spec is not None
    register(_name + "B", min_args=_spec.min_args, max_args=_spec.max_args, values=_spec.values)(
        _spec.impl
    )

__all__ = ["text_result"]
