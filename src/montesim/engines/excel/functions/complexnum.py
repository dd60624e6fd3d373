"""Complex numbers as Excel writes them, text such as "3+4i" or "-2.5j": COMPLEX and
every IM... function, element by element over trials (Python's complex arithmetic and
``cmath``; IMPOWER in polar form, as Excel computes it)."""

from __future__ import annotations

import cmath
import math

from ..values import NUMERR, VALUE, Value, XlError, format_general, parse_number
from .helpers import flat_py, lift
from .registry import ALL, EvalContext, register


def parse_complex(x: object) -> tuple[complex, str | None]:
    """A complex number and its suffix ("i", "j", or None for a real number)."""
    if isinstance(x, XlError):
        raise x
    if x is None:
        return 0j, None
    if isinstance(x, bool):
        raise XlError(VALUE)
    if isinstance(x, float):
        return complex(x, 0.0), None
    s = str(x).strip()
    if not s:
        return 0j, None
    suffix = s[-1] if s[-1] in "ij" else None
    if suffix is None:
        v = parse_number(s)
        if v is None:
            raise XlError(NUMERR)
        return complex(v, 0.0), None
    body = s[:-1]
    split = max(
        (k for k in range(1, len(body)) if body[k] in "+-" and body[k - 1] not in "eE"),
        default=0,
    )
    real_text, imag_text = body[:split], body[split:]
    real = _part(real_text) if real_text else 0.0
    imag = {"": 1.0, "+": 1.0, "-": -1.0}.get(imag_text)
    if imag is None:
        imag = _part(imag_text)
    return complex(real, imag), suffix


def _part(text: str) -> float:
    if not text or text[-1] in "+-" or " " in text:
        raise XlError(NUMERR)
    v = parse_number(text)
    if v is None or text.lower().startswith(("inf", "nan")):
        raise XlError(NUMERR)
    return v


def format_complex(z: complex, suffix: str | None = "i") -> str:
    """Excel's text of a complex number: 15 significant digits, "i" for 1i."""
    if not (math.isfinite(z.real) and math.isfinite(z.imag)):
        raise XlError(NUMERR)
    re_, im = _clean(z.real), _clean(z.imag)
    sfx = suffix or "i"
    if im == 0:
        return format_general(re_)
    imag = "" if abs(im) == 1 else format_general(abs(im))
    sign = "-" if im < 0 else "+"
    if re_ == 0:
        return ("-" if im < 0 else "") + imag + sfx
    return format_general(re_) + sign + imag + sfx


def _clean(x: float) -> float:
    return 0.0 if x == 0 else float(f"{x:.15g}")


def _suffix(*parsed: tuple[complex, str | None]) -> str:
    found = {s for _, s in parsed if s is not None}
    if len(found) > 1:
        raise XlError(VALUE)  # "i" and "j" mixed
    return found.pop() if found else "i"


def _complex(re_: float, im: float, suffix: str | None) -> str:
    s = "i" if suffix is None or suffix == "" else suffix
    if s not in ("i", "j"):
        raise XlError(VALUE)
    return format_complex(complex(re_, im), s)


register("COMPLEX", min_args=2, max_args=3, values=ALL)(
    lambda ctx, a, b, s=None: lift(_complex, [a, b, s], "nns")
)


def _unary(name: str, fn, *, number: bool = False) -> None:
    def one(x: object) -> object:
        z, sfx = parse_complex(x)
        try:
            out = fn(z)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise XlError(NUMERR) from exc
        return out if number else format_complex(out, sfx)

    register(name, min_args=1, max_args=1, values=ALL)(lambda ctx, x: lift(one, [x], "x"))


_unary("IMABS", abs, number=True)
_unary("IMREAL", lambda z: z.real, number=True)
_unary("IMAGINARY", lambda z: z.imag, number=True)
_unary("IMARGUMENT", lambda z: _nonzero(z) and cmath.phase(z), number=True)
_unary("IMCONJUGATE", lambda z: z.conjugate())
_unary("IMEXP", cmath.exp)
_unary("IMLN", lambda z: cmath.log(_nonzero(z)))
_unary("IMLOG10", lambda z: cmath.log10(_nonzero(z)))
_unary("IMLOG2", lambda z: cmath.log(_nonzero(z)) / math.log(2))
_unary("IMSQRT", lambda z: cmath.rect(math.sqrt(abs(z)), cmath.phase(z) / 2))
_unary("IMSIN", cmath.sin)
_unary("IMCOS", cmath.cos)
_unary("IMTAN", cmath.tan)
_unary("IMSINH", cmath.sinh)
_unary("IMCOSH", cmath.cosh)
_unary("IMSEC", lambda z: 1 / cmath.cos(z))
_unary("IMSECH", lambda z: 1 / cmath.cosh(z))
_unary("IMCSC", lambda z: 1 / _nonzero(cmath.sin(z)))
_unary("IMCSCH", lambda z: 1 / _nonzero(cmath.sinh(z)))
_unary("IMCOT", lambda z: 1 / _nonzero(cmath.tan(z)))


def _nonzero(z: complex) -> complex:
    if z == 0:
        raise XlError(NUMERR)
    return z


def _binary(name: str, fn) -> None:
    def one(a: object, b: object) -> str:
        pa, pb = parse_complex(a), parse_complex(b)
        try:
            return format_complex(fn(pa[0], pb[0]), _suffix(pa, pb))
        except ZeroDivisionError as exc:
            raise XlError(NUMERR) from exc

    register(name, min_args=2, max_args=2, values=ALL)(lambda ctx, a, b: lift(one, [a, b], "xx"))


_binary("IMSUB", lambda a, b: a - b)
_binary("IMDIV", lambda a, b: a / b)


def _power(a: object, n: float) -> str:
    z, sfx = parse_complex(a)
    if z == 0 and n <= 0:
        raise XlError(NUMERR)
    r, theta = abs(z), cmath.phase(z)
    return format_complex(cmath.rect(r**n, n * theta), sfx)


register("IMPOWER", min_args=2, max_args=2, values=ALL)(
    lambda ctx, a, n: lift(_power, [a, n], "xn")
)


def _fold(name: str, fn, start: complex) -> None:
    def impl(ctx: EvalContext, *args: Value | None) -> Value:
        trials = max((a.trials for a in args if a is not None), default=1)
        out = []
        for t in range(trials):
            try:
                items = [
                    parse_complex(x)
                    for a in args
                    if a is not None
                    for x in flat_py(a, min(t, a.trials - 1))
                ]
                acc = start
                for z, _ in items:
                    acc = fn(acc, z)
                out.append(format_complex(acc, _suffix(*items)))
            except XlError as e:
                out.append(e)
        from ..values import from_grid

        return from_grid([[out[0]]]) if trials == 1 else _stack(out)

    register(name, min_args=1)(impl)


def _stack(items: list[object]) -> Value:
    import numpy as np

    from ..values import from_objects

    return from_objects(np.array(items, dtype=object).reshape(-1, 1, 1))


_fold("IMSUM", lambda a, b: a + b, 0j)
_fold("IMPRODUCT", lambda a, b: a * b, 1 + 0j)
