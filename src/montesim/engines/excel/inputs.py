"""Random inputs: @RISK-style distribution functions and spec-given distributions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...sampling.families import risk_functions
from ..base import InputError

# @RISK function (upper case, without "RISK") -> montesim.sampling family: the families
# declare @RISK's names for themselves (sampling.families)
RISK_DISTRIBUTIONS = risk_functions()
# property functions that may appear as extra arguments of a distribution function
RISK_PROPERTIES = {
    "RISKNAME",
    "RISKTRUNCATE",
    "RISKSTATIC",
    "RISKSHIFT",
    "RISKLOCK",
    "RISKUNITS",
    "RISKCATEGORY",
    "RISKCOLLECT",
    "RISKCORRMAT",
    "RISKSEED",
}
IGNORED_PROPERTIES = {"RISKLOCK", "RISKUNITS", "RISKCATEGORY", "RISKCOLLECT", "RISKSEED"}


def risk_family(function: str) -> str | None:
    """The sampling family of an @RISK function name (``RISKNORMAL`` -> ``normal``)."""
    up = function.upper()
    if up.startswith("RISK") and up[4:] in RISK_DISTRIBUTIONS:
        return RISK_DISTRIBUTIONS[up[4:]]
    return None


def spec_family(function: str) -> str | None:
    """A family from a spec distribution name (``normal``, ``RiskNormal``, ``lognorm2``)."""
    up = function.upper()
    if up.startswith("RISK"):
        up = up[4:]
    return RISK_DISTRIBUTIONS.get(up)


@dataclass(frozen=True)
class InputDef:
    """One random input: a cell whose value is drawn from a distribution per trial."""

    name: str
    cell: str  # Sheet1!B2 (with "#k" for the k-th nested distribution in one formula)
    family: str
    args: tuple[Any, ...]
    truncate: tuple[float | None, float | None] | None
    shift: float
    static: float | None
    stream_id: int
    source: str  # "workbook" or "spec"
    corrmat: tuple[str, int] | None = None  # (matrix address, position) from RiskCorrmat
    formula: str | None = None  # the formula that draws it, for workbook inputs

    @property
    def label(self) -> str:
        """The family with its parameters, as people write it: ``normal(10, 2)``."""
        args = ", ".join(
            "{" + ", ".join(f"{x:g}" for x in a) + "}" if isinstance(a, tuple) else f"{a:g}"
            for a in self.args
        )
        return f"{self.family}({args})"

    def distribution(self) -> Any:
        from ...sampling.distributions import make_distribution

        return make_distribution(
            self.family, list(self.args), truncate=self.truncate, location=self.cell
        )

    def static_value(self) -> float:
        """The value used when nothing is random (verify, and probes at compile time)."""
        if self.static is not None:
            return self.static
        try:
            dist = self.distribution()
            mean = float(dist.mean())
            if dist.discrete:
                mean = nearest_legal(dist, mean)
            return mean + self.shift
        except InputError:
            raise
        except Exception:
            return float("nan")


def nearest_legal(dist: Any, x: float) -> float:
    """The value a discrete distribution can take that is closest to ``x`` (@RISK's
    "expected value" for discrete inputs, so a model that branches on it stays valid)."""
    import numpy as np

    p = float(dist.cdf(np.array([x]))[0])
    below = float(dist.ppf(np.array([p]))[0])
    above = float(dist.ppf(np.array([min(1.0, np.nextafter(p, 2.0))]))[0])
    candidates = [v for v in (below, above) if np.isfinite(v)]
    if not candidates:
        return x
    return min(candidates, key=lambda v: (abs(v - x), v))
