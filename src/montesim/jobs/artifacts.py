"""Artifacts served from others: ``<name>.csv`` is written from ``<name>.parquet`` when
downloaded, so a job stores the compact Parquet only (a CSV of raw iterations is several
times its size, and building it at merge time cost more than the run's statistics)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator

CSV = "text/csv"
PARQUET_SUFFIX = ".parquet"
CSV_SUFFIX = ".csv"
BATCH_ROWS = 16_384  # rows converted at a time: a few MB of CSV in memory, whatever the size


def listed(stored: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(name, media_type)`` of the stored artifacts plus the CSVs derived from them."""
    names = dict(stored)
    for name in list(names):
        if name.endswith(PARQUET_SUFFIX):
            names.setdefault(name[: -len(PARQUET_SUFFIX)] + CSV_SUFFIX, CSV)
    return sorted(names.items())


def parquet_source(name: str) -> str | None:
    """The Parquet artifact a CSV named ``name`` is written from (None: not derivable)."""
    if not name.endswith(CSV_SUFFIX):
        return None
    return name[: -len(CSV_SUFFIX)] + PARQUET_SUFFIX


def csv_chunks(parquet: bytes, batch_rows: int = BATCH_ROWS) -> Iterator[bytes]:
    """The CSV of a Parquet file, piece by piece: the same bytes as
    ``pyarrow.csv.write_csv`` of the whole table (header line, then every row)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    source = pq.ParquetFile(pa.BufferReader(parquet))
    sink = io.BytesIO()

    def flush() -> bytes:
        data = sink.getvalue()
        sink.seek(0)
        sink.truncate()
        return data

    with pcsv.CSVWriter(sink, source.schema_arrow) as writer:
        for batch in source.iter_batches(batch_size=batch_rows):
            writer.write_batch(batch)
            yield flush()
    yield flush()  # the header of a table without rows


def write_csv(parquet: bytes, write: Callable[[bytes], object]) -> None:
    for data in csv_chunks(parquet):
        if data:
            write(data)
