"""/api/files: upload input files (workbooks, trees) that specs reference by id."""

from __future__ import annotations

import errno
import hashlib
import logging
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, UploadFile

from montesim.api.deps import owner_of, services, visible_to
from montesim.api.problems import Problem
from montesim.jobs.objects import ObjectStoreError

log = logging.getLogger("montesim.api.files")

router = APIRouter(prefix="/api/files", tags=["files"])

_READ = 1 << 20


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "file_too_large",
        f"Upload exceeds the limit of {limit} bytes",
        location="file",
        limit=limit,
    )


@router.post("", status_code=201)
def upload_file(file: UploadFile, request: Request) -> dict[str, Any]:
    svc = services(request)
    limit = svc.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _too_large(limit)
    file_id = str(uuid.uuid4())
    folder = svc.settings.files_dir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_id
    digest = hashlib.sha256()
    size = 0
    try:
        with target.open("wb") as out:
            while block := file.file.read(_READ):
                size += len(block)
                if size > limit:
                    raise _too_large(limit)
                digest.update(block)
                out.write(block)
    except OSError as exc:
        target.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise Problem(
                507,
                "insufficient_storage",
                "The server has no room for this upload right now; nothing was stored",
                location="file",
            ) from None
        raise
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    name = Path(file.filename or "upload").name[:255]
    try:
        svc.record_file(file_id, name, size, digest.hexdigest(), owner_of(request))
    except ObjectStoreError as exc:
        target.unlink(missing_ok=True)
        log.error("upload not stored: %s", exc)
        raise Problem(
            503,
            "file_store_unavailable",
            "The file store cannot take this upload right now; nothing was stored",
            location="file",
        ) from None
    return {"file_id": file_id, "filename": name, "size": size, "sha256": digest.hexdigest()}


@router.get("/{file_id}")
def file_info(file_id: str, request: Request) -> dict[str, Any]:
    row = services(request).store.get_file(file_id, visible_to(request))
    if row is None:
        raise Problem(
            404, "file_not_found", f"No file with id {file_id[:80]!r}", location="file_id"
        )
    return {"file_id": row.id, "filename": row.filename, "size": row.size, "sha256": row.sha256}
