"""Store-wide settings: a few rows of the ``meta`` table every process reads.

They are what all processes on one store must agree on (the job cap), so they live in
the store, not in each process's environment. ``montesim config set`` writes them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from montesim.errors import InputError
from montesim.jobs.store.base import StoreBase, now
from montesim.jobs.tables import meta

# key -> (description, smallest value); every store-wide setting is an integer today.
STORE_SETTINGS: dict[str, tuple[str, int]] = {
    "max_concurrent_jobs": ("jobs running at once across every process on this store", 0),
}
_PREFIX = "setting:"


def parse_setting(key: str, value: str | int) -> int:
    """The setting's value checked against its bounds; InputError names the mistake."""
    if key not in STORE_SETTINGS:
        known = ", ".join(sorted(STORE_SETTINGS))
        raise InputError(f"unknown store setting {key!r} (known: {known})", location="key")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(f"{key} must be an integer, got {value!r}", location=key) from None
    lowest = STORE_SETTINGS[key][1]
    if number < lowest:
        raise InputError(f"{key} must be at least {lowest}, got {number}", location=key)
    return number


class SettingsStore(StoreBase):
    def set_setting(self, key: str, value: str | int) -> int:
        number = parse_setting(key, value)
        with self._write() as conn:
            t = now()
            res = conn.execute(
                update(meta).where(meta.c.key == _PREFIX + key).values(value=number, updated_at=t)
            )
            if not res.rowcount:
                conn.execute(insert(meta).values(key=_PREFIX + key, value=number, updated_at=t))
        return number

    def unset_setting(self, key: str) -> None:
        parse_setting(key, STORE_SETTINGS.get(key, ("", 0))[1])
        with self._write() as conn:
            conn.execute(delete(meta).where(meta.c.key == _PREFIX + key))

    def store_settings(self) -> dict[str, Any]:
        """The settings set in the store (unset ones are absent)."""
        with self._read() as conn:
            rows = conn.execute(
                select(meta.c.key, meta.c.value).where(meta.c.key.startswith(_PREFIX))
            ).all()
        return {k.removeprefix(_PREFIX): v for k, v in rows}

    def reference_digest(self, mine: str | None) -> str | None:
        """The store's reference arithmetic digest (see montesim.portable): the first
        process with montesim's own NumPy settings to ask records its own (``mine``;
        None from a process started otherwise, which never sets the reference)."""
        key = "arithmetic_digest"
        with self._write() as conn:
            value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
            if isinstance(value, str) or mine is None:
                return value if isinstance(value, str) else None
            conn.execute(insert(meta).values(key=key, value=mine, updated_at=now()))
            return mine

    def signing_key(self) -> str | None:
        """The deployment's signing key, made once by a migration (see jobs.signing)."""
        with self._read() as conn:
            value = conn.execute(select(meta.c.value).where(meta.c.key == "signing_key")).scalar()
        return value if isinstance(value, str) else None

    @staticmethod
    def _setting(conn: Connection, key: str) -> Any:
        return conn.execute(select(meta.c.value).where(meta.c.key == _PREFIX + key)).scalar()
