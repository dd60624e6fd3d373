"""Uniforms for one block of trials: Latin hypercube strata or plain Monte Carlo.

All uniforms lie strictly inside (0, 1) so that inverse CDFs of unbounded families
never return infinities.
"""

from __future__ import annotations

import numpy as np

from montesim.errors import InputError

METHODS = ("lhs", "mc")

# the smallest and largest doubles used as probabilities: half a step of rng.random()
# above 0, and the largest double below 1
U_MIN = 2.0**-54
U_MAX = 1.0 - 2.0**-53


def open_uniforms(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` independent uniforms in the open interval (0, 1)."""
    u = rng.random(n)
    u[u == 0.0] = U_MIN
    return u


def latin_hypercube(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniforms in (0, 1) with exactly one in each stratum [i/n, (i+1)/n), shuffled."""
    strata = rng.permutation(n)
    return stratify(strata, rng.random(n), n)


def stratify(strata: np.ndarray, jitter: np.ndarray, n: int) -> np.ndarray:
    """``(strata + jitter) / n`` kept inside each point's stratum and inside (0, 1).

    Element-wise, so many inputs' strata (one row each) go through it in one call.
    """
    u = (strata + jitter) / n
    # rounding could push a point onto the next stratum's lower edge; keep it inside its own
    upper = np.nextafter((strata + 1) / n, 0.0)
    np.minimum(u, upper, out=u)
    return np.clip(u, U_MIN, U_MAX, out=u)


def stratify_into(strata: np.ndarray, jitter: np.ndarray, n: int) -> np.ndarray:
    """``stratify(strata, jitter, n)`` written over ``jitter``: the same bits, fewer passes.

    ``strata`` may be integers or floats holding integers (the same values either way).
    Where ``n`` is a power of two and every jitter lies in ``[n * 2**-54, 1 - n * 2**-54)``
    the clamps of ``stratify`` change nothing, so two in-place passes give its result:

    - ``n = 2**m``: ``x / n`` and ``x * (1 / n)`` both scale ``x`` by ``2**-m`` exactly
      (the results are normal doubles, >= 2**-54), so ``fl(s + j) * (1 / n)`` is ``u``.
    - upper edge: the gap below ``s + 1`` between doubles is at most ``n * 2**-53`` for
      ``s + 1 <= n``; ``s + j`` lies more than half that gap below ``s + 1``, so it rounds
      to at most the double just below ``s + 1``; scaled by ``2**-m`` that is at most
      ``nextafter((s + 1) / n, 0)`` (scaling by a power of two keeps neighbours
      neighbours): the ``minimum`` is a no-op, and ``U_MAX = nextafter(1, 0)`` with it.
    - lower edge: ``fl(s + j) >= j >= n * 2**-54``, so ``u >= 2**-54 = U_MIN``.

    Outside that range (odds about 2**-41 per point when n = 4096) it falls back to
    ``stratify`` itself.
    """
    if jitter.size == 0:
        return jitter
    edge = n * 2.0**-54
    if n & (n - 1) == 0 and jitter.min() >= edge and jitter.max() < 1.0 - edge:
        np.add(jitter, strata, out=jitter)
        return np.multiply(jitter, 1.0 / n, out=jitter)
    jitter[...] = stratify(strata, jitter, n)
    return jitter


def uniforms(rng: np.random.Generator, n: int, method: str) -> np.ndarray:
    """``n`` uniforms by ``method``: ``"lhs"`` (Latin hypercube) or ``"mc"`` (independent)."""
    if method == "lhs":
        return latin_hypercube(rng, n)
    if method == "mc":
        return open_uniforms(rng, n)
    raise unknown_method(method)


def unknown_method(method: str) -> InputError:
    return InputError(
        f"unknown sampling method {method!r}; use one of {', '.join(METHODS)}",
        code="invalid_spec",
        location="spec.sampling",
    )
