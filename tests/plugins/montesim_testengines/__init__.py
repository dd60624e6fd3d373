"""Test engines: deterministic chunks that sleep, fail on request, or stay silent."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from montesim.engines.base import Cancelled, Chunk, EngineError, InputError, Result, split_units
from montesim.sampling.seeding import rng_for


class SleepSpec(BaseModel, extra="forbid"):
    units: int = Field(100, ge=0, le=10**9)
    chunk_size: int = Field(10, ge=1, le=10**9)
    chunk_seconds: float = Field(0.0, ge=0, le=600)
    fail_at_chunk: int | None = None
    fail_message: str = "the engine failed on purpose"
    fail_kind: str = Field("engine", pattern="^(engine|bug|memory)$")
    report: bool = True
    seed: int = 0
    work_per_unit: int = Field(0, ge=0, le=10**8, description="random draws per unit (CPU work)")
    gate: str | None = Field(None, description="chunk 0 waits until this file exists")
    merge_gate: str | None = Field(None, description="the merge waits until this file exists")


class SleepEngine:
    """Each chunk sleeps, then draws one number per unit from its seeded stream."""

    name = "sleep"
    unit = "units"
    resumable = True
    sequential = False
    user_facing = False  # for the tests: kept out of the web UI's menus

    def spec_schema(self) -> dict[str, Any]:
        return SleepSpec.model_json_schema()

    def example_spec(self) -> dict[str, Any]:
        return {"units": 100, "chunk_size": 10, "chunk_seconds": 0.05}

    def validate(self, spec: dict[str, Any], files: Any) -> SleepSpec:
        try:
            return SleepSpec.model_validate(spec)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise InputError(f"spec.{field}: {err['msg']}", location=f"spec.{field}") from None

    def warm_up(self) -> None:
        """A stand-in for compiling kernels: held until the file named by
        MONTESIM_TEST_WARM_GATE exists, when that is set."""
        gate = os.environ.get("MONTESIM_TEST_WARM_GATE")
        while gate and not os.path.exists(gate):
            time.sleep(0.01)  # held open until the test opens the gate (a condition)

    def chunks(self, plan: SleepSpec) -> list[Chunk]:
        return split_units(plan.units, plan.chunk_size)

    def run_chunk(self, plan: SleepSpec, chunk: Chunk, ctx: Any) -> dict[str, Any]:
        if plan.fail_at_chunk is not None and chunk.index == plan.fail_at_chunk:
            if plan.fail_kind == "bug":  # an unexpected exception, with internals in it
                raise RuntimeError(f"{plan.fail_message} in {os.path.abspath(__file__)}")
            if plan.fail_kind == "memory":
                raise MemoryError
            raise EngineError(plan.fail_message, code="deliberate_failure")
        while chunk.index == 0 and plan.gate and not os.path.exists(plan.gate):
            if ctx.cancelled():
                raise Cancelled
            time.sleep(0.01)  # held open until the test opens the gate (a condition)
        end = time.monotonic() + plan.chunk_seconds
        while time.monotonic() < end:
            if ctx.cancelled():
                raise Cancelled
            if plan.report:
                ctx.report(0, "sleeping", f"chunk {chunk.index}")
            time.sleep(min(0.01, max(0.0, end - time.monotonic())))
        rng = rng_for(plan.seed, chunk.index)
        values = rng.random(chunk.size)
        for unit in range(chunk.size if plan.work_per_unit else 0):
            if ctx.cancelled():
                raise Cancelled
            values[unit] += rng.standard_normal(plan.work_per_unit).mean()
        return {"index": chunk.index, "sum": float(values.sum()), "n": chunk.size}

    def merge(self, plan: SleepSpec, partials: list[dict[str, Any]]) -> Result:
        while plan.merge_gate and not os.path.exists(plan.merge_gate):
            time.sleep(0.01)  # held open until the test opens the gate (a condition)
        total = float(np.sum([p["sum"] for p in partials]))
        return Result(
            summary={"sum": total, "n": sum(p["n"] for p in partials), "chunks": len(partials)},
            artifacts={"sums.csv": ("text/csv", _csv(partials))},
        )


def _csv(partials: list[dict[str, Any]]) -> bytes:
    lines = ["chunk,sum"] + [f"{p['index']},{p['sum']!r}" for p in partials]
    return ("\n".join(lines) + "\n").encode()


class NonResumableSleepEngine(SleepEngine):
    name = "sleep-nonresumable"
    resumable = False
