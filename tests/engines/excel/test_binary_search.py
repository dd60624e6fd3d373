"""Excel's binary search for approximate matches (MATCH type 1, LOOKUP, VLOOKUP and
HLOOKUP with TRUE), on sorted and unsorted data (issue 26).

Expected values: the issue's vector, as Excel's cached values show it; the last of
repeated values and ``LOOKUP(2, 1/(...))``'s last match, as Microsoft's and every Excel
guide's examples rely on; the rest traced by hand through the probes documented in
``excel_bisect`` (low end, high end, probe at ``(lo + hi) // 2``).
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.engines.excel.test_excel_rules import err, ev

from montesim.engines.excel.functions.lookup import excel_bisect


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # Excel's cached value in a published model: probes at 4 (0) then 5 (0.251)
        ("=MATCH(0.2,{0,0,0,0,0.251,0,0.978},1)", 4.0),
        ("=MATCH(0.2,{0,0,0,0,0.251,0,0.978})", 4.0),
        # sorted data with repeats: the last of the equal values
        ("=MATCH(2,{1,2,2,2,3},1)", 4.0),
        # probes at 3 (2 <= 4), then 4 (9 > 4): the answer is 3, not the last value <= 4
        ("=MATCH(4,{1,5,2,9,3},1)", 3.0),
        ('=VLOOKUP(4,{1,"a";5,"b";2,"c";9,"d";3,"e"},2,TRUE)', "c"),
        ('=HLOOKUP(4,{1,5,2,9,3;"a","b","c","d","e"},2,TRUE)', "c"),
        ("=LOOKUP(4,{1,5,2,9,3},{10,20,30,40,50})", 30.0),
        # the last match among errors: LOOKUP(2, 1/(range=x), result)
        ("=LOOKUP(2,1/{1,0,0,1,0},{10,20,30,40,50})", 40.0),
        ("=LOOKUP(2,1/{0,1,0,0,0},{10,20,30,40,50})", 20.0),
        # Microsoft's MATCH example (25 in 25, 38, 40, 41): 38 is the largest <= 39
        ("=MATCH(39,{25,38,40,41},1)", 2.0),
        ("=MATCH(41,{25,38,40,41},1)", 4.0),
    ],
)
def test_approximate_matches(formula: str, expected: object) -> None:
    assert ev(formula) == expected


def test_nothing_small_enough_is_na() -> None:
    assert ev("=MATCH(0,{1,2,3},1)") == err("#N/A")
    assert ev("=LOOKUP(2,1/{0,0,0},{1,2,3})") == err("#N/A")


def _probes(ok: list[bool], valid: list[bool]) -> int:
    """The documented search, one trial at a time, as plainly as it can be written."""
    lo, hi = 0, len(ok) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        probe = next((j for j in range(mid, hi) if valid[j]), None)
        if probe is not None and ok[probe]:
            lo = probe
        else:
            hi = mid
    if ok[hi]:
        return hi
    return lo if ok[lo] else -1


def test_every_trial_searches_on_its_own() -> None:
    rng = np.random.default_rng(26)
    for n in (1, 2, 3, 7, 16, 33):
        values = rng.integers(0, 10, size=(50, n))
        valid = rng.random((50, n)) > 0.2
        keys = rng.integers(0, 10, size=(50, 1))
        ok = (values <= keys) & valid
        got = excel_bisect(ok, valid)
        want = [_probes(list(ok[t]), list(valid[t])) for t in range(50)]
        assert got.tolist() == want
