"""The workbook studio's endpoints: uploaded workbooks, their sheets page by page,
precedents and dependents, distribution previews, correlation and pre-run checks,
and named model setups.

Reading a workbook is the slow part: each file is read once into a view that is kept in
a small cache (uploads never change, so a file id always means the same bytes); later
requests page through it. Workbooks too large to view are refused before reading.
Handlers are plain ``def`` so FastAPI runs them in its threadpool.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import asdict
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from montesim.api.deps import owner_of, services, visible_to
from montesim.api.problems import Problem
from montesim.engines.excel.precheck import check
from montesim.engines.excel.sheetview import MAX_PAGE_CELLS, WorkbookView, build_view
from montesim.errors import EngineError, InputError
from montesim.jobs.progress import iso
from montesim.jobs.store import setups
from montesim.sampling.correlation import validate_corr
from montesim.sampling.distributions import Distribution, make_distribution

router = APIRouter(tags=["workbooks"])

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
MAX_VIEW_BYTES = 30 * 1024 * 1024  # the studio reads workbooks up to this size
MAX_SETUP_BYTES = 256 * 1024  # a saved definition, as JSON
DENSITY_POINTS = 80


class Reading(Exception):
    """The workbook is still being read; the client asks again shortly."""


class Background:
    """Slow work (reading a workbook, checking a model) in one background thread, its
    results kept for the last few keys.

    A request waits briefly; if the work takes longer it answers 202 "reading" at once (no
    request holds a server thread for a big workbook) and the client asks again, finding
    the same work under the same key. One piece of work runs at a time.
    """

    def __init__(self, size: int = 4, wait: float = 5.0) -> None:
        self.size = size
        self.wait = wait
        self._futures: OrderedDict[str, Future[Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-background")

    def result(self, key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            future = self._futures.get(key)
            if future is None:
                future = self._worker.submit(fn, *args, **kwargs)
                self._futures[key] = future
                while len(self._futures) > self.size:
                    oldest = next(iter(self._futures))
                    if not self._futures[oldest].done():
                        break
                    self._futures.pop(oldest)
            self._futures.move_to_end(key)
        try:
            return future.result(timeout=self.wait)
        except FuturesTimeout:
            raise Reading() from None


views = Background(size=4)  # file id -> WorkbookView
checks = Background(size=16)  # file id + spec -> pre-run check


def _file(request: Request, file_id: str) -> dict[str, Any]:
    """The file's record, if the one asking may see it; 404 otherwise."""
    row = services(request).store.get_file(file_id, visible_to(request))
    if row is None:
        raise Problem(404, "file_not_found", f"No file with id {file_id!r}", location="file_id")
    return asdict(row)


def _view(request: Request, file_id: str) -> WorkbookView:
    svc = services(request)
    row = _file(request, file_id)
    if not row["filename"].lower().endswith(WORKBOOK_SUFFIXES):
        raise InputError(
            f"{row['filename']} is not an .xlsx or .xlsm workbook",
            code="not_a_workbook",
            location="file_id",
        )
    if row["size"] > MAX_VIEW_BYTES:
        raise InputError(
            f"{row['filename']} is {row['size'] / 2**20:.1f} MiB; the studio opens workbooks "
            f"of up to {MAX_VIEW_BYTES // 2**20} MiB (submit bigger ones as a job)",
            code="workbook_too_large",
            location="file_id",
        )
    try:
        path = svc.files[file_id]  # this server's upload, or fetched from the file store
    except EngineError as exc:  # the store lost the bytes, or cannot be reached now
        status = 404 if exc.code == "file_missing" else 503
        raise Problem(status, exc.code, exc.message, location="file_id") from None
    return views.result(file_id, build_view, path, label=row["filename"])


def answers_reading(handler: Callable[..., Any]) -> Callable[..., Any]:
    """While the workbook is being read, the endpoint answers 202 ``reading``: ask again."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Reading:
            return JSONResponse(
                {"status": "reading", "detail": "The workbook is being read; ask again shortly."},
                status_code=202,
                headers={"Retry-After": "1"},
            )

    return wrapper


def _file_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "file_id": row["id"],
        "filename": row["filename"],
        "size": row["size"],
        "uploaded_at": iso(row["created_at"]),
    }


# -- files and sheets ------------------------------------------------------------------


@router.get("/api/files")
def list_files(
    request: Request,
    kind: Annotated[str, Query(pattern="^(workbook|any)$")] = "workbook",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Uploaded files, newest first (workbooks only unless ``kind=any``)."""
    svc = services(request)
    suffixes = WORKBOOK_SUFFIXES if kind == "workbook" else ()
    rows = setups.list_files(
        svc.store.engine, suffixes=suffixes, visible=visible_to(request), limit=limit
    )
    return {"items": [_file_json(r) for r in rows]}


@router.get("/api/files/{file_id}/sheets")
@answers_reading
def sheets(file_id: str, request: Request) -> dict[str, Any]:
    """The workbook's sheets with their extent, and what the studio marks in it."""
    row = _file(request, file_id)
    view = _view(request, file_id)
    report = view.summary
    return {
        **_file_json(row),
        "sheets": [
            {
                "name": s.name,
                "rows": s.max_row,
                "cols": s.max_col,
                "cells": s.cells,
                "formulas": s.formulas,
                "col_widths": {str(k): v for k, v in sorted(s.col_widths.items())},
            }
            for s in view.sheets
        ],
        "inputs": report["inputs"],
        "outputs": report["outputs"],
        "random": report["random"],
        "unsupported": report["unsupported"],
        "parse_errors": report["parse_errors"],
        "warnings": report.get("warnings", []),
        "computed_values": bool(view.computed),
        "uncomputed_formulas": view.uncomputed,
        "limits": {"page_cells": MAX_PAGE_CELLS},
    }


@router.get("/api/files/{file_id}/sheets/{sheet}/cells")
@answers_reading
def cells(
    file_id: str,
    sheet: str,
    request: Request,
    range: Annotated[str, Query(max_length=40)] = "A1:Z200",  # noqa: A002 - the query name
) -> dict[str, Any]:
    """The non-empty cells of a range: display text, value, formula, number format, mark."""
    return _view(request, file_id).page(sheet, range)


@router.get("/api/files/{file_id}/trace")
@answers_reading
def trace(
    file_id: str, request: Request, cell: Annotated[str, Query(max_length=300)]
) -> dict[str, Any]:
    """The cell's direct precedents (ranges its formula reads) and dependents."""
    view = _view(request, file_id)
    return {
        "cell": cell,
        "precedents": view.precedents(cell),
        "dependents": view.dependents(cell),
    }


@router.post("/api/files/{file_id}/check")
@answers_reading
def precheck(file_id: str, request: Request, spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Everything that would stop the job, or make a result meaningless, before it runs."""
    view = _view(request, file_id)
    body = {**spec, "file_id": file_id}
    key = file_id + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return checks.result(key, check, body, view.book)


# -- distributions and correlation ------------------------------------------------------


class DistributionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    family: str = Field(max_length=40)
    params: list[float | list[float]] = Field(max_length=8)
    truncate: tuple[float | None, float | None] | None = None


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def preview(dist: Distribution) -> dict[str, Any]:
    """Mean, 5th/95th percentiles and a density (or probability masses) to plot."""
    lo, p5, p50, p95, hi = (float(v) for v in dist.ppf(np.array([0.002, 0.05, 0.5, 0.95, 0.998])))
    out: dict[str, Any] = {
        "family": dist.family,
        "mean": _finite(dist.mean()),
        "p5": _finite(p5),
        "p50": _finite(p50),
        "p95": _finite(p95),
        "discrete": dist.discrete,
    }
    if dist.discrete:
        xs = np.unique(dist.ppf(np.linspace(0.001, 0.999, 400)))
        if len(xs) > DENSITY_POINTS:
            xs = xs[:: math.ceil(len(xs) / DENSITY_POINTS)]
        below = dist.cdf(np.nextafter(xs, -np.inf))
        mass = dist.cdf(xs) - below
        out["points"] = {"x": xs.tolist(), "y": mass.tolist()}
        return out
    if not hi > lo:
        out["points"] = {"x": [lo], "y": [1.0]}
        return out
    edges = np.linspace(lo, hi, DENSITY_POINTS + 1)
    dens = np.diff(dist.cdf(edges)) / np.diff(edges)
    mids = (edges[:-1] + edges[1:]) / 2
    out["points"] = {"x": mids.tolist(), "y": np.nan_to_num(dens).tolist()}
    return out


@router.post("/api/distributions/preview")
def distribution_preview(body: DistributionBody) -> dict[str, Any]:
    """Check a distribution's parameters (422 names the bad one) and describe it."""
    dist = make_distribution(body.family, body.params, truncate=body.truncate, location="input")
    return preview(dist)


class CorrelationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inputs: list[str] = Field(min_length=2, max_length=200)
    matrix: list[list[float | None]] = Field(max_length=200)


@router.post("/api/correlations/check")
def correlation_check(body: CorrelationBody) -> dict[str, Any]:
    """A correlation matrix checked as a job would check it (square, symmetric, valid)."""
    corr = validate_corr(body.matrix, body.inputs, location="correlation.matrix")  # type: ignore[arg-type]  # blanks are mirrored
    return {"ok": True, "matrix": np.asarray(corr).tolist()}


# -- model setups ------------------------------------------------------------------------


class SetupBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    definition: dict[str, Any]


def _setup_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "setup_id": row["id"],
        "name": row["name"],
        "filename": row["filename"],
        "file_id": row["file_id"],
        "definition": row["definition"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


@router.get("/api/files/{file_id}/setups")
def list_setups(file_id: str, request: Request) -> dict[str, Any]:
    """Setups saved for this workbook (same file name or same content), newest first."""
    row = _file(request, file_id)
    found = setups.setups_for(
        services(request).store.engine,
        filename=row["filename"],
        sha256=row["sha256"],
        visible=visible_to(request),
    )
    return {"items": [_setup_json(r) for r in found]}


@router.post("/api/files/{file_id}/setups", status_code=201)
def save_setup(file_id: str, body: SetupBody, request: Request) -> dict[str, Any]:
    """Save the studio's definition under a name (the same name again replaces it)."""
    svc = services(request)
    row = _file(request, file_id)
    if len(json.dumps(body.definition)) > MAX_SETUP_BYTES:
        raise InputError(
            f"definition: a model setup is at most {MAX_SETUP_BYTES // 1024} KiB of JSON",
            code="setup_too_large",
            location="definition",
        )
    saved = setups.save_setup(
        svc.store.engine,
        name=body.name.strip() or "Setup",
        filename=row["filename"],
        sha256=row["sha256"],
        file_id=file_id,
        definition=body.definition,
        owner=owner_of(request),
        visible=visible_to(request),
    )
    return _setup_json(saved)


@router.get("/api/setups/{setup_id}")
def get_setup(setup_id: str, request: Request) -> dict[str, Any]:
    row = setups.get_setup(services(request).store.engine, setup_id, visible_to(request))
    if row is None:
        raise Problem(
            404, "setup_not_found", f"No model setup with id {setup_id!r}", location="setup_id"
        )
    return _setup_json(row)


@router.delete("/api/setups/{setup_id}")
def delete_setup(setup_id: str, request: Request) -> dict[str, Any]:
    if not setups.delete_setup(services(request).store.engine, setup_id, visible_to(request)):
        raise Problem(
            404, "setup_not_found", f"No model setup with id {setup_id!r}", location="setup_id"
        )
    return {"deleted": setup_id}
