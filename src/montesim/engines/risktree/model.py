"""The risk-tree spec as users write it: portfolios, leaves, correlation, output options.

Trees arrive nested or flat (see :mod:`.loading`); by the time these models see them
they are flat: every node names its ``parent``. Structural rules (one root, no cycles,
no empty portfolio) are checked in :mod:`.tree`, which sees the whole tree at once.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from montesim.engines.risktree.severity import Severity

MAX_TRIALS = 10_000_000
MAX_FREQUENCY = 1_000.0  # events per trial; bounds the memory one block of draws needs
MAX_NODES = 5_000
MAX_RAW_TRIALS = 1_000_000
Name = str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Portfolio(_Strict):
    name: Name = Field(min_length=1, max_length=200)
    parent: Name | None = None
    description: str | None = None


class Control(_Strict):
    """A control on a leaf: it scales the chance of an event and/or each event's loss."""

    name: Name = Field(min_length=1, max_length=200)
    cost: float = Field(ge=0.0)  # per period, in the units of the losses
    probability_factor: float = Field(1.0, ge=0.0, le=1.0)
    severity_factor: float = Field(1.0, ge=0.0, le=1.0)


class Leaf(_Strict):
    """One risk: how often it happens (``probability`` or ``frequency``) and what it costs."""

    name: Name = Field(min_length=1, max_length=200)
    parent: Name | None = None
    description: str | None = None
    probability: float | None = Field(None, ge=0.0, le=1.0)
    frequency: float | None = Field(None, gt=0.0, le=MAX_FREQUENCY)
    severity: Severity
    deductible: float = Field(0.0, ge=0.0)
    cap: float | None = Field(None, gt=0.0)
    controls: list[Control] = Field(default_factory=list, max_length=20)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # A register row's `low`/`high` is a lognormal 90 % interval.
        if isinstance(data, dict) and "severity" not in data and ("low" in data or "high" in data):
            data = dict(data)
            data["severity"] = {
                "family": "lognormal",
                "low": data.pop("low", None),
                "high": data.pop("high", None),
            }
        return data

    @model_validator(mode="after")
    def _occurrence(self) -> Leaf:
        if (self.probability is None) == (self.frequency is None):
            raise ValueError(
                "give exactly one of probability (chance of a loss event per period) "
                "or frequency (expected number of events per period)"
            )
        return self


class FlatTree(_Strict):
    """``{name, portfolios: [{name, parent}], leaves: [{name, parent, ...}]}``."""

    name: Name | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    portfolios: list[Portfolio] = Field(default_factory=list, max_length=MAX_NODES)
    leaves: list[Leaf] = Field(min_length=1, max_length=MAX_NODES)


class Correlation(_Strict):
    """A Gaussian copula between leaves' occurrence: a correlation matrix over ``leaves``."""

    leaves: list[Name] = Field(min_length=2)
    matrix: list[list[float]]


class Output(_Strict):
    scale: Literal["log", "linear"] = "log"
    # P(loss ≥ x) of every node at these losses, read from the full histogram
    exceedance_at: list[float] = Field(default_factory=list, max_length=100)
    ticks: int = Field(60, ge=5, le=1000)
    tail_trim: float = Field(1e-3, gt=0.0, lt=1.0)
    chart_nodes: list[Name] | None = Field(None, max_length=20)
    raw_trials: int = Field(10_000, ge=0, le=MAX_RAW_TRIALS)
    # tail drivers (co-TVaR per leaf): about as much work again as the simulation itself
    contributions: bool = True


class RiskTreeSpec(_Strict):
    tree: FlatTree
    trials: int = Field(10_000, ge=1, le=MAX_TRIALS)
    seed: int = Field(0, ge=0, lt=2**63)
    # trials per chunk (rounded to whole stream blocks); results do not depend on it
    chunk_size: int | None = Field(None, ge=1, le=MAX_TRIALS)
    correlation: Correlation | None = None
    output: Output = Field(default_factory=Output)
    # the root's loss tolerance: [loss, probability] points, losses increasing
    tolerance: list[tuple[float, float]] | None = Field(None, min_length=1, max_length=100)
    # what loading ignored or could not honour, shown with the result: {code, location, message}
    _notes: list[dict[str, str]] = PrivateAttr(default_factory=list)

    @property
    def notes(self) -> list[dict[str, str]]:
        return self._notes
