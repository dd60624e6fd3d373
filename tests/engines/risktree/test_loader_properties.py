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
