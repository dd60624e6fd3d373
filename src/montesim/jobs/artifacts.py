"""Artifacts as downloads: read piece by piece, and served from others.

A stored artifact is read in ``PIECE`` bytes at a time (``StoredBlob``), so a download
holds one piece in memory whatever the artifact's size. ``<name>.csv`` is written from
``<name>.parquet`` when downloaded, so a job stores the compact Parquet only (a CSV of raw
iterations is several times its size, and building it at merge time cost more than the
run's statistics); Parquet is read row group by row group from the stored blob.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

CSV = "text/csv"
PARQUET_SUFFIX = ".parquet"
CSV_SUFFIX = ".csv"
BATCH_ROWS = 16_384  # rows converted at a time: a few MB of CSV in memory, whatever the size
PIECE = 1 << 20  # bytes read from the store at a time


class StoredBlob(io.RawIOBase):
    """A read-only, seekable file over a stored artifact, read ``read_piece(offset, size)``
    at a time (each piece one query): what pyarrow and a streamed download read."""

    def __init__(self, read_piece: Callable[[int, int], bytes], size: int) -> None:
        self._read_piece = read_piece
        self.size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self.size - self._pos, PIECE)
        if want <= 0:
            return 0
        data = self._read_piece(self._pos, want)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def pieces(self) -> Iterator[bytes]:
        """The whole artifact from its start, one piece at a time."""
        self.seek(0)
        while data := self.read(PIECE):
            yield data


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


def csv_chunks(parquet: bytes | StoredBlob, batch_rows: int = BATCH_ROWS) -> Iterator[bytes]:
    """The CSV of a Parquet file (its bytes, or a stored blob read as it goes), piece by
    piece: the same bytes as ``pyarrow.csv.write_csv`` of the whole table (header line,
    then every row)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    reader = pa.BufferReader(parquet) if isinstance(parquet, bytes) else pa.PythonFile(parquet)
    source = pq.ParquetFile(reader)
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
