"""Same spec and seed, same numbers: whatever the chunking, processes or other leaves."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from montesim.engines.base import NullContext, get_engine
from montesim.engines.risktree.simulate import STREAM_BLOCK

TRIALS = 2 * STREAM_BLOCK + 123  # three blocks, the last one short
CORRELATION = {"leaves": ["A", "C"], "matrix": [[1, 0.5], [0.5, 1]]}


def _tree(leaf, b_severity=None):
    b = leaf("B", frequency=0.8)
    if b_severity:
        b["severity"] = b_severity
    return [
        {"name": "IT", "children": [leaf("A", probability=0.3), b]},
        leaf("C", probability=0.05, severity={"family": "pert", "min": 1, "mode": 5, "max": 50}),
    ]


def _spec(leaf, **kw):
    return {
        "tree": {"name": "Root", "children": _tree(leaf, **kw)},
        "trials": TRIALS,
        "seed": 42,
        "output": {"raw_trials": TRIALS},
        "correlation": CORRELATION,
    }


def _raw(result) -> np.ndarray:
    table = pq.read_table(pa.BufferReader(result.artifacts["trials.parquet"][1]))
    return np.column_stack([table[c].to_numpy() for c in table.column_names])


def test_chunked_sequential_and_multiprocess_runs_are_identical(simulate, leaf) -> None:
    tree = {"name": "Root", "children": _tree(leaf)}
    kw = {"trials": TRIALS, "seed": 42, "output": {"raw_trials": TRIALS}}
    kw["correlation"] = CORRELATION
    one = simulate(tree, chunk_size=TRIALS, **kw)
    blocks = simulate(tree, chunk_size=STREAM_BLOCK, **kw)
    pool = simulate(tree, chunk_size=2 * STREAM_BLOCK, workers=2, **kw)
    want = json.dumps(one.summary, sort_keys=True)
    assert json.dumps(blocks.summary, sort_keys=True) == want
    assert json.dumps(pool.summary, sort_keys=True) == want
    np.testing.assert_array_equal(_raw(blocks), _raw(one))
    np.testing.assert_array_equal(_raw(pool), _raw(one))


def test_engine_protocol_round_trip_through_pickle(leaf) -> None:
    engine = get_engine("risktree")
    plan = pickle.loads(pickle.dumps(engine.validate(_spec(leaf), {})))
    chunks = engine.chunks(plan)
    assert len(chunks) > 1 and all(c.start % STREAM_BLOCK == 0 for c in chunks)
    assert sum(c.size for c in chunks) == TRIALS
    partials = [
        pickle.loads(pickle.dumps(engine.run_chunk(plan, c, NullContext())))
        for c in reversed(chunks)
    ]  # arrival order must not matter
    result = engine.merge(plan, partials)
    again = engine.merge(plan, [engine.run_chunk(plan, c, NullContext()) for c in chunks])
    assert json.dumps(result.summary, sort_keys=True) == json.dumps(again.summary, sort_keys=True)
    assert result.summary["trials"] == TRIALS
    assert len(pickle.dumps(plan)) < 50_000


def test_editing_one_leaf_leaves_the_others_unchanged(simulate, leaf) -> None:
    base = simulate(
        {"name": "Root", "children": _tree(leaf)},
        trials=TRIALS,
        seed=1,
        output={"raw_trials": TRIALS},
    )
    edited_tree = _tree(leaf, b_severity={"family": "uniform", "min": 10, "max": 20})
    edited_tree.append(leaf("New", probability=0.5))  # adding a leaf changes no other draws
    edited = simulate(
        {"name": "Root", "children": edited_tree},
        trials=TRIALS,
        seed=1,
        output={"raw_trials": TRIALS},
    )
    cols_a = pq.read_table(pa.BufferReader(base.artifacts["trials.parquet"][1]))
    cols_b = pq.read_table(pa.BufferReader(edited.artifacts["trials.parquet"][1]))
    for name in ("A", "C"):
        np.testing.assert_array_equal(cols_a[name].to_numpy(), cols_b[name].to_numpy())
    assert not np.array_equal(cols_a["B"].to_numpy(), cols_b["B"].to_numpy())
    # B's occurrence draws are its own too: the same trials have a loss.
    assert np.array_equal(cols_a["B"].to_numpy() > 0, cols_b["B"].to_numpy() > 0)


def test_more_trials_extend_the_same_trials(simulate, leaf) -> None:
    # A run shorter than a block draws only the trials it needs: the same ones.
    tree = {"name": "Root", "children": _tree(leaf)}
    kw = {"seed": 3, "output": {"raw_trials": 1000}, "correlation": CORRELATION}
    short = simulate(tree, trials=1000, **kw)
    long = simulate(tree, trials=TRIALS, **kw)
    np.testing.assert_array_equal(_raw(short), _raw(long))


def test_cancel_is_noticed_between_blocks(leaf) -> None:
    import pytest

    from montesim.engines.base import Cancelled

    class Cancelling(NullContext):
        def cancelled(self) -> bool:
            return True

    engine = get_engine("risktree")
    plan = engine.validate(_spec(leaf), {})
    with pytest.raises(Cancelled):
        engine.run_chunk(plan, engine.chunks(plan)[0], Cancelling())


def test_a_chunk_must_start_on_a_block_edge(leaf) -> None:
    import pytest

    from montesim.engines.base import Chunk, EngineError

    engine = get_engine("risktree")
    plan = engine.validate(_spec(leaf), {})
    with pytest.raises(EngineError, match="block"):
        engine.run_chunk(plan, Chunk(index=0, start=STREAM_BLOCK // 2, size=10), NullContext())
