"""Risk-tree endpoints: synchronous simulation of small runs, severity previews, checks.

Larger runs go through ``POST /api/jobs`` with engine ``risktree``; the synchronous one
goes through the same job runner, inline, against a throwaway store. Handlers are plain
``def`` so FastAPI runs them in its threadpool and the event loop never blocks.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from montesim.engines.risktree.engine import plan_for
from montesim.engines.risktree.loading import parse_document, parse_spec, validate_model
from montesim.engines.risktree.register import to_register
from montesim.engines.risktree.severity import Severity
from montesim.errors import EngineError, InputError
from montesim.jobs.service import run_now
from montesim.jobs.views import input_error_of
from montesim.stats.lec import LossHistogram

router = APIRouter(prefix="/api/risktree", tags=["risktree"])

SYNC_MAX_TRIALS = 100_000
PREVIEW_QUANTILES = (0.05, 0.5, 0.95)


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a whole leaf may be sent as is

    severity: Severity
    points: int = Field(200, ge=10, le=2_000)


@router.post("/simulate")
def simulate(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Run a tree of up to 100,000 trials now and return every node's figures and LEC."""
    parsed = parse_spec(spec)
    if parsed.trials > SYNC_MAX_TRIALS:
        raise InputError(
            f"trials: {parsed.trials:,} trials is more than the {SYNC_MAX_TRIALS:,} this "
            "endpoint runs synchronously; submit it as a job instead: POST /api/jobs with "
            '{"engine": "risktree", "spec": ...}',
            code="too_many_trials_for_sync",
            location="trials",
            detail={
                "max_trials": SYNC_MAX_TRIALS,
                "job_endpoint": "/api/jobs",
                "engine": "risktree",
            },
        )
    outcome = run_now("risktree", spec, executor="inline")
    if outcome.result is None:
        raise input_error_of(outcome.job) or EngineError(
            outcome.job.error_message or "the run failed", code=outcome.job.error_code or "error"
        )
    return outcome.result.summary


@router.post("/preview")
def preview(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """pdf and cdf points of one leaf's severity (send the severity, or the whole leaf)."""
    if "severity" not in body and ("low" in body or "high" in body):
        body = {
            **body,
            "severity": {"family": "lognormal", "low": body.get("low"), "high": body.get("high")},
        }
    request = validate_model(PreviewRequest, body)
    sev = request.severity
    return {
        "family": sev.family,
        **sev.curve(request.points),
        "quantiles": {f"p{round(q * 100)}": sev.quantile(q) for q in PREVIEW_QUANTILES},
    }


@router.post("/validate")
def validate(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Check a tree without running it; returns its nodes in display order."""
    plan = plan_for(parse_spec(spec))
    return {
        "trials": plan.spec.trials,
        "warnings": list(plan.warnings),
        # the tree as the form edits it: flat, converted from whatever shape was sent
        "tree": plan.spec.tree.model_dump(exclude_none=True),
        "settings": plan.spec.model_dump(
            include={"tolerance", "correlation", "output"}, exclude_none=True
        ),
        "nodes": [
            {
                "name": n.name,
                "kind": n.kind,
                "depth": n.depth,
                "parent": plan.tree.nodes[n.parent].name if n.parent is not None else None,
            }
            for n in plan.tree.nodes
        ],
    }


@router.post("/import")
def import_register(
    text: str = Body(..., media_type="text/plain"), filename: str = "register.csv"
) -> dict[str, Any]:
    """A CSV risk register (or YAML/JSON tree) as the JSON tree ``simulate`` accepts."""
    doc = parse_document(text, filename=filename)
    parse_spec(doc)  # refuse it now, naming the node, rather than at simulate time
    return doc


@router.post("/export")
def export_register(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """The tree in register's JSON (``register``), with notes on what it leaves out."""
    parsed = parse_spec(spec)
    plan = plan_for(parsed)  # a tree register would refuse (two roots, a cycle) is refused
    doc, notes = to_register(parsed)
    return {"register": doc, "warnings": [*plan.warnings, *notes]}


class Sketch(BaseModel):
    """A result's ``sketch``: the root's loss histogram as the run kept it."""

    model_config = ConfigDict(extra="ignore")

    n: int = Field(ge=1)
    zeros: int = Field(ge=0)
    max: float = Field(ge=0)
    at_max: int = Field(ge=0)
    mantissa_bits: Literal[7]  # the histogram's bucket width; another is another histogram
    keys: list[int] = Field(max_length=100_000)
    counts: list[int] = Field(max_length=100_000)


class ExceedanceRequest(BaseModel):
    sketch: Sketch
    at: list[float] = Field(min_length=1, max_length=1_000)


@router.post("/exceedance")
def exceedance(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """P(loss ≥ x) for any x after a run, from its result's ``sketch``, as the run reads it."""
    request = validate_model(ExceedanceRequest, body)
    sk = request.sketch
    if len(sk.keys) != len(sk.counts) or sum(sk.counts) + sk.zeros != sk.n:
        raise InputError(
            "sketch: keys and counts must pair up, and counts plus zeros must make n",
            code="invalid_sketch",
            location="sketch",
        )
    hist = LossHistogram(
        sk.n,
        sk.zeros,
        sk.max,
        sk.at_max,
        np.asarray(sk.keys, dtype=np.int32),
        np.asarray(sk.counts, dtype=np.int64),
        np.empty(0),
        np.empty(0),
    )
    probabilities = hist.exceedance(np.asarray(request.at, dtype=np.float64))
    return {
        "at": [
            {"loss": x, "probability": float(p)}
            for x, p in zip(request.at, probabilities, strict=True)
        ]
    }
