"""Model setups saved from the studio, and the uploaded files it lists (store access).

Functions take the store's SQLAlchemy engine. A setup is saved by name per workbook file
name (and owner): saving the same name again replaces its definition. ``visible`` (an
owner) limits every lookup to that owner's rows; None sees all (auth off, admins).
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
    engine: Engine,
    *,
    suffixes: tuple[str, ...] = (),
    visible: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Uploaded files, newest first; only names ending in ``suffixes`` when given."""
    query = select(files).order_by(files.c.created_at.desc())
    if visible is not None:
        query = query.where(files.c.owner == visible)
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
    owner: str | None = None,
    visible: str | None = None,
) -> dict[str, Any]:
    """Create the setup ``name`` for ``filename`` (recording ``owner``), or replace the
    definition of the one ``visible`` sees."""
    at = time.time()
    conds = [model_setups.c.filename == filename, model_setups.c.name == name]
    if visible is not None:
        conds.append(model_setups.c.owner == visible)
    with _write(engine) as conn:
        row = conn.execute(select(model_setups.c.id).where(*conds)).mappings().first()
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
                    owner=owner[:200] if owner else None,
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


def _visible(visible: str | None) -> list[Any]:
    return [] if visible is None else [model_setups.c.owner == visible]


def get_setup(engine: Engine, setup_id: str, visible: str | None = None) -> dict[str, Any] | None:
    with engine.connect() as conn:
        query = select(model_setups).where(model_setups.c.id == setup_id, *_visible(visible))
        row = conn.execute(query).mappings()
        first = row.first()
        return dict(first) if first else None


def setups_for(
    engine: Engine, *, filename: str, sha256: str, visible: str | None = None
) -> list[dict[str, Any]]:
    """Setups saved for a workbook of this name or this content, most recently saved first."""
    query = (
        select(model_setups)
        .where(
            or_(model_setups.c.filename == filename, model_setups.c.sha256 == sha256),
            *_visible(visible),
        )
        .order_by(model_setups.c.updated_at.desc())
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def delete_setup(engine: Engine, setup_id: str, visible: str | None = None) -> bool:
    query = delete(model_setups).where(model_setups.c.id == setup_id, *_visible(visible))
    with _write(engine) as conn:
        return conn.execute(query).rowcount > 0
