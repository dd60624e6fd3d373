"""Uploaded files: their names, sizes and hashes (the bytes live in the data folder)."""

from __future__ import annotations

from sqlalchemy import insert, select

from montesim.jobs.model import StoredFile
from montesim.jobs.store.base import StoreBase, now
from montesim.jobs.tables import files


class FilesStore(StoreBase):
    def add_file(self, file_id: str, filename: str, size: int, sha256: str) -> StoredFile:
        record = StoredFile(file_id, filename, size, sha256, now())
        with self._write() as conn:
            conn.execute(
                insert(files).values(
                    id=record.id,
                    filename=record.filename,
                    size=record.size,
                    sha256=record.sha256,
                    created_at=record.created_at,
                )
            )
        return record

    def file_ids(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(select(files.c.id).order_by(files.c.created_at)).scalars())

    def get_file(self, file_id: str) -> StoredFile | None:
        with self._read() as conn:
            row = conn.execute(select(files).where(files.c.id == file_id)).mappings().first()
            return StoredFile.from_row(row) if row else None
