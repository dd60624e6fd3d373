"""Artifacts download piece by piece from the store (bounded memory, whatever their size),
byte for byte what was stored; a CSV derived from a stored Parquet reads it row group by
row group and equals pyarrow's CSV of the whole table."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from tests.jobs.conftest import fast_settings

from montesim.api.app import create_app
from montesim.jobs import artifacts
from montesim.jobs.artifacts import PIECE, StoredBlob


def _parquet(rows: int) -> bytes:
    rng = random.Random(3)
    table = pa.table(
        {"iteration": list(range(rows)), "out": [rng.gauss(0.0, 1.0) for _ in range(rows)]}
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=10_000)
    return sink.getvalue()


def test_a_stored_blob_reads_and_seeks_like_the_bytes() -> None:
    data = bytes(random.Random(1).getrandbits(8) for _ in range(3 * PIECE + 123))
    reads: list[tuple[int, int]] = []

    def piece(offset: int, size: int) -> bytes:
        reads.append((offset, size))
        return data[offset : offset + size]

    blob = StoredBlob(piece, len(data))
    assert b"".join(blob.pieces()) == data
    assert max(size for _, size in reads) <= PIECE, "never more than a piece at a time"
    blob.seek(-100, io.SEEK_END)
    assert blob.read(1000) == data[-100:]
    blob.seek(PIECE + 5)
    assert blob.read(10) == data[PIECE + 5 : PIECE + 15] and blob.tell() == PIECE + 15


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_downloads_stream_what_was_stored(tmp_path: Path, backend: str) -> None:
    from tests.conftest import make_database_url

    urls = make_database_url(backend, tmp_path)
    url = next(urls)
    try:
        # no scheduler here: nothing but this test touches the job it writes
        app = create_app(fast_settings(tmp_path / "data", database_url=url), run_jobs=False)
        with TestClient(app) as client:
            store = app.state.service.store
            job, _ = store.create_job(engine="sleep", spec={"units": 1})
            claimed = store.claim_next("seed:1:x", 60, 5)
            assert claimed is not None
            store.start_work(job.id, "seed:1:x", total_units=1, chunks_total=1, unit="u")
            store.put_chunk(job.id, "seed:1:x", 0, 1, b"partial")
            big = bytes(random.Random(2).getrandbits(8) for _ in range(2 * PIECE + 7))
            parquet = _parquet(35_000)
            stored = {
                "big.bin": ("application/octet-stream", big),
                "iterations.parquet": ("application/vnd.apache.parquet", parquet),
            }
            assert store.complete(job.id, "seed:1:x", {"ok": True}, stored) is not None

            resp = client.get(f"/api/jobs/{job.id}/artifacts/big.bin")
            assert resp.status_code == 200 and resp.content == big
            assert resp.headers["content-length"] == str(len(big))
            csv = client.get(f"/api/jobs/{job.id}/artifacts/iterations.csv")
            assert csv.status_code == 200
            whole = io.BytesIO()
            pcsv.write_csv(pq.read_table(pa.BufferReader(parquet)), whole)
            assert csv.content == whole.getvalue()
            assert csv.content == b"".join(artifacts.csv_chunks(parquet))
            missing = client.get(f"/api/jobs/{job.id}/artifacts/nothing.csv")
            assert missing.status_code == 404 and missing.json()["code"] == "artifact_not_found"
    finally:
        urls.close()
