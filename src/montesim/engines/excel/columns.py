"""Per-output columns of a run (one row per output, one column per iteration).

Small runs keep them in memory. Past a budget (``MONTESIM_RESULT_MEMORY`` MiB, default
256) they go to an unlinked temporary file instead: chunks are written at their offset
with ``pwrite``, statistics read one output back at a time with ``pread`` (so the file's
pages never count towards the process's resident memory), and callers that want the
raw values get a read-only memory map.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from montesim.errors import InputError

RESULT_MEMORY_ENV = "MONTESIM_RESULT_MEMORY"
DEFAULT_RESULT_MEMORY_MIB = 256


def result_memory() -> int:
    """The in-memory budget for output columns, in bytes (``MONTESIM_RESULT_MEMORY`` MiB)."""
    text = os.environ.get(RESULT_MEMORY_ENV, "").strip()
    if not text:
        return DEFAULT_RESULT_MEMORY_MIB * 2**20
    try:
        mib = float(text)
    except ValueError:
        mib = -1.0
    if not mib >= 0:
        raise InputError(
            f"{RESULT_MEMORY_ENV} must be a number of MiB >= 0 (got {text!r})",
            code="invalid_setting",
            location=RESULT_MEMORY_ENV,
        )
    return int(mib * 2**20)


class SpilledColumns:
    """A (rows, iterations) array of ``dtype`` in an unlinked temporary file."""

    def __init__(
        self, rows: int, iterations: int, dtype: type, directory: Path | str | None = None
    ) -> None:
        self.shape = (rows, iterations)
        self.dtype = np.dtype(dtype)
        # closed (and so deleted) with this object, or with the last memory map of it
        self.file = tempfile.TemporaryFile(dir=directory, prefix="montesim-columns-")  # noqa: SIM115
        self.file.truncate(rows * iterations * self.dtype.itemsize)

    def _offset(self, row: int, start: int) -> int:
        return (row * self.shape[1] + start) * self.dtype.itemsize

    def write(self, row: int, start: int, values: np.ndarray) -> None:
        data = memoryview(np.ascontiguousarray(values, dtype=self.dtype)).cast("B")
        offset = self._offset(row, start)
        while len(data):
            written = os.pwrite(self.file.fileno(), data, offset)
            data, offset = data[written:], offset + written

    def read(self, row: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """A fresh in-memory copy of ``row[start:stop]``."""
        stop = self.shape[1] if stop is None else min(stop, self.shape[1])
        out = np.empty(max(stop - start, 0), dtype=self.dtype)
        view = memoryview(out).cast("B")
        offset = self._offset(row, start)
        while len(view):
            got = os.preadv(self.file.fileno(), [view], offset)
            if got <= 0:
                raise OSError(f"short read from the spilled columns at byte {offset}")
            view, offset = view[got:], offset + got
        return out

    def __getitem__(self, key: object) -> np.ndarray:
        """Indexing goes through the read-only memory map (for callers that want arrays)."""
        return self.mapped()[key]

    def mapped(self) -> np.memmap:
        """The whole array as a read-only memory map (pages load as they are read)."""
        return np.memmap(self.file, dtype=self.dtype, mode="r", shape=self.shape)


Columns = np.ndarray | SpilledColumns


def read_row(columns: Columns, row: int, stop: int | None = None) -> np.ndarray:
    """``columns[row, :stop]`` as an in-memory array (a copy when spilled, else a view)."""
    if isinstance(columns, SpilledColumns):
        return columns.read(row, 0, stop)
    return columns[row, :stop]
