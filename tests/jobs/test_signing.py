"""Signed partials: a row forged in the database is never unpickled; the job says so."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest
from sqlalchemy import update
from tests.jobs.conftest import fast_settings, wait_until

from montesim.config import Settings
from montesim.jobs.service import build
from montesim.jobs.signing import Signer, TamperedData, key_file
from montesim.jobs.states import JobStatus
from montesim.jobs.store import Store
from montesim.jobs.tables import job_chunks


class Evil:
    """Unpickling this creates a marker file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.marker,))


def test_sign_and_verify() -> None:
    signer = Signer.random()
    blob = signer.sign(b"partial")
    assert signer.verify(blob) == b"partial"
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    for bad in (flipped, b"partial", b"", Signer.random().sign(b"partial")):
        with pytest.raises(TamperedData):
            signer.verify(bad)


def test_the_key_is_generated_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret.key"
    first = key_file(path)
    assert key_file(path) == first and len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    one = Signer.from_settings(Settings(data_dir=tmp_path / "data"))
    assert one.verify(Signer(first).sign(b"x")) == b"x"
    configured = Signer.from_settings(Settings(data_dir=tmp_path / "data", secret_key="s" * 32))
    with pytest.raises(TamperedData):
        configured.verify(one.sign(b"x"))


def test_a_forged_partial_in_the_store_is_refused_not_unpickled(database_url: str) -> None:
    signer = Signer.random()
    store = Store(database_url, signer=signer)
    try:
        job, _ = store.create_job(engine="sleep", spec={"units": 1})
        store.claim_next("w", 30, max_running=10)
        store.start_work(job.id, "w", total_units=1, chunks_total=1, unit="units")
        store.put_chunk(job.id, "w", 0, 1, pickle.dumps({"n": 1}))
        assert pickle.loads(store.chunk_data(job.id, 0)) == {"n": 1}
        with store.engine.begin() as conn:
            raw = conn.execute(job_chunks.select()).one().data
        assert bytes(raw).startswith(b"msig1:"), "what the database holds is signed"
        forged = pickle.dumps({"n": 2})
        with store.engine.begin() as conn:
            conn.execute(update(job_chunks).values(data=forged))
        with pytest.raises(TamperedData):
            store.chunk_data(job.id, 0)
        with pytest.raises(TamperedData):
            store.chunk_partials(job.id)
    finally:
        store.close()


def test_a_job_resumed_over_a_forged_partial_ends_in_error(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    settings = fast_settings(tmp_path / "data")
    svc = build(settings)  # its store signs with the data folder's key; not started yet
    store = svc.store
    job, _ = store.create_job(engine="sleep", spec={"units": 2, "chunk_size": 1})
    # A worker ran chunk 0, then died; someone with write access replaces its partial.
    store.claim_next("dead-worker", 0.5, max_running=10)
    store.start_work(job.id, "dead-worker", total_units=2, chunks_total=2, unit="units")
    store.put_chunk(job.id, "dead-worker", 0, 1, pickle.dumps({"index": 0, "sum": 0.5, "n": 1}))
    with store.engine.begin() as conn:
        conn.execute(update(job_chunks).values(data=pickle.dumps(Evil(marker))))
    svc.start()  # recovery takes the job over, runs chunk 1, then merges
    try:
        done = wait_until(lambda: store.get_job(job.id), lambda j: j.status.terminal)
    finally:
        svc.close()
    assert done.status == JobStatus.ERROR
    assert done.error_code == "tampered_data"
    assert "chunk 0" in (done.error_message or "")
    assert not marker.exists(), "the forged pickle must never be loaded"
