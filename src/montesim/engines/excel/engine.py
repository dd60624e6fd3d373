"""The ``excel`` engine: a compiled workbook run over chunks of trials.

A chunk draws its inputs block by block (``sampling.draw``), so the draws of a trial do
not depend on chunk or batch boundaries, then runs the compiled program on batches of
``plan.batch_size`` trials (memory stays bounded by the batch, whatever the iteration
count) and keeps each output's value and error code per trial. The inputs of the kept
window (``raw_iterations``) are not handed back: the merge draws them again
(``draws.kept_inputs``), the same numbers, rather than ship, sign, store and read back 8 bytes
per input per kept trial (160 MB for 200 inputs).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from montesim.engines.base import Cancelled, Chunk, ChunkContext, Files, Result, split_units
from montesim.engines.excel.draws import draw_inputs
from montesim.engines.excel.functions import EvalContext
from montesim.engines.excel.model import RUN_FIELDS, Plan, load_plan, rerun, workbook_path
from montesim.engines.excel.partial import Partial
from montesim.engines.excel.program import run, schedule
from montesim.engines.excel.reader import check_package
from montesim.engines.excel.results import NON_NUMERIC, merge_partials
from montesim.engines.excel.spec import ExcelSpec, parse_spec
from montesim.engines.excel.values import TEXT, Value


def output_arrays(v: Value, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-trial number and error code (0: a number) of a single-cell value."""
    num = np.array(np.broadcast_to(v.num[:, 0, 0], (n,)), dtype=np.float64)
    code = np.zeros(n, dtype=np.int8)
    if v.kind is not None:
        code[np.broadcast_to(v.kind[:, 0, 0] == TEXT, (n,))] = NON_NUMERIC
    if v.err is not None:
        err = np.broadcast_to(v.err[:, 0, 0], (n,))
        code = np.where(err != 0, err, code)
    code[(code == 0) & ~np.isfinite(num)] = 6  # #NUM!
    num[code != 0] = np.nan
    return num, code


def run_trials(plan: Plan, start: int, size: int, ctx: ChunkContext | None = None) -> Partial:
    """Trials [start, start + size) of the model, in batches."""
    k_out = len(plan.outputs)
    values = np.empty((k_out, size))
    codes = np.zeros((k_out, size), dtype=np.int8)
    keep = plan.keep
    steps = schedule(plan.program, keep)
    done = 0
    while done < size:
        if ctx is not None and ctx.cancelled():
            raise Cancelled()
        n = min(plan.batch_size, size - done)
        samples = draw_inputs(plan, start + done, n)
        slots = run(
            plan.program, samples, EvalContext(n, plan.today, plan.today + 0.5), keep, steps
        )
        for i, out in enumerate(plan.outputs):
            v = slots[out.slot] if out.slot is not None else out.constant
            assert v is not None
            values[i, done : done + n], codes[i, done : done + n] = output_arrays(v, n)
        done += n
        if ctx is not None:
            ctx.report(done, "simulating", f"{done:,} of {size:,} iterations of this chunk")
    return Partial(start, size, values, codes if codes.any() else None)


class ExcelEngine:
    """Monte Carlo over an Excel workbook compiled to NumPy."""

    name: ClassVar[str] = "excel"
    unit: ClassVar[str] = "iterations"
    resumable: ClassVar[bool] = True
    sequential: ClassVar[bool] = False
    heavy_validation: ClassVar[bool] = True  # reading and compiling grow with the workbook
    # spec fields a compiled plan is re-cut for (``rerun``) rather than compiled again
    run_fields: ClassVar[tuple[str, ...]] = RUN_FIELDS

    def spec_schema(self) -> dict[str, Any]:
        return ExcelSpec.model_json_schema()

    def example_spec(self) -> dict[str, Any]:
        return {
            "iterations": 20_000,
            "seed": 1,
            "cells": {
                "Model!A1": "Units",
                "Model!B1": '=RiskTriang(800, 1000, 1500, RiskName("Units"))',
                "Model!A2": "Price",
                "Model!B2": "=RiskNormal(25, 3, RiskTruncate(0,))",
                "Model!A3": "Unit cost",
                "Model!B3": "=RiskPert(12, 14, 20)",
                "Model!A4": "Fixed cost",
                "Model!B4": 6000,
                "Model!A5": "Profit",
                "Model!B5": '=RiskOutput("Profit") + B1*(B2-B3) - B4',
                "Model!A6": "Margin",
                "Model!B6": "=IF(B1*B2=0, 0, B5/(B1*B2))",
            },
            "outputs": ["Model!B5", {"cell": "Model!B6", "name": "Margin"}],
        }

    def check(self, spec: dict[str, Any], files: Files) -> int:
        """At submit: the spec's shape and the workbook's container, not its contents."""
        parsed = parse_spec(spec)
        if parsed.cells is not None:
            load_plan(parsed, files)  # inline cells are bounded by the request body
        else:
            check_package(workbook_path(parsed, files))
        return parsed.iterations

    def spec_memory_bytes(self, spec: dict[str, Any]) -> int:
        """At submit: the results' memory for the spec's outputs (0 when from the workbook)."""
        parsed = parse_spec(spec)
        return parsed.iterations * len(parsed.outputs) * 8

    def memory_bytes(self, plan: Plan) -> int:
        """The merge holds every output's iterations and the kept inputs (8 bytes each)."""
        return 8 * (plan.iterations * len(plan.outputs) + plan.raw_iterations * len(plan.inputs))

    def validate(self, spec: dict[str, Any], files: Files) -> Plan:
        return load_plan(parse_spec(spec), files)

    def rerun(self, plan: Plan, spec: dict[str, Any]) -> Plan:
        return rerun(plan, parse_spec(spec))

    def chunks(self, plan: Plan) -> list[Chunk]:
        return split_units(plan.iterations, plan.chunk_size)

    def run_chunk(self, plan: Plan, chunk: Chunk, ctx: ChunkContext) -> Partial:
        return run_trials(plan, chunk.start, chunk.size, ctx)

    def merge(self, plan: Plan, partials: list[Partial]) -> Result:
        return merge_partials(plan, partials)
