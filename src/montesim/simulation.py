"""``montesim.simulate``: an Excel Monte Carlo run in this process, for notebooks and scripts.

    >>> import montesim
    >>> res = montesim.simulate("model.xlsx", inputs={"Inputs!B2": "normal(10, 2)"},
    ...                         outputs=["Model!B9"], iterations=100_000, seed=1)
    >>> res.stats("Model!B9")["mean"], res.outputs["Model!B9"][:5]

It runs exactly what a server runs (the same job runner, compiler and draws for a seed)
against a throwaway store, with chunks inline or on a local process pool when
``workers > 1``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from montesim.engines.excel.spec import parse_spec
from montesim.errors import EngineError
from montesim.jobs import artifacts as derived
from montesim.jobs.model import Job
from montesim.jobs.service import run_now
from montesim.jobs.views import input_error_of

Progress = Callable[[int, int], None]  # (iterations done, total)


@dataclass
class SimulationResult:
    """The result of :func:`simulate`.

    ``summary`` is the same JSON a job's result holds (per-output statistics, errors and
    sensitivity under ``summary["outputs"][name]``); ``outputs`` and ``inputs`` hold the
    raw values per iteration (outputs: every iteration, NaN where the trial gave an Excel
    error; inputs: the first ``summary["raw_iterations"]``).
    """

    summary: dict[str, Any]
    outputs: dict[str, np.ndarray]
    inputs: dict[str, np.ndarray]
    elapsed: float
    tables: Callable[[], dict[str, tuple[str, bytes]]] = field(repr=False)

    @cached_property
    def artifacts(self) -> dict[str, tuple[str, bytes]]:
        """iterations.csv and iterations.parquet, written on first use (not every run)."""
        found = self._parquet
        if found is None:
            return {}
        csv = b"".join(derived.csv_chunks(found[1]))
        return {"iterations.csv": (derived.CSV, csv), "iterations.parquet": found}

    @cached_property
    def _parquet(self) -> tuple[str, bytes] | None:
        return self.tables().get("iterations.parquet")

    @property
    def iterations(self) -> int:
        return int(self.summary["iterations"])

    @property
    def warnings(self) -> list[dict[str, str]]:
        return list(self.summary.get("warnings", []))

    def stats(self, output: str) -> dict[str, Any]:
        """Statistics of one output (by name or cell)."""
        outs = self.summary["outputs"]
        if output in outs:
            return outs[output]
        for entry in outs.values():
            if entry["cell"] == output:
                return entry
        raise KeyError(f"no output {output!r}; outputs: {', '.join(outs)}")

    def tornado(self, output: str) -> list[dict[str, Any]]:
        return self.stats(output).get("sensitivity", {}).get("tornado", [])

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.summary, indent=1)
        if path is not None:
            Path(path).write_text(text)
        return text

    def save_iterations(self, path: str | Path) -> None:
        """Raw iterations as CSV or Parquet, by the file's extension."""
        path = Path(path)
        parquet = self._parquet
        if parquet is None:
            raise ValueError("no raw iterations were kept (raw_iterations=0)")
        if path.suffix == ".parquet":
            path.write_bytes(parquet[1])
            return
        with path.open("wb") as out:  # streamed: the whole CSV is never in memory
            derived.write_csv(parquet[1], out.write)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per output: name, cell, mean, std, p5, p50, p95, error trials."""
        rows = []
        for name, o in self.summary["outputs"].items():
            pct = o.get("percentiles") or {}
            rows.append(
                {
                    "output": name,
                    "cell": o["cell"],
                    "mean": o["mean"],
                    "std": o["std"],
                    "p5": pct.get("p5"),
                    "p50": pct.get("p50"),
                    "p95": pct.get("p95"),
                    "errors": o["error_trials"],
                }
            )
        return rows

    def __repr__(self) -> str:
        lines = [f"SimulationResult({self.iterations:,} iterations in {self.elapsed:.2f}s)"]
        for r in self.rows():
            lines.append(
                f"  {r['output']}: mean {_g(r['mean'])}, std {_g(r['std'])}, "
                f"p5 {_g(r['p5'])}, p95 {_g(r['p95'])}, errors {r['errors']}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(
            f"<th>{k}</th>" for k in ("output", "cell", "mean", "std", "p5", "p50", "p95", "errors")
        )
        body = "".join(
            "<tr>"
            + "".join(f"<td>{_g(v) if isinstance(v, float) else v}</td>" for v in r.values())
            + "</tr>"
            for r in self.rows()
        )
        return (
            f"<p>{self.iterations:,} iterations in {self.elapsed:.2f}s</p>"
            f"<table><tr>{head}</tr>{body}</table>"
        )


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def simulate(
    workbook: str | Path | Mapping[str, Any],
    *,
    inputs: Mapping[str, Any] | None = None,
    outputs: Sequence[str | Mapping[str, str]] | None = None,
    fixed: Mapping[str, Any] | None = None,
    iterations: int = 10_000,
    seed: int = 0,
    sampling: str = "lhs",
    correlation: Mapping[str, Any] | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    batch_size: int | None = None,
    raw_iterations: int | None = None,
    today: str | None = None,
    progress: bool | Progress = False,
) -> SimulationResult:
    """Simulate an Excel workbook (a path, or inline cells ``{"Sheet1!A1": ...}``).

    ``inputs`` maps cells to distributions (``"normal(10,2)"``, ``"RiskPert(1,2,5)"``) on
    top of the workbook's Risk* cells; ``outputs`` lists cells (default: the workbook's
    RiskOutput() cells); ``fixed`` overrides cells with constants. ``workers`` processes
    share the chunks (default: one per core for big runs). Raises
    :class:`montesim.engines.base.InputError` for bad input, naming the sheet and cell.
    """
    spec: dict[str, Any] = {"iterations": iterations, "seed": seed, "sampling": sampling}
    files: dict[str, Path] = {}
    if isinstance(workbook, Mapping):
        spec["cells"] = dict(workbook)
    else:
        files["workbook"] = Path(workbook)
        spec["file_id"] = "workbook"
    for key, value in (
        ("inputs", inputs),
        ("outputs", outputs),
        ("fixed", fixed),
        ("correlation", correlation),
        ("chunk_size", chunk_size),
        ("batch_size", batch_size),
        ("raw_iterations", raw_iterations),
        ("today", today),
    ):
        if value is not None:
            spec[key] = dict(value) if isinstance(value, Mapping) else value
    if isinstance(spec.get("outputs"), Sequence) and not isinstance(spec.get("outputs"), str):
        spec["outputs"] = [dict(o) if isinstance(o, Mapping) else o for o in spec["outputs"]]
    started = time.perf_counter()
    iterations_total = parse_spec(spec).iterations  # the spec's shape, checked up front
    report = _progress_callback(progress, iterations_total)
    last = [0]

    def on_update(job: Job) -> None:
        if report is not None and job.done_units > last[0]:
            report(job.done_units - last[0])
            last[0] = job.done_units

    n_workers = _worker_count(workers, iterations_total)
    try:
        outcome = run_now(
            "excel",
            spec,
            files=files,
            executor="local" if n_workers > 1 else "inline",
            workers=n_workers,
            on_update=on_update,
        )
    finally:
        if report is not None and hasattr(report, "close"):
            report.close()
    result = outcome.result
    if result is None:
        job = outcome.job
        raise input_error_of(job) or EngineError(
            job.error_message or f"the run ended {job.status.value}",
            code=job.error_code or "engine_error",
        )
    values, _codes, raw = result.data
    summary = result.summary
    return SimulationResult(
        summary=summary,
        outputs={name: values[i] for i, name in enumerate(summary["outputs"])},
        inputs={entry["name"]: raw[j] for j, entry in enumerate(summary["inputs"])},
        elapsed=time.perf_counter() - started,
        tables=lambda: dict(result.artifacts),
    )


def _worker_count(workers: int | None, iterations: int) -> int:
    if workers is None:
        return 1 if iterations < 200_000 else (os.cpu_count() or 1)
    return max(1, workers)


class _Bar:
    """A rich progress bar fed by finished chunks."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("[bold]simulating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("iterations"),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.task = self.bar.add_task("simulating", total=total)
        self.bar.start()

    def __call__(self, n: int) -> None:
        self.bar.advance(self.task, n)

    def close(self) -> None:
        self.bar.stop()


def _progress_callback(progress: bool | Progress, total: int) -> Any:
    if progress is True:
        return _Bar(total)
    if callable(progress):
        done = [0]

        def report(n: int) -> None:
            done[0] += n
            progress(done[0], total)

        return report
    return None
