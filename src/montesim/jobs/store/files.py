"""Uploaded files: names, sizes and hashes; their bytes on the server's disk and, when the
store holds files (the default on PostgreSQL), in ``file_blobs`` parts for every worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, insert, select

from montesim.jobs.model import StoredFile
from montesim.jobs.store.base import StoreBase, now
from montesim.jobs.tables import BLOB_PART, file_blobs, files


class FilesStore(StoreBase):
    # Where a new file's bytes are on this process's disk: set when the store holds files
    # (Service does), so ``add_file`` copies them in, in the same transaction.
    blob_source: Callable[[str], Path] | None = None

    def add_file(
        self, file_id: str, filename: str, size: int, sha256: str, owner: str | None = None
    ) -> StoredFile:
        record = StoredFile(file_id, filename, size, sha256, now(), owner[:200] if owner else None)
        source = self.blob_source(file_id) if self.blob_source is not None else None
        with self._write() as conn:
            conn.execute(
                insert(files).values(
                    id=record.id,
                    filename=record.filename,
                    size=record.size,
                    sha256=record.sha256,
                    owner=record.owner,
                    created_at=record.created_at,
                )
            )
            if source is not None and source.is_file():
                with source.open("rb") as f:
                    part = 0
                    while block := f.read(BLOB_PART):  # one part in memory at a time
                        conn.execute(
                            insert(file_blobs).values(file_id=file_id, part=part, data=block)
                        )
                        part += 1
        return record

    def has_blob(self, file_id: str) -> bool:
        with self._read() as conn:
            parts = conn.execute(
                select(func.count()).where(file_blobs.c.file_id == file_id)
            ).scalar_one()
        return bool(parts)

    def read_blob(self, file_id: str, write: Callable[[bytes], object]) -> int:
        """Stream a file's stored bytes to ``write``, part by part; the bytes written."""
        written = 0
        part = 0
        while True:
            with self._read() as conn:
                data = conn.execute(
                    select(file_blobs.c.data).where(
                        file_blobs.c.file_id == file_id, file_blobs.c.part == part
                    )
                ).scalar()
            if data is None:
                return written
            write(data)
            written += len(data)
            part += 1

    def file_ids(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(select(files.c.id).order_by(files.c.created_at)).scalars())

    def get_file(self, file_id: str, visible: str | None = None) -> StoredFile | None:
        """The file's record; with ``visible`` (an owner), None unless that owner's."""
        conds = [files.c.id == file_id]
        if visible is not None:
            conds.append(files.c.owner == visible)
        with self._read() as conn:
            row = conn.execute(select(files).where(*conds)).mappings().first()
            return StoredFile.from_row(row) if row else None
