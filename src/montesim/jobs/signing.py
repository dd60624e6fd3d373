"""HMAC-signed partials: whoever can write the database cannot run code on the workers.

Chunk partials are pickled (they are engine objects: NumPy arrays, dataclasses) and kept
in the store until the merge; a forged row would be code run by ``pickle.loads``. So the
store keeps ``MAGIC + HMAC-SHA256(key, data) + data`` and checks the tag before handing
the bytes to anything that unpickles them. Plans never reach the store (they travel in
memory and through the planning child's pipe).

A deployment's key is ``MONTESIM_SECRET_KEY`` or, when that is empty, the 32 random bytes
the store's first migration made (``meta.signing_key``): every server, worker and API
replica on one store reads the same key with nothing to configure. Caches local to one
machine (the plan cache) sign with a key generated once into their folder instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from montesim.config import Settings
from montesim.errors import TamperedData

MAGIC = b"msig1:"
TAG = hashlib.sha256().digest_size


class Signer:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a signing key needs at least 16 bytes")
        self._key = key

    def sign(self, data: bytes) -> bytes:
        return MAGIC + hmac.digest(self._key, data, "sha256") + data

    def verify(self, blob: bytes, what: str = "stored data") -> bytes:
        """The signed bytes, or TamperedData."""
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + TAG:
            raise TamperedData(what)
        tag = blob[len(MAGIC) : len(MAGIC) + TAG]
        data = blob[len(MAGIC) + TAG :]
        if not hmac.compare_digest(tag, hmac.digest(self._key, data, "sha256")):
            raise TamperedData(what)
        return data

    @classmethod
    def random(cls) -> Signer:
        """A throwaway key (a store that lives only as long as this process)."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def for_deployment(cls, settings: Settings, stored_key: str | None) -> Signer:
        """``MONTESIM_SECRET_KEY`` when set, else the key kept in the store."""
        if settings.secret_key:
            return cls(hashlib.sha256(settings.secret_key.encode()).digest())
        if not stored_key:
            raise RuntimeError("the store holds no signing key: its migrations did not run")
        return cls(bytes.fromhex(stored_key))

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer:
        """``MONTESIM_SECRET_KEY`` when set, else a key kept in ``<data_dir>/secret.key``
        (for what one machine keeps to itself)."""
        if settings.secret_key:
            return cls(hashlib.sha256(settings.secret_key.encode()).digest())
        return cls(key_file(settings.data_dir / "secret.key"))


def key_file(path: Path) -> bytes:
    """The key in ``path``, created (0600, exclusively) when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    text = path.read_text().strip()
    if len(text) < 32:
        raise RuntimeError(f"{path} holds no usable key; delete it to have one generated")
    return bytes.fromhex(text) if all(c in "0123456789abcdef" for c in text) else text.encode()
