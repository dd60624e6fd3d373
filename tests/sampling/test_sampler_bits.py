"""The fast sampler gives the reference sampler's bits.

``block_uniforms`` shuffles float strata in place and turns them into uniforms with
``stratify_into``; these tests pin that to ``latin_hypercube`` (``rng.permutation`` and
``stratify``) bit for bit, including at the edges where ``stratify`` clamps, and pin
``sample_inputs`` to digests stored from the sampler before the speed-up.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from montesim.sampling import (
    BLOCK,
    block_uniforms,
    latin_hypercube,
    lhs,
    make_distribution,
    rng_for,
    sample_inputs,
    stable_id,
)
from montesim.sampling.lhs import open_uniforms, stratify, stratify_into


def _edges(n: int) -> list[float]:
    """Jitters at and around the fast path's bounds, and at the ends of rng.random()."""
    e = n * 2.0**-54
    return [
        0.0,
        2.0**-53,
        np.nextafter(e, 0.0),
        e,
        np.nextafter(e, 1.0),
        0.5,
        np.nextafter(1.0 - e, 0.0),
        1.0 - e,
        np.nextafter(1.0 - e, 1.0),
        1.0 - 2.0**-53,
    ]


def _grid(n: int, jitters: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Every jitter with strata 0, 1, n/2 and n - 1 (as far as n has them)."""
    strata = sorted({0, min(1, n - 1), n // 2, n - 1})
    s, j = np.meshgrid(strata, jitters, indexing="ij")
    return s.ravel(), j.ravel().astype(np.float64)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("n", [BLOCK, 1, 2, 8, 2**20, 10, 4097])
def test_stratify_into_equals_stratify_on_adversarial_jitters(n):
    s, j = _grid(n, _edges(n))
    expected = stratify(s, j, n)
    assert _same_bits(stratify_into(s.astype(np.float64), j.copy(), n), expected)
    for one in j:  # each edge alone, so the fast path's check sees only it
        jj = np.full(s.shape, one)
        assert _same_bits(stratify_into(s.astype(np.float64), jj.copy(), n), stratify(s, jj, n))


def test_the_clamps_matter_outside_the_fast_path():
    """Plain (s + j) / n differs from stratify there: the fallback is needed."""
    n = BLOCK
    s = np.array([1, n // 2, n - 1, 0])
    j = np.array([1.0 - 2.0**-53, 1.0 - n * 2.0**-54, 1.0 - 2.0**-53, 2.0**-53])
    plain = (s + j) / n
    reference = stratify(s, j, n)
    assert not np.any(plain == reference)  # every one of these is clamped
    assert _same_bits(stratify_into(s.astype(np.float64), j.copy(), n), reference)


@pytest.mark.parametrize("n", [BLOCK, 2, 2**20])
def test_the_fast_path_covers_its_whole_range(monkeypatch, n):
    """Jitters at the fast path's own bounds take it (no call to stratify), with strata
    0 and n - 1, and give the bits stratify gives."""
    e = n * 2.0**-54
    s, j = _grid(n, [e, 0.5, np.nextafter(1.0 - e, 0.0)])
    expected = stratify(s, j, n)

    def reference(*args):
        raise AssertionError("the fast path should have been taken")

    monkeypatch.setattr(lhs, "stratify", reference)
    assert _same_bits(stratify_into(s.astype(np.float64), j.copy(), n), expected)


@settings(max_examples=300, deadline=None)
@given(
    m=st.integers(0, 14),
    data=st.data(),
)
def test_stratify_into_equals_stratify(m, data):
    n = data.draw(st.sampled_from([2**m, 2**m + 1, 3 * 2**m]))
    size = data.draw(st.integers(1, 20))
    edge_or_any = st.one_of(
        st.sampled_from(_edges(n)),
        st.floats(0.0, 1.0, exclude_max=True),
        st.integers(0, 2**53 - 1).map(lambda k: k * 2.0**-53),  # rng.random()'s grid
    )
    j = np.array(data.draw(st.lists(edge_or_any, min_size=size, max_size=size)))
    s = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=size, max_size=size)))
    assert _same_bits(stratify_into(s.astype(np.float64), j.copy(), n), stratify(s, j, n))


@pytest.mark.parametrize("seed,block", [(0, 0), (7, 3), (2**40 + 5, 123)])
def test_block_uniforms_are_latin_hypercube_per_input(seed, block):
    ids = [stable_id(f"x{i}") for i in range(25)]
    u = block_uniforms(seed, ids, block)
    for j, sid in enumerate(ids):
        assert _same_bits(u[:, j].copy(), latin_hypercube(rng_for(seed, sid, block), BLOCK))
    mc = block_uniforms(seed, ids, block, method="mc")
    for j, sid in enumerate(ids):
        assert _same_bits(mc[:, j].copy(), open_uniforms(rng_for(seed, sid, block), BLOCK))


def test_a_float_arange_shuffles_like_rng_permutation():
    for seed in range(20):
        for n in (1, 2, 5, BLOCK, 3 * BLOCK + 1):
            rows = np.tile(np.arange(n, dtype=np.float64), (2, 1))
            rng_for(seed, n).shuffle(rows[1])  # a row of a 2-D array, as block_uniforms does
            assert np.array_equal(rows[1], rng_for(seed, n).permutation(n))


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()


def _mixed():
    # no beta/PERT here: their inverse CDF has its own tests; this pins the sampler
    specs = [("uniform", [0, 1])] * 3 + [
        ("normal", [10, 2]),
        ("uniform", [-1, 4]),
        ("normal", [0, 0.5]),
        ("lognorm", [5, 1]),
        ("lognorm2", [0.1, 0.3]),
        ("triang", [1, 2, 6]),
        ("triang", [0, 0, 1]),
        ("expon", [3]),
        ("expon", [0.5]),
        ("gamma", [2, 1.5]),
        ("gamma", [0.7, 2]),
        ("weibull", [1.5, 2]),
        ("weibull", [3, 1]),
        ("poisson", [4]),
        ("binomial", [10, 0.3]),
        ("intuniform", [1, 6]),
        ("discrete", [[1, 2, 5], [0.2, 0.5, 0.3]]),
        ("cumul", [0, 10, [2, 5], [0.3, 0.8]]),
        ("trigen", [1, 3, 8, 10, 90]),
    ]
    specs += [("uniform", [i, i + 2]) for i in range(8)]
    dists = [make_distribution(f, a) for f, a in specs]
    dists.append(make_distribution("normal", [0, 1], truncate=(-1, 2)))
    return dists, [stable_id(f"in{j}") for j in range(len(dists))]


# sha256 of the samples, stored from the sampler before the speed-up (commit 1026d66)
MIXED = {
    ("lhs", False): "261215ffbf3660ae4a3c34b8f018f3d3733c80c99712c3a503aa0b212c8e6bb8",
    ("lhs", True): "4761692d6e511e097209382331f2609113381f777adc37ecc69c96a6737167f8",
    ("mc", False): "70a94240f92f284860d57719de9b6564ee5de4506606a7289230f4876a9fa84e",
    ("mc", True): "afc19600f385699fa12ae1ab626e447a6428649229b43c97670eb277fe27334e",
}


@pytest.mark.parametrize("method,correlated", list(MIXED))
def test_mixed_inputs_digest(method, correlated):
    dists, ids = _mixed()
    corr = None
    if correlated:
        corr = np.eye(len(dists))
        corr[3, 6] = corr[6, 3] = 0.6
        corr[10, 15] = corr[15, 10] = -0.4
    x = sample_inputs(11, dists, ids, 1000, 2 * BLOCK + 77, method=method, corr=corr)
    assert _digest(x) == MIXED[method, correlated]


def test_adjacent_inputs_digest():
    """Adjacent inputs of a family, whole blocks: the path that writes into the output."""
    dists = [make_distribution("uniform", [i, i + 1 + i / 7]) for i in range(40)]
    dists += [make_distribution("normal", [i, 1 + i]) for i in range(3)]
    ids = [stable_id(f"adj{j}") for j in range(len(dists))]
    x = sample_inputs(5, dists, ids, 0, 2 * BLOCK + 10)
    assert _digest(x) == "d40cc388893b14496aa8b13dd75719344ad06aa1ba2e34c1e478ddff287f130c"


def test_many_uniforms_digest():
    ids = [stable_id(f"x{i}") for i in range(200)]
    h = hashlib.sha256()
    for b in (0, 5):
        h.update(np.ascontiguousarray(block_uniforms(3, ids, b), dtype=np.float64).tobytes())
    assert h.hexdigest() == "18935db85573a73282f077a9f7fdd1b22248183635f08d27e1cf7d28e8583f68"


def test_large_stacks_digest():
    """Stacks larger than the rows computed together, adjacent (triang, expon, weibull,
    gamma: into the output) and interleaved (lognorm, normal: through scratch)."""
    specs = [("triang", [i, i + 1 + i / 3, 2 * i + 5]) for i in range(9)]
    for i in range(9):
        specs += [("lognorm", [5 + i, 1 + i / 4]), ("normal", [i, 1 + i / 2])]
    specs += [("expon", [1 + i]) for i in range(6)]
    specs += [("weibull", [1 + i / 2, 2]) for i in range(6)]
    specs += [("gamma", [1 + i / 3, 2]) for i in range(6)]
    dists = [make_distribution(f, a) for f, a in specs]
    ids = [stable_id(f"big{j}") for j in range(len(dists))]
    x = sample_inputs(9, dists, ids, 0, 2 * BLOCK + 10)
    assert _digest(x) == "fc90dc440b7027b5349adda933f1f499ed2d96a094ca604f6ac4f69c89aec2d8"
