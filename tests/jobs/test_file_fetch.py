"""A worker fetching an upload from an object store that is away for a moment tries
again with backoff; one that stays away fails the job with a reason naming the store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from montesim.errors import EngineError
from montesim.jobs.runner import FileMap
from montesim.jobs.store import Store

CONTENT = b"a workbook's bytes" * 1000


class FlakyObjects:
    """An object store that fails its first ``failures`` reads."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.reads = 0

    def where(self, sha256: str) -> str:
        return f"s3://bucket/{sha256}"

    def read(self, sha256: str, write: Callable[[bytes], object]) -> int:
        self.reads += 1
        if self.reads <= self.failures:
            write(CONTENT[:100])  # a partial read, then the connection drops
            raise ConnectionError("endpoint unreachable")
        write(CONTENT)
        return len(CONTENT)


def _files(tmp_path: Path, objects: FlakyObjects) -> tuple[FileMap, str]:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    sha256 = hashlib.sha256(CONTENT).hexdigest()
    stored = store.add_file("f-1", "book.xlsx", len(CONTENT), sha256)
    files = FileMap(store, tmp_path / "elsewhere", tmp_path / "cache", objects)  # type: ignore[arg-type]
    files.RETRY_DELAYS = (0.0, 0.0, 0.0)
    return files, stored.id


def test_a_short_outage_is_ridden_out(tmp_path: Path) -> None:
    objects = FlakyObjects(failures=2)
    files, file_id = _files(tmp_path, objects)
    path = files[file_id]
    assert path.read_bytes() == CONTENT and objects.reads == 3
    assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
    assert not list(path.parent.glob("*.part")), "no partial download left behind"


def test_a_store_that_stays_away_fails_with_its_address(tmp_path: Path) -> None:
    objects = FlakyObjects(failures=10)
    files, file_id = _files(tmp_path, objects)
    with pytest.raises(EngineError) as err:
        files[file_id]
    assert err.value.code == "file_store_unavailable" and "s3://bucket/" in err.value.message
    assert objects.reads == 4, "the first try and three more"
