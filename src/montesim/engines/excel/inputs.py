"""Random inputs: @RISK-style distribution functions and spec-given distributions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..base import InputError

# @RISK function (upper case, without "RISK") -> montesim.sampling family
RISK_DISTRIBUTIONS = {
    "NORMAL": "normal",
    "LOGNORM": "lognorm",
    "LOGNORM2": "lognorm2",
    "UNIFORM": "uniform",
    "TRIANG": "triang",
    "PERT": "pert",
    "BETA": "beta",
    "GAMMA": "gamma",
    "EXPON": "expon",
    "WEIBULL": "weibull",
    "POISSON": "poisson",
    "BINOMIAL": "binomial",
    "DISCRETE": "discrete",
    "INTUNIFORM": "intuniform",
    "CUMUL": "cumul",
    "TRIGEN": "trigen",
}
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
            return float(self.distribution().mean()) + self.shift
        except InputError:
            raise
        except Exception:
            return float("nan")
