"""Uploaded files' bytes in an object store (``MONTESIM_FILE_STORE=s3://bucket/prefix``).

Objects are named by their content hash, so an upload stored twice is one object and a
worker anywhere reads a file by the hash the store recorded for it. Any fsspec URL works
(``s3://`` needs ``montesim[s3]``); ``MONTESIM_FILE_STORE_OPTIONS`` (JSON) passes extra
arguments to the filesystem, for example an S3-compatible server's ``endpoint_url``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from montesim.errors import ObjectStoreError

BLOCK = 1 << 20  # bytes moved at a time: one block in memory, whatever the file's size


class ObjectFiles:
    """Put, test and read files by sha256 under one fsspec URL."""

    def __init__(self, url: str, options: dict[str, Any] | None = None) -> None:
        import fsspec

        self.url = url.rstrip("/")
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url, **(options or {}))
        except ImportError as exc:  # s3fs (or gcsfs, adlfs...) not installed
            raise ObjectStoreError(
                f"MONTESIM_FILE_STORE={url!r} needs a package that is not installed: {exc} "
                "(for s3:// install montesim[s3])"
            ) from None

    def path(self, sha256: str) -> str:
        return f"{self.root}/{sha256}"

    def where(self, sha256: str) -> str:
        return f"{self.url}/{sha256}"

    def exists(self, sha256: str) -> bool:
        self.fs.invalidate_cache(self.root)  # another process may have written it
        return bool(self.fs.exists(self.path(sha256)))

    def put(self, sha256: str, source: Path) -> None:
        """Copy ``source`` in, block by block (nothing to do if the content is there)."""
        try:
            if self.exists(sha256):
                return
            with source.open("rb") as f, self.fs.open(self.path(sha256), "wb") as out:
                while block := f.read(BLOCK):
                    out.write(block)
        except Exception as exc:  # s3fs maps most failures to OSError, but not all
            raise ObjectStoreError(f"cannot write {self.where(sha256)}: {exc}") from exc

    def read(self, sha256: str, write: Callable[[bytes], object]) -> int:
        """Stream the object to ``write``; FileNotFoundError when it is not there."""
        written = 0
        self.fs.invalidate_cache(self.root)
        with self.fs.open(self.path(sha256), "rb") as f:
            while block := f.read(BLOCK):
                write(block)
                written += len(block)
        return written

    def remove(self, sha256: str) -> None:
        self.fs.rm(self.path(sha256))


def object_files(url: str, options: dict[str, Any] | None = None) -> ObjectFiles | None:
    """The object store a ``file_store`` setting names, or None for database/disk."""
    if "://" not in url:
        return None
    return ObjectFiles(url, options)
