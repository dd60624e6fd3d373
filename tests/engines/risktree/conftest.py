"""Helpers for risk-tree tests: build specs and run them in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from montesim.engines.base import InputError, Result
from montesim.engines.risktree.engine import plan_for
from montesim.engines.risktree.loading import parse_spec
from montesim.jobs.service import run_now
from montesim.jobs.views import input_error_of


def run_tree(spec: dict[str, Any], *, workers: int = 1) -> Result:
    """Run a tree spec through the job runner, inline or on a local pool."""
    spec = {k: v for k, v in spec.items() if v is not None}
    outcome = run_now(
        "risktree", spec, executor="local" if workers > 1 else "inline", workers=workers
    )
    if outcome.result is None:
        raise input_error_of(outcome.job) or AssertionError(outcome.job.error_message)
    return outcome.result


def make_leaf(name: str, **fields: Any) -> dict[str, Any]:
    if "frequency" not in fields:
        fields.setdefault("probability", 0.2)
    if "severity" not in fields and "low" not in fields:
        fields["severity"] = {"family": "lognormal", "low": 1_000, "high": 20_000}
    return {"name": name, **fields}


@pytest.fixture
def leaf() -> Callable[..., dict[str, Any]]:
    """leaf(name, **fields) -> a leaf dict with a default probability and severity."""
    return make_leaf


@pytest.fixture
def run_spec() -> Callable[..., Result]:
    """run_spec(spec, workers=1) -> the Result of a whole risktree spec."""
    return run_tree


@pytest.fixture
def simulate() -> Callable[..., dict[str, Any]]:
    """simulate(children or tree, trials=..., **spec) -> the summary."""

    def run(tree: Any, *, chunk_size: int | None = None, workers: int = 1, **spec: Any):
        if isinstance(tree, list):
            tree = {"name": "Root", "children": tree}
        return run_tree({"tree": tree, **spec, "chunk_size": chunk_size}, workers=workers)

    return run


@pytest.fixture
def invalid() -> Callable[[dict[str, Any]], InputError]:
    """invalid(spec) -> the InputError that validating it raises."""

    def check(spec: dict[str, Any]) -> InputError:
        with pytest.raises(InputError) as info:
            plan_for(parse_spec(spec))
        return info.value

    return check
