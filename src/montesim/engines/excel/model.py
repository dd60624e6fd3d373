"""From a spec and a workbook to a Plan: resolve cells, compile, gather inputs and outputs.

Everything a user can get wrong is found here, before the job starts: missing sheets and
cells, unsupported functions (all of them, with the cells that use them), circular
references, bad distribution parameters, inconsistent correlation matrices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from montesim.engines.base import Files, InputError
from montesim.engines.excel import riskstats
from montesim.engines.excel.compiler import CellKey, Compiler, Const, SpecInput
from montesim.engines.excel.inputs import InputDef
from montesim.engines.excel.limits import check_workbook_formulas
from montesim.engines.excel.parser import Call, ParseError, Str, parse, walk
from montesim.engines.excel.program import Program
from montesim.engines.excel.reader import Workbook, inline_workbook, read_workbook
from montesim.engines.excel.refs import address, parse_area, split_sheet
from montesim.engines.excel.spec import ExcelSpec, InputSpec, OutputSpec
from montesim.engines.excel.values import Value, to_serial
from montesim.engines.excel.warnings import compile_warnings
from montesim.sampling.correlation import validate_corr
from montesim.sampling.distributions import Distribution, make_distribution, parse_distribution
from montesim.sampling.seeding import BLOCK, round_chunk_size

TARGET_CHUNKS = 16
# ... but a chunk is up to a pass of trials (``batch_size``) when that still cuts the run
# into MIN_CHUNKS chunks or more (the DCF at 10^5 iterations: 7 chunks of 16,384, not 13 of
# 8,192 run in passes of 8,192: 3.18 -> 2.80 s of chunks on 2 workers; then 5 of 24,576)
MIN_CHUNKS = 4
# At most this many trials a chunk: the main process holds the partials in flight (twice
# the workers) and one being merged; at 10^7 iterations of 7 outputs 1 << 20 held about
# 150 MiB more than 1 << 18, and 1 << 18 about 15 MiB more than 1 << 17 (no slower).
MAX_CHUNK = 1 << 17
# Trials per pass: from MIN_BATCH up to MAX_BATCH while the program's live columns stay
# within LIVE_BUDGET bytes. Bigger passes spread each op's fixed cost over more trials (a
# 1,800-formula model of small ops ran 1.4x faster at 32768 than at 8192; the DCF, 619
# live columns, 8% faster at 32768 than at 16384 on 2 workers, for 217 MiB a worker at its
# peak instead of 177); a model with thousands of live columns stays at 8192.
MIN_BATCH, MAX_BATCH = 8192, 32768
LIVE_BUDGET = 256 * 2**20


@dataclass(frozen=True)
class OutputDef:
    name: str
    cell: str
    slot: int | None  # program slot, or None when the output is a constant
    constant: Value | None = None


@dataclass
class Plan:
    """Everything a worker needs to run trials: picklable, no workbook inside."""

    program: Program
    inputs: list[InputDef]
    dists: list[Distribution]
    input_slots: list[int]
    outputs: list[OutputDef]
    corr: np.ndarray | None
    iterations: int
    seed: int
    sampling: str
    chunk_size: int
    batch_size: int
    raw_iterations: int
    today: float
    warnings: list[dict[str, str]] = field(default_factory=list)
    # program slot -> its cell (sheet, row, column), made an address only when one is shown
    slot_cells: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    # @RISK statistics cells (RiskMean...), computed from an output after the run
    statistics: list[tuple[riskstats.StatisticCell, int]] = field(default_factory=list)

    @property
    def keep(self) -> set[int]:
        return {o.slot for o in self.outputs if o.slot is not None}


# -- loading ---------------------------------------------------------------------------


def load_book(spec: ExcelSpec, files: Files) -> Workbook:
    if spec.cells is not None:
        return inline_workbook(spec.cells, spec.names)
    return read_workbook(workbook_path(spec, files))


def workbook_path(spec: ExcelSpec, files: Files) -> Path:
    """The uploaded workbook's path; InputError naming ``spec.file_id`` if unknown."""
    assert spec.file_id is not None
    try:
        path = files[spec.file_id]
    except KeyError:
        raise InputError(
            f"no uploaded file with id {spec.file_id!r}; upload it with POST /api/files",
            code="unknown_file",
            location="spec.file_id",
        ) from None
    return Path(path)


def resolve_cell(book: Workbook, text: str, where: str) -> tuple[CellKey, str]:
    """The cell a spec names (``Sheet1!B2``, ``'My sheet'!B2``, ``B2`` or a defined name)."""
    raw = str(text).strip().lstrip("=")
    sheet_name, rest = split_sheet(raw)
    if sheet_name is None:
        defined = book.name(raw, None)
        if defined is not None and parse_area(raw, "x") is None:
            return resolve_cell(book, defined, where)
        sheet_name = book.first_sheet()
    sheet = book.sheet(sheet_name)
    if sheet is None:
        raise InputError(
            f"{where}: sheet {sheet_name!r} does not exist in the workbook "
            f"(sheets: {', '.join(book.sheet_names)})",
            code="unknown_sheet",
            location=where,
            detail={"sheet": sheet_name, "cell": rest},
        )
    area = parse_area(rest, sheet.name)
    if area is None or not area.is_cell():
        raise InputError(
            f"{where}: {text!r} is not a single cell such as {sheet.name}!B2",
            code="invalid_cell",
            location=where,
            detail={"sheet": sheet.name, "cell": rest},
        )
    return (sheet.name.upper(), area.r1, area.c1), address(sheet.name, area.r1, area.c1)


def spec_input(value: str | InputSpec, where: str) -> SpecInput:
    """A spec's input (a distribution text or a family with parameters) for the compiler."""
    if isinstance(value, str):
        dist = parse_distribution(value, location=where)
        return SpecInput(dist.family, dist.params, dist.truncate)
    if value.distribution is not None:
        dist = parse_distribution(value.distribution, location=where)
    elif value.family is not None:
        dist = make_distribution(
            value.family, value.params or [], truncate=value.truncate, location=where
        )
    else:
        raise InputError(f"{where}: give a distribution or a family", location=where)
    truncate = value.truncate if value.truncate is not None else dist.truncate
    return SpecInput(dist.family, dist.params, truncate, value.name)


def risk_outputs(book: Workbook) -> list[tuple[CellKey, str, str | None]]:
    """The cells whose formula calls RiskOutput(), with the name it gives, in sheet order."""
    found = []
    for sheet in book.sheets.values():
        for (r, c), cd in sorted(sheet.cells.items()):
            if cd.formula is None or "RISKOUTPUT" not in cd.formula.upper():
                continue
            try:
                ast = parse(cd.formula)
            except ParseError:
                continue
            for node in walk(ast):
                if isinstance(node, Call) and node.name == "RISKOUTPUT":
                    first = node.args[0] if node.args else None
                    name = first.value or None if isinstance(first, Str) else None
                    cell = address(sheet.name, r, c)
                    found.append(((sheet.name.upper(), r, c), cell, name))
                    break
    return found


# -- building the plan -------------------------------------------------------------------


def auto_batch(live_columns: int) -> int:
    """Trials per pass for a program holding ``live_columns`` trial columns at its peak."""
    batch = MIN_BATCH
    while batch < MAX_BATCH and live_columns * 2 * batch * 8 <= LIVE_BUDGET:
        batch *= 2
    return batch


# Spec fields that only say how to run a compiled model (how many trials, their draws,
# how they are cut): a plan built for other values of them is reused (``rerun``).
RUN_FIELDS = ("iterations", "seed", "sampling", "chunk_size", "batch_size", "raw_iterations")


def run_values(spec: ExcelSpec, live_columns: int) -> dict[str, Any]:
    """The plan's fields that follow from RUN_FIELDS."""
    batch = spec.batch_size or auto_batch(live_columns)
    batch = max(BLOCK, batch // BLOCK * BLOCK)
    if spec.chunk_size is not None:
        chunk = round_chunk_size(spec.chunk_size)
    else:
        chunk = round_chunk_size(math.ceil(spec.iterations / TARGET_CHUNKS))
        if chunk < batch:
            # a chunk smaller than a pass pays every op's fixed cost more often: up to a
            # pass a chunk, as long as the run still makes MIN_CHUNKS chunks or more
            most = spec.iterations // MIN_CHUNKS // BLOCK * BLOCK
            chunk = max(chunk, min(batch, most))
        chunk = min(chunk, MAX_CHUNK)
    return {
        "iterations": spec.iterations,
        "seed": spec.seed,
        "sampling": spec.sampling,
        "chunk_size": chunk,
        "batch_size": min(batch, chunk),
        "raw_iterations": min(spec.raw_iterations, spec.iterations),
    }


def rerun(plan: Plan, spec: ExcelSpec) -> Plan:
    """``plan`` (compiled for a spec that differs at most in RUN_FIELDS) for ``spec``."""
    return replace(plan, **run_values(spec, plan.program.peak_live(plan.keep)))


def build_plan(spec: ExcelSpec, book: Workbook) -> Plan:
    spec_inputs: dict[CellKey, SpecInput] = {}
    for text, value in spec.inputs.items():
        where = f"spec.inputs[{text!r}]"
        key, cell = resolve_cell(book, text, where)
        spec_inputs[key] = spec_input(value, cell)
    fixed: dict[CellKey, Any] = {}
    for text, value in spec.fixed.items():
        where = f"spec.fixed[{text!r}]"
        key, _ = resolve_cell(book, text, where)
        if key in spec_inputs:
            raise InputError(f"{where}: the cell is also a random input", location=where)
        if isinstance(value, str) and value.startswith("="):
            raise InputError(
                f"{where}: fixed values are numbers or text, not formulas", location=where
            )
        fixed[key] = value

    outputs = _output_cells(spec, book, set(spec_inputs) | set(fixed))
    statistics = riskstats.find(book)
    listed = {key for key, _, _ in outputs}
    for stat in statistics:  # the cells they describe are simulated too
        if stat.target not in listed:
            listed.add(stat.target)
            outputs.append((stat.target, stat.target_cell, None))
    today_date = spec.today or date.today()
    today = float(to_serial(today_date))
    comp = Compiler(
        book, spec_inputs=spec_inputs, fixed=fixed, today=today, simulation=spec.simulation
    )
    comp.compile([key for key, _, _ in outputs], on_cycle="raise")
    _raise_unsupported(comp)

    warnings = compile_warnings(comp.issues)
    if comp.simtables:
        cells = ", ".join(sorted(comp.simtables)[:5])
        warnings.append(
            {
                "code": "simulation_table",
                "location": sorted(comp.simtables)[0],
                "message": f"RiskSimtable cells ({cells}) take their value for simulation "
                f"{spec.simulation} (spec.simulation); run a batch with 1, 2, ... for the "
                "others",
            }
        )
    if comp.loops:
        cells = ", ".join(comp.loops[:5]) + (" ..." if len(comp.loops) > 5 else "")
        warnings.append(
            {
                "code": "iterative_calculation",
                "location": comp.loops[0],
                "message": f"{len(comp.loops)} circular reference(s) ({cells}) are computed "
                "by iterative calculation, as the workbook asks: in every iteration the loop "
                f"repeats until no cell moves by {book.iterate_delta:g} or "
                f"{book.iterate_count} passes",
            }
        )
    out_defs: list[OutputDef] = []
    for key, cell, name in outputs:
        node = comp.node(key)
        if isinstance(node, Const):
            warnings.append(
                {
                    "code": "output_not_random",
                    "location": cell,
                    "message": f"output {cell} depends on no random input: "
                    "every iteration gives the same value",
                }
            )
            out_defs.append(OutputDef(name or cell, cell, None, node.value))
        else:
            out_defs.append(OutputDef(name or cell, cell, node.index))
    if not comp.inputs:
        warnings.append(
            {
                "code": "no_inputs",
                "location": "spec.inputs",
                "message": "the model has no random inputs",
            }
        )
    names = [d.name for d in comp.inputs]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(
            f"two random inputs are both named {dup!r}; names must be unique",
            code="duplicate_input_name",
            location=next(d.cell for d in comp.inputs if d.name == dup),
        )
    dists = [d.distribution() for d in comp.inputs]
    corr = _correlation(spec, book, comp)

    keep = {o.slot for o in out_defs if o.slot is not None}
    output_index = {key: i for i, (key, _, _) in enumerate(outputs)}
    return Plan(
        program=comp.program,
        inputs=list(comp.inputs),
        dists=dists,
        input_slots=list(comp.input_slots),
        outputs=out_defs,
        corr=corr,
        **run_values(spec, comp.program.peak_live(keep)),
        today=today,
        warnings=warnings,
        statistics=[(stat, output_index[stat.target]) for stat in statistics],
        slot_cells={
            n.index: (comp._sheet_name(k[0]), k[1], k[2])
            for k, n in reversed(comp.cells.items())
            if not isinstance(n, Const)
        },
    )


def _output_cells(
    spec: ExcelSpec, book: Workbook, given: set[CellKey]
) -> list[tuple[CellKey, str, str | None]]:
    outputs: list[tuple[CellKey, str, str | None]] = []
    if spec.outputs:
        for i, item in enumerate(spec.outputs):
            where = f"spec.outputs[{i}]"
            text, name = (item.cell, item.name) if isinstance(item, OutputSpec) else (item, None)
            key, cell = resolve_cell(book, text, where)
            sheet = book.sheets[key[0]]
            rc = (key[1], key[2])
            if rc not in sheet.cells and rc not in sheet.array_members and key not in given:
                raise InputError(
                    f"{where}: output cell {cell} is empty",
                    code="empty_output",
                    location=where,
                    detail={"sheet": sheet.name, "cell": cell.split("!")[-1]},
                )
            outputs.append((key, cell, name))
    else:
        outputs = risk_outputs(book)
        if not outputs:
            raise InputError(
                "no outputs: list output cells in spec.outputs or mark them with RiskOutput() "
                "in the workbook",
                code="no_outputs",
                location="spec.outputs",
            )
    seen: dict[str, str] = {}
    for _, cell, name in outputs:
        label = name or cell
        if label in seen:
            raise InputError(
                f"two outputs are named {label!r} ({seen[label]} and {cell})",
                code="duplicate_output",
                location="spec.outputs",
            )
        seen[label] = cell
    return outputs


def _raise_unsupported(comp: Compiler) -> None:
    issues = comp.issues
    if issues.unsupported:
        listing = {fn: sorted(cells) for fn, cells in sorted(issues.unsupported.items())}
        text = "; ".join(
            f"{fn} in {', '.join(cells[:5])}" + (" ..." if len(cells) > 5 else "")
            for fn, cells in listing.items()
        )
        first = next(iter(listing.values()))[0]
        raise InputError(
            f"unsupported Excel functions: {text}",
            code="unsupported_function",
            location=first,
            detail={"unsupported": listing},
        )
    if issues.parse_errors:
        cell, msg = next(iter(sorted(issues.parse_errors.items())))
        raise InputError(
            f"{cell}: cannot parse the formula: {msg}",
            code="formula_syntax",
            location=cell,
            detail={"parse_errors": issues.parse_errors},
        )
    if issues.errors:
        cell, msg = next(iter(sorted(issues.errors.items())))
        raise InputError(
            f"{cell}: cannot compute the formula: {msg}",
            code="formula_error",
            location=cell,
            detail={"errors": issues.errors},
        )


def _correlation(spec: ExcelSpec, book: Workbook, comp: Compiler) -> np.ndarray | None:
    """One matrix over all inputs from RiskCorrmat matrices and spec.correlation (blocks)."""
    inputs = comp.inputs
    k = len(inputs)
    full = np.eye(k)
    owner: dict[int, str] = {}

    def place(members: list[int], sub: np.ndarray, label: str) -> None:
        for i in members:
            if i in owner:
                raise InputError(
                    f"input {inputs[i].name} ({inputs[i].cell}) is in two correlation "
                    f"matrices: {owner[i]} and {label}",
                    code="invalid_correlation",
                    location=inputs[i].cell,
                )
            owner[i] = label
        full[np.ix_(members, members)] = sub

    groups: dict[str, list[tuple[int, int]]] = {}
    for i, d in enumerate(inputs):
        if d.corrmat is not None:
            groups.setdefault(d.corrmat[0], []).append((d.corrmat[1], i))
    for label, members in groups.items():
        grid = comp.corrmats[label]
        positions = [p for p, _ in members]
        if len(set(positions)) != len(positions):
            raise InputError(
                f"two inputs use the same position of RiskCorrmat {label}",
                code="invalid_correlation",
                location=label,
            )
        sub = [[_grid_at(grid, p - 1, q - 1) for q in positions] for p in positions]
        names = [inputs[i].name for _, i in members]
        place([i for _, i in members], validate_corr(sub, names, location=label), label)

    if spec.correlation is not None:
        where = "spec.correlation"
        by_name = {d.name: i for i, d in enumerate(inputs)}
        by_cell = {d.cell: i for i, d in enumerate(inputs)}
        members = []
        for j, text in enumerate(spec.correlation.inputs):
            idx = by_name.get(text)
            if idx is None:
                try:
                    _, cell = resolve_cell(book, text, f"{where}.inputs[{j}]")
                except InputError:
                    cell = None
                idx = by_cell.get(cell) if cell else None
            if idx is None:
                raise InputError(
                    f"{where}.inputs[{j}]: {text!r} is not a random input "
                    f"(inputs: {', '.join(d.name for d in inputs) or 'none'})",
                    code="invalid_correlation",
                    location=f"{where}.inputs[{j}]",
                )
            members.append(idx)
        names = [inputs[i].name for i in members]
        sub = validate_corr(spec.correlation.matrix, names, location=f"{where}.matrix")
        place(members, sub, where)
    if not owner:
        return None
    return full


def _grid_at(grid: list[list[Any]], i: int, j: int) -> float | None:
    try:
        x = grid[i][j]
    except IndexError:
        return None
    if x is None or x == "":
        return None
    if isinstance(x, bool) or not isinstance(x, int | float):
        return math.nan
    return float(x)


def load_plan(spec: ExcelSpec, files: Files) -> Plan:
    book = load_book(spec, files)
    check_workbook_formulas(book)  # before the compiler recurses into them
    return build_plan(spec, book)
