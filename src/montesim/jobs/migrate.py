"""Run the Alembic migrations programmatically (on every start; idempotent).

Any number of processes may start at once on an empty database: each takes a
database-wide lock before migrating (a PostgreSQL advisory lock; on SQLite an exclusive
lock on a file beside the database), so one migrates and the others find it done.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
# The advisory lock key migrations take on PostgreSQL (any fixed 64-bit number montesim
# uses for nothing else).
MIGRATION_LOCK = 7243002
_lock = threading.Lock()


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


@contextmanager
def database_lock(engine: Engine) -> Iterator[None]:
    """Hold the store-wide migration lock (released with the connection or the file)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
            conn.commit()
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield  # a database only this process sees
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _lock, database_lock(engine):
        command.upgrade(alembic_config(engine), revision)
