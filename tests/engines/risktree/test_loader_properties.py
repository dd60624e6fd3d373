"""Property tests for the risk-tree loader (issue 14): whatever document a user sends,
loading it either gives a valid spec or raises InputError (a 422 naming where); nothing
else escapes, and nothing hangs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from montesim.engines.base import InputError
from montesim.engines.risktree.loading import parse_document, parse_spec

EXAMPLE = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "examples" / "risktrees" / "cyber.yaml").read_text()
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = ["name", "parent", "probability", "frequency", "low", "high", "cap", "deductible"]


def _load(doc: Any) -> None:
    try:
        parse_spec(doc)
    except InputError as exc:
        assert exc.message and exc.code
    # any other exception fails the test


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_document_is_a_spec_or_an_input_error(doc: Any) -> None:
    _load(doc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=0, max_value=len(EXAMPLE["leaves"]) - 1),
    st.sampled_from(KEYS),
    st.one_of(st.just("drop"), scalars),
)
def test_a_real_tree_with_one_field_broken_is_a_spec_or_an_input_error(
    i: int, key: str, value: Any
) -> None:
    doc = copy.deepcopy(EXAMPLE)
    leaf = doc["leaves"][i]
    if value == "drop":
        leaf.pop(key, None)
    else:
        leaf[key] = value
    _load(doc)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_to_a_mapping_or_an_input_error(text: str) -> None:
    try:
        doc = parse_document(text)
    except InputError:
        return
    assert isinstance(doc, dict)
    _load(doc)


# register definitions as register writes them: every shape field, null where unused
names = (
    st.text(alphabet="ABCDEFGHIJ klmnop-/0123", min_size=1, max_size=12).map(str.strip).filter(bool)
)


@st.composite
def register_shapes(draw: st.DrawFn) -> dict[str, Any]:
    shape: dict[str, Any] = dict.fromkeys(
        ("percentiles", "quantiles", "terms", "minLoss", "maxLoss")
    )
    if draw(st.booleans()):
        low = draw(st.integers(1, 10**6))
        return {
            **shape,
            "distributionType": "lognormal",
            "minLoss": low,
            "maxLoss": low * draw(st.integers(2, 1000)),
        }
    n = draw(st.integers(2, 6))
    ps = sorted(draw(st.sets(st.integers(1, 99), min_size=n, max_size=n)))
    start = draw(st.integers(10, 10**5))
    steps = draw(st.lists(st.integers(2, 5), min_size=n, max_size=n))
    xs = [start]
    for step in steps[1:]:
        xs.append(xs[-1] * step)
    terms = draw(st.one_of(st.none(), st.integers(2, n)))
    upper = draw(st.one_of(st.none(), st.just(xs[-1] * 10)))
    return {
        **shape,
        "distributionType": "expert",
        "percentiles": [p / 100 for p in ps],
        "quantiles": [float(x) for x in xs],
        "terms": terms,
        "maxLoss": upper,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(names, register_shapes(), st.integers(1, 99)),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    )
)
def test_register_definitions_round_trip_or_are_refused_by_name(leaves: list) -> None:
    from montesim.engines.risktree.register import to_register

    doc = {
        "name": "Tree",
        "portfolios": [{"name": "Root portfolio", "parentName": None}],
        "leaves": [
            {
                "name": n,
                "parentName": "Root portfolio",
                "probability": p / 100,
                "distributionShape": shape,
                "seedVarId": None,
            }
            for n, shape, p in leaves
            if n != "Root portfolio"
        ],
    }
    if not doc["leaves"]:
        return
    try:
        first = parse_spec({"tree": doc})
    except InputError as exc:  # an infeasible metalog, named by leaf
        assert exc.location and exc.location.startswith("tree.leaves[")
        return
    out, _ = to_register(first)
    again = parse_spec({"tree": copy.deepcopy(out)})
    assert again.tree.model_dump() == first.tree.model_dump()
    assert to_register(again)[0] == out
