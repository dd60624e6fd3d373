"""Explicit (FTCS) solver for u_t = alpha * u_xx on [0, L] with u = 0 at both ends.

Each chunk advances a block of time steps from the previous chunk's state, which the
job runner persists: the chunks are checkpoints, so progress is real and a restarted
job resumes from the last checkpoint.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError, model_validator

from montesim.engines.base import Cancelled, Chunk, InputError, Result, split_units


class HeatSpec(BaseModel, extra="forbid"):
    nx: int = Field(101, ge=3, le=100_000, description="grid points including both ends")
    length: float = Field(1.0, gt=0)
    alpha: float = Field(0.01, gt=0, description="diffusivity")
    dt: float = Field(0.001, gt=0)
    steps: int = Field(10_000, ge=1, le=10**9)
    steps_per_checkpoint: int = Field(1_000, ge=1)
    mode: int = Field(1, ge=1, le=1000, description="initial condition sin(mode*pi*x/L)")

    @model_validator(mode="after")
    def _stable(self) -> HeatSpec:
        dx = self.length / (self.nx - 1)
        r = self.alpha * self.dt / dx**2
        if r > 0.5:
            raise ValueError(
                f"unstable: alpha*dt/dx^2 = {r:.3g} > 0.5; use dt <= {0.5 * dx**2 / self.alpha:.3g}"
            )
        return self


class HeatEngine:
    name = "heat1d"
    unit = "steps"
    resumable = True
    sequential = True
    # A demonstration (the test suite installs it too): kept out of the web UI's engine
    # menus. A plug-in meant for users leaves this out (the default is True).
    user_facing = False

    def spec_schema(self) -> dict[str, Any]:
        return HeatSpec.model_json_schema()

    def example_spec(self) -> dict[str, Any]:
        return {"nx": 51, "steps": 2000, "steps_per_checkpoint": 200, "dt": 0.002}

    def validate(self, spec: dict[str, Any], files: Any) -> HeatSpec:
        try:
            return HeatSpec.model_validate(spec)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "dt"
            raise InputError(f"spec.{field}: {err['msg']}", location=f"spec.{field}") from None

    def chunks(self, plan: HeatSpec) -> list[Chunk]:
        return split_units(plan.steps, plan.steps_per_checkpoint)

    def run_chunk(self, plan: HeatSpec, chunk: Chunk, ctx: Any) -> np.ndarray:
        x = np.linspace(0.0, plan.length, plan.nx)
        u = (
            np.sin(plan.mode * math.pi * x / plan.length)
            if ctx.previous is None
            else np.array(ctx.previous, dtype=float)
        )
        r = plan.alpha * plan.dt / (x[1] - x[0]) ** 2
        for step in range(chunk.size):
            u[1:-1] = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2])
            if step % 100 == 0:
                if ctx.cancelled():
                    raise Cancelled
                ctx.report(step, "solving", f"step {chunk.start + step} of {plan.steps}")
        return u

    def merge(self, plan: HeatSpec, partials: list[np.ndarray]) -> Result:
        u = partials[-1]
        x = np.linspace(0.0, plan.length, plan.nx)
        t = plan.steps * plan.dt
        k = plan.mode * math.pi / plan.length
        exact = np.exp(-plan.alpha * k**2 * t) * np.sin(k * x)
        csv = "x,u,exact\n" + "".join(
            f"{a!r},{b!r},{c!r}\n" for a, b, c in zip(x, u, exact, strict=True)
        )
        return Result(
            summary={
                "time": t,
                "max_abs_error": float(np.max(np.abs(u - exact))),
                "u_max": float(u.max()),
                "checkpoints": len(partials),
            },
            artifacts={"solution.csv": ("text/csv", csv.encode())},
        )
