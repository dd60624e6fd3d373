"""A CSV download written from the stored Parquet equals the CSV of the whole table."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from montesim.engines.base import LazyArtifacts
from montesim.jobs import artifacts


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _whole_csv(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pcsv.write_csv(table, buf)
    return buf.getvalue()


@pytest.mark.parametrize("rows", [0, 1, 999, 5000])
def test_csv_from_parquet_is_the_tables_csv(rows: int) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=rows)
    x[::7] = np.nan
    errors = [None if i % 5 else "#DIV/0!" for i in range(rows)]
    table = pa.table(
        [
            pa.array(np.arange(rows, dtype=np.int64)),
            pa.array(rng.random(rows)),
            pa.array(x, mask=~np.isfinite(x)),
            pa.array(errors, type=pa.string()),
        ],
        names=["iteration", 'a "quoted", name', "Model!B1", "Model!B1 error"],
    )
    pieces = list(artifacts.csv_chunks(_parquet(table), batch_rows=256))
    assert b"".join(pieces) == _whole_csv(table)
    if rows > 256:
        assert len(pieces) > 2  # written in batches, not at once
    out = io.BytesIO()
    artifacts.write_csv(_parquet(table), out.write)
    assert out.getvalue() == _whole_csv(table)


def test_listed_adds_a_csv_for_each_parquet_without_one() -> None:
    stored = [("trials.csv", "text/csv"), ("trials.parquet", "p"), ("iterations.parquet", "p")]
    assert artifacts.listed(stored) == [
        ("iterations.csv", "text/csv"),
        ("iterations.parquet", "p"),
        ("trials.csv", "text/csv"),
        ("trials.parquet", "p"),
    ]
    assert artifacts.parquet_source("iterations.csv") == "iterations.parquet"
    assert artifacts.parquet_source("mesh.msh") is None


def test_lazy_artifacts_are_built_once_when_read() -> None:
    calls = []

    def build() -> dict[str, tuple[str, bytes]]:
        calls.append(1)
        return {"a.parquet": ("p", b"x")}

    lazy = LazyArtifacts(build)
    assert calls == []
    assert dict(lazy) == {"a.parquet": ("p", b"x")} and lazy["a.parquet"] == ("p", b"x")
    assert calls == [1]
