"""COMPLEX and the IM... functions: the exact results on their Microsoft help pages for
the algebraic ones; the transcendental ones against ``cmath`` (the closed forms), read
back through IMREAL and IMAGINARY to 13 digits, since the pages show 15 rounded ones."""

from __future__ import annotations

import cmath
from typing import Any

import pytest
from tests.engines.excel.test_excel_rules import err, ev


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=COMPLEX(3,4)", "3+4i"),
        ('=COMPLEX(3,4,"j")', "3+4j"),
        ("=COMPLEX(0,1)", "i"),
        ("=COMPLEX(1,0)", "1"),
        ('=IMABS("5+12i")', 13.0),
        ('=IMAGINARY("3+4i")', 4.0),
        ('=IMAGINARY("0-j")', -1.0),
        ("=IMAGINARY(4)", 0.0),
        ('=IMREAL("6-9i")', 6.0),
        ('=IMCONJUGATE("3+4i")', "3-4i"),
        ('=IMDIV("-238+240i","10+24i")', "5+12i"),
        ('=IMPRODUCT("3+4i","5-3i")', "27+11i"),
        ('=IMPRODUCT("1+2i",30)', "30+60i"),
        ('=IMSUB("13+4i","5+3i")', "8+i"),
        ('=IMSUM("3+4i","5-3i")', "8+i"),
        ('=IMPOWER("2+3i",3)', "-46+9.00000000000001i"),  # Excel's polar arithmetic
        ('=IMSUM("1+i","2j")', err("#VALUE!")),  # i and j mixed
        ('=IMABS("abc")', err("#NUM!")),
        ('=COMPLEX(1,2,"k")', err("#VALUE!")),
        ('=IMLN("0")', err("#NUM!")),
    ],
)
def test_exact_examples(formula: str, expected: Any) -> None:
    assert ev(formula) == expected


@pytest.mark.parametrize(
    ("fn", "z", "closed"),
    [
        ("IMARGUMENT", 3 + 4j, None),
        ("IMCOS", 1 + 1j, cmath.cos),
        ("IMCOSH", 4 + 3j, cmath.cosh),
        ("IMCOT", 4 + 3j, lambda z: 1 / cmath.tan(z)),
        ("IMCSC", 4 + 3j, lambda z: 1 / cmath.sin(z)),
        ("IMCSCH", 4 + 3j, lambda z: 1 / cmath.sinh(z)),
        ("IMEXP", 1 + 1j, cmath.exp),
        ("IMLN", 3 + 4j, cmath.log),
        ("IMLOG10", 3 + 4j, cmath.log10),
        ("IMLOG2", 3 + 4j, lambda z: cmath.log(z, 2)),
        ("IMSEC", 4 + 3j, lambda z: 1 / cmath.cos(z)),
        ("IMSECH", 4 + 3j, lambda z: 1 / cmath.cosh(z)),
        ("IMSIN", 4 + 3j, cmath.sin),
        ("IMSINH", 4 + 3j, cmath.sinh),
        ("IMSQRT", 1 + 1j, cmath.sqrt),
        ("IMTAN", 4 + 3j, cmath.tan),
    ],
)
def test_transcendental(fn: str, z: complex, closed: Any) -> None:
    text = f'"{z.real:g}+{z.imag:g}i"'
    if closed is None:
        assert abs(ev(f"={fn}({text})") - cmath.phase(z)) < 1e-13
        return
    want = closed(z)
    re_, im = ev(f"=IMREAL({fn}({text}))"), ev(f"=IMAGINARY({fn}({text}))")
    assert abs(re_ - want.real) <= 1e-13 * max(1.0, abs(want.real))
    assert abs(im - want.imag) <= 1e-13 * max(1.0, abs(want.imag))
