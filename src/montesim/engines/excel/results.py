"""What a finished Excel run gives back: statistics, errors, sensitivity, raw iterations."""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from montesim.engines.base import EngineError, LazyArtifacts, Result
from montesim.engines.excel import riskstats
from montesim.engines.excel.columns import Columns, SpilledColumns, read_row, result_memory
from montesim.engines.excel.draws import kept_inputs
from montesim.engines.excel.partial import Partial
from montesim.engines.excel.values import ERROR_TEXT, from_serial
from montesim.engines.excel.warnings import error_warnings
from montesim.heap import release_free_memory
from montesim.stats.sensitivity import sensitivities
from montesim.stats.summary import brief, correlation_matrix, histogram, summarize

if TYPE_CHECKING:
    from montesim.engines.excel.model import Plan


NON_NUMERIC = 100  # the code of a trial whose output is text, not a number or an error
CORRELATION_ITERATIONS = 100_000


def error_name(code: int) -> str:
    return "non-numeric" if code == NON_NUMERIC else ERROR_TEXT.get(int(code), f"#ERR{code}")


def merge_partials(plan: Plan, partials: list[Partial]) -> Result:
    return build_result(plan, *concat_partials(plan, partials))


def concat_partials(
    plan: Plan, partials: list[Partial]
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Every chunk's outputs (values, error codes) and kept inputs, in trial order."""
    collector = Collector(plan)
    for p in partials:
        collector.add(p)
    return collector.arrays()


class Collector:
    """A run's outputs, filled chunk by chunk in any order, and its kept inputs.

    Each chunk is copied in as it arrives, so a caller that drops its partials keeps
    one copy of the outputs (8 bytes per output per iteration), never two; past
    ``memory`` bytes (default: ``MONTESIM_RESULT_MEMORY``) that copy is a temporary file
    in ``spill_dir`` (default: the system's temporary folder) rather than memory.
    """

    def __init__(
        self, plan: Plan, *, memory: int | None = None, spill_dir: str | None = None
    ) -> None:
        self.iterations = plan.iterations
        shape = (len(plan.outputs), plan.iterations)
        budget = result_memory() if memory is None else memory
        self.spill_dir = spill_dir
        self.spilled = shape[0] * shape[1] * 8 > budget
        self.values: Columns = (
            SpilledColumns(*shape, np.float64, spill_dir) if self.spilled else np.empty(shape)
        )
        self.codes: Columns | None = None
        self.plan = plan
        self.spans: list[tuple[int, int]] = []

    def add(self, p: Partial) -> None:
        span = slice(p.start, p.start + p.size)
        if p.codes is not None and self.codes is None:
            shape = (len(p.codes), self.iterations)
            self.codes = (
                SpilledColumns(*shape, np.int8, self.spill_dir)
                if self.spilled
                else np.zeros(shape, np.int8)
            )
        for columns, part in ((self.values, p.values), (self.codes, p.codes)):
            if isinstance(columns, SpilledColumns) and part is not None:
                for i, row in enumerate(part):
                    columns.write(i, p.start, row)
            elif columns is not None and part is not None:
                columns[:, span] = part
        self.spans.append((p.start, p.size))

    def arrays(self) -> tuple[Columns, Columns | None, np.ndarray]:
        covered = 0
        for start, size in sorted(self.spans):
            if start != covered:
                raise EngineError(
                    f"iterations {covered}..{start} are missing from the merged chunks"
                )
            covered += size
        if covered != self.iterations:
            raise EngineError(
                f"merged {covered} iterations but the run asked for {self.iterations}"
            )
        return self.values, self.codes, kept_inputs(self.plan)


KEEP_PIECE = 1 << 20


def keep_in_place(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``x[ok]``, written over the front of ``x`` piece by piece (no second array the size
    of ``x``: at 10^7 iterations that copy was the merge's peak). Safe: the kept values
    of a piece land at or before the piece's start, never on values not yet read."""
    n = 0
    for start in range(0, len(x), KEEP_PIECE):
        part = x[start : start + KEEP_PIECE][ok[start : start + KEEP_PIECE]]
        x[n : n + len(part)] = part
        n += len(part)
    return x[:n]


def build_result(
    plan: Plan, values: Columns, codes: Columns | None, raw_inputs: np.ndarray
) -> Result:
    return Result(
        summary=summary(plan, values, codes, raw_inputs),
        # written when read: a job stores them, montesim.simulate only on request
        artifacts=LazyArtifacts(lambda: iteration_tables(plan, values, codes, raw_inputs)),
        data=(values, codes, raw_inputs),  # for montesim.simulate; never stored
    )


def summary(
    plan: Plan, values: Columns, codes: Columns | None, raw_inputs: np.ndarray
) -> dict[str, Any]:
    n_raw = raw_inputs.shape[1]
    # The error warnings re-run the program for one trial (Python for every op): on a
    # thread of their own, while the statistics below mostly run in NumPy without the GIL
    errors_found = ThreadPoolExecutor(1, thread_name_prefix="montesim-errors")
    warned = errors_found.submit(error_warnings, plan, codes, raw_inputs)
    input_names = [d.name for d in plan.inputs]
    input_columns = {name: raw_inputs[j] for j, name in enumerate(input_names)}
    column_of = {name: j for j, name in enumerate(input_names)}
    window = max(n_raw, CORRELATION_ITERATIONS)
    # Each input is sorted once: for the tornado of every output, its percentiles and
    # its histogram (statistics of the sorted copy are cheap and the same).
    input_stats: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def describe(name: str, x: np.ndarray, order: np.ndarray) -> None:
        ordered = x[order]
        input_stats[name] = (brief(x, ordered=ordered), histogram(x, ordered=ordered))

    sens_of: list[dict[str, Any] | None] = [None] * len(plan.outputs)
    if input_columns and n_raw >= 2:
        sens_of = list(
            sensitivities(
                input_columns,
                [read_row(values, i, n_raw) for i in range(len(plan.outputs))],
                on_ranked=describe,
            )
        )
    statistics: dict[int, dict[str, Any]] = {}  # by place in the workbook

    def describe_output(i: int) -> dict[str, Any]:
        out = plan.outputs[i]
        # one output in memory at a time (a copy when the columns spilled to a file)
        x = read_row(values, i)
        private = isinstance(values, SpilledColumns)  # x may then be reordered in place
        entry: dict[str, Any] = {"cell": out.cell, "random": out.slot is not None}
        sens = sens_of[i]
        errors: dict[str, int] = {}
        error_trials = 0
        if codes is not None:
            code = read_row(codes, i)
            ok = code == 0
            found, counts = np.unique(code[~ok], return_counts=True)
            errors = {error_name(c): int(n) for c, n in zip(found, counts, strict=True)}
            error_trials = int(len(ok) - np.count_nonzero(ok))
            if error_trials and private:  # our copy: the kept trials moved to its front
                x = keep_in_place(x, ok)
            elif error_trials:  # a view into the columns: copied (else x stays as it is)
                x, private = x[ok], True
            del code, ok
        for place, (stat, of) in enumerate(plan.statistics):
            if of != i:
                continue
            statistics[place] = {
                "cell": stat.cell,
                "formula": stat.formula,
                "function": stat.function,
                "of": out.name,
                "value": riskstats.compute(stat.function, x, stat.arg),
            }
        # a private copy may be reordered in place; a view into the columns may not
        entry.update(summarize(x, overwrite=private))
        del x
        if private:
            release_free_memory()  # the next output's copy reuses the same pages, not more
        entry["error_trials"] = error_trials
        entry["errors"] = errors
        if sens is not None:
            entry["sensitivity"] = sens
        return entry

    # Outputs held in memory are described on every core (NumPy's sorts release the
    # GIL); spilled ones one at a time, so that one output's copy is in memory at once.
    order = range(len(plan.outputs))
    threads = min(len(order), os.cpu_count() or 1)
    if threads > 1 and not isinstance(values, SpilledColumns):
        with ThreadPoolExecutor(threads, thread_name_prefix="montesim-outputs") as pool:
            entries = list(pool.map(describe_output, order))
    else:
        entries = [describe_output(i) for i in order]
    outputs = {out.name: entry for out, entry in zip(plan.outputs, entries, strict=True)}
    inputs = []
    for j, d in enumerate(plan.inputs):
        # (a name given twice: the tornado saw its last column; the others here)
        described = input_stats.get(d.name) if column_of[d.name] == j else None
        if described is None:
            described = (brief(raw_inputs[j]), histogram(raw_inputs[j]))
        stats, hist = described
        inputs.append(
            {
                "name": d.name,
                "cell": d.cell,
                "family": d.family,
                "distribution": d.label,
                "formula": d.formula,
                "params": list(d.args),
                "truncate": list(d.truncate) if d.truncate else None,
                "source": d.source,
                "histogram": hist,
                **{k: stats.get(k) for k in ("mean", "std", "min", "max", "percentiles")},
            }
        )
    today = from_serial(plan.today).date() if plan.today else None
    found = {
        "iterations": plan.iterations,
        "seed": plan.seed,
        "sampling": plan.sampling,
        "today": None if today is None else today.isoformat(),
        "raw_iterations": n_raw,
        # the tornado, spider and input statistics come from the kept (raw) iterations
        "sensitivity_iterations": n_raw if input_columns and n_raw >= 2 else 0,
        "inputs": inputs,
        "outputs": outputs,
        # correlations from the kept window (at least CORRELATION_ITERATIONS): precise to
        # about 1/sqrt(n), at a fraction of the cost of ranking every iteration
        "output_correlation": correlation_matrix(
            {out.name: read_row(values, i, window) for i, out in enumerate(plan.outputs)}
        ),
        # @RISK statistics cells of the workbook (RiskMean...), in sheet order
        "statistics": [statistics[place] for place in sorted(statistics)],
        "warnings": plan.warnings + warned.result(),
    }
    errors_found.shutdown()
    return found


def iteration_tables(
    plan: Plan, values: Columns, codes: Columns | None, raw_inputs: np.ndarray
) -> dict[str, tuple[str, bytes]]:
    """iterations.parquet: one row per kept iteration (the download of iterations.csv is
    written from it, see montesim.jobs.artifacts).

    Columns: iteration, each input, each output (empty where the trial gave an error),
    and ``<output> error`` naming the error where an output had any.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = raw_inputs.shape[1]
    if n == 0:
        return {}
    names = ["iteration"]
    columns: list[Any] = [pa.array(np.arange(n, dtype=np.int64))]
    used: set[str] = set(names)

    def add(name: str, column: Any) -> str:
        label, k = name, 2
        while label in used:
            label, k = f"{name} ({k})", k + 1
        used.add(label)
        names.append(label)
        columns.append(column)
        return label

    error_columns: list[str] = []

    for j, d in enumerate(plan.inputs):
        add(d.name, pa.array(raw_inputs[j]))
    for i, out in enumerate(plan.outputs):
        x = read_row(values, i, n)
        add(out.name, pa.array(x, mask=~np.isfinite(x)))
        code = None if codes is None else read_row(codes, i, n)
        if code is not None and code.any():
            err = [error_name(c) if c else None for c in code]
            error_columns.append(add(f"{out.name} error", pa.array(err, type=pa.string())))
    table = pa.table(columns, names=names)
    parquet = io.BytesIO()
    # A dictionary of numbers that rarely repeat costs several times the write and grows
    # the file; error names repeat, so only their columns get one.
    pq.write_table(table, parquet, compression="zstd", use_dictionary=error_columns or False)
    return {"iterations.parquet": ("application/vnd.apache.parquet", parquet.getvalue())}
