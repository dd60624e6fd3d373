"""Model setups saved from the studio, and the uploaded files it lists (store access).

Functions take the store's SQLAlchemy engine. A setup is saved by name per workbook file
name: saving the same name again replaces its definition.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine

from montesim.jobs.tables import files, model_setups


@contextmanager
def _write(engine: Engine) -> Iterator[Connection]:
    """A write transaction that takes SQLite's write lock up front (the store's convention),
    so a read-then-write never fails on a lock upgrade."""
    with engine.connect() as conn:
        conn.execution_options(immediate=True)
        with conn.begin():
            yield conn


def list_files(
    engine: Engine, *, suffixes: tuple[str, ...] = (), limit: int = 100
) -> list[dict[str, Any]]:
    """Uploaded files, newest first; only names ending in ``suffixes`` when given."""
    query = select(files).order_by(files.c.created_at.desc())
    if suffixes:
        query = query.where(or_(*(files.c.filename.ilike(f"%{s}") for s in suffixes)))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query.limit(limit)).mappings()]


def save_setup(
    engine: Engine,
    *,
    name: str,
    filename: str,
    sha256: str,
    file_id: str,
    definition: dict[str, Any],
) -> dict[str, Any]:
    """Create the setup ``name`` for ``filename``, or replace its definition."""
    at = time.time()
    with _write(engine) as conn:
        row = (
            conn.execute(
                select(model_setups.c.id).where(
                    model_setups.c.filename == filename, model_setups.c.name == name
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            setup_id = str(uuid.uuid4())
            conn.execute(
                insert(model_setups).values(
                    id=setup_id,
                    name=name,
                    filename=filename,
                    sha256=sha256,
                    file_id=file_id,
                    definition=definition,
                    created_at=at,
                    updated_at=at,
                )
            )
        else:
            setup_id = row["id"]
            conn.execute(
                update(model_setups)
                .where(model_setups.c.id == setup_id)
                .values(sha256=sha256, file_id=file_id, definition=definition, updated_at=at)
            )
    found = get_setup(engine, setup_id)
    assert found is not None
    return found


def get_setup(engine: Engine, setup_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(model_setups).where(model_setups.c.id == setup_id)).mappings()
        first = row.first()
        return dict(first) if first else None


def setups_for(engine: Engine, *, filename: str, sha256: str) -> list[dict[str, Any]]:
    """Setups saved for a workbook of this name or this content, most recently saved first."""
    query = (
        select(model_setups)
        .where(or_(model_setups.c.filename == filename, model_setups.c.sha256 == sha256))
        .order_by(model_setups.c.updated_at.desc())
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def delete_setup(engine: Engine, setup_id: str) -> bool:
    with _write(engine) as conn:
        return conn.execute(delete(model_setups).where(model_setups.c.id == setup_id)).rowcount > 0
