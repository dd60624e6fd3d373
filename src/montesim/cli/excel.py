"""``montesim inspect | verify | simulate MODEL.xlsx``: Excel models without a server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from montesim.cli.connection import name_the_file
from montesim.cli.tables import compact, fitted_table, longest_word
from montesim.engines.base import InputError

console = Console(stderr=True)
out = Console()

Model = Annotated[Path, typer.Argument(help="An .xlsx or .xlsm workbook")]


def _fail(exc: InputError, model: Path | None = None) -> None:
    """One line for a bad model or option; the workbook named as the user typed it."""
    message = name_the_file(exc.message, model) if model is not None else exc.message
    where = f" ({exc.location})" if exc.location and exc.location not in message else ""
    console.print(f"[red]error:[/red] {escape(message)}{where}", soft_wrap=True)
    raise typer.Exit(2)


def _read(model: Path) -> Any:
    from montesim.engines.excel.reader import read_workbook

    try:
        return read_workbook(model)
    except InputError as exc:
        _fail(exc, model)


def inspect(
    model: Model,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """List sheets, Risk* inputs, RiskOutput cells, formula count and unsupported functions."""
    from montesim.engines.excel.inspect import inspect_workbook

    info = inspect_workbook(_read(model))
    if as_json:
        out.print_json(json.dumps(info))
        return
    table = Table(title=f"{escape(model.name)}: {info['formula_count']:,} formulas")
    for col in ("Sheet", "Cells", "Formulas"):
        table.add_column(col, justify="left" if col == "Sheet" else "right")
    for s in info["sheets"]:
        table.add_row(s["name"], f"{s['cells']:,}", f"{s['formulas']:,}")
    out.print(table)
    if info["inputs"]:
        t = Table(title="Random inputs")
        for col in ("Cell", "Name", "Distribution", "Formula"):
            t.add_column(col)
        for i in info["inputs"]:
            static = i.get("static")
            family = i["family"] + (f" (static {static:g})" if isinstance(static, float) else "")
            if isinstance(static, str):
                family += f" (static {static})"
            t.add_row(i["cell"], escape(i["name"] or ""), family, escape(i["formula"]))
        out.print(t)
    else:
        out.print("No random inputs (give inputs in the job spec or with --input).")
    for link in info.get("links", []):
        out.print(
            f"Linked workbook [{link['index']}] {escape(link['workbook'])}: "
            "its last values saved in this file are used as constants"
        )
    for table in info.get("tables", []):
        out.print(f"Table {escape(table['name'])}: {escape(table['range'])}")
    if info.get("statistics"):
        cells = ", ".join(s["cell"] for s in info["statistics"][:8])
        out.print(f"@RISK statistics cells (not inputs; computed by @RISK after a run): {cells}")
    if info.get("iterative_calculation"):
        out.print("The workbook turns on iterative calculation (circular references allowed).")
    if info["outputs"]:
        out.print(
            "RiskOutput cells: "
            + ", ".join(
                o["cell"] + (f" ({o['name']})" if o["name"] else "") for o in info["outputs"]
            )
        )
    for w in info.get("warnings", []):
        out.print(f"[yellow]warning[/yellow] {escape(w['message'])}")
    if info["unsupported"]:
        out.print("[yellow]Unsupported functions:[/yellow]")
        for fn, cells in info["unsupported"].items():
            more = f" and {len(cells) - 8} more" if len(cells) > 8 else ""
            out.print(f"  {fn}: {', '.join(cells[:8])}{more}")
    else:
        out.print("Every function is supported.")


def verify(
    model: Model,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    limit: Annotated[int, typer.Option("--limit", help="Mismatches to print")] = 50,
) -> None:
    """Recompute every formula with no random inputs and compare with Excel's cached values."""
    from montesim.engines.excel.verify import verify as run_verify

    report = run_verify(_read(model))
    if not report.has_cached_values:
        console.print("verify: no cached values to compare (the workbook was not saved by Excel)")
        raise typer.Exit(2)
    if as_json:
        out.print_json(json.dumps(report.to_dict(), default=str))
    else:
        random = f", {len(report.random):,} random (not compared)" if report.random else ""
        out.print(
            f"{model.name}: {report.formula_cells:,} formula cells, {report.compared:,} compared, "
            f"{report.matched:,} matched ({report.match_rate:.2%}), "
            f"{len(report.mismatches):,} mismatches{random}"
        )
        if report.mismatches:
            t = Table(title="Mismatches")
            for col in ("Sheet", "Cell", "Formula", "Excel", "montesim"):
                t.add_column(col, overflow="fold")
            for m in report.mismatches[:limit]:
                d = m.to_dict()
                t.add_row(d["sheet"], d["cell"], d["formula"], repr(d["expected"]), repr(d["got"]))
            out.print(t)
        for fn, cells in report.unsupported.items():
            out.print(f"[yellow]unsupported[/yellow] {fn}: {', '.join(cells[:8])}")
        for w in report.warnings:
            out.print(f"[yellow]warning[/yellow] {escape(w['message'])}")
        for cycle in report.cycles:
            out.print(f"[yellow]circular reference[/yellow]: {' -> '.join(cycle)}")
        for cell, message in [*report.parse_errors.items(), *report.errors.items()][:limit]:
            formula = _formula_at(report, cell)
            out.print(f"[red]error[/red] {escape(cell)} {escape(formula)}: {escape(message)}")
        for area in report.data_tables:
            out.print(
                f"[yellow]data table not evaluated[/yellow] (held at Excel's values): {escape(area)}"
            )
        if report.iterative:
            out.print(
                "iterative calculation: loops checked from Excel's converged values at "
                + ", ".join(report.iterative[:8])
            )
        if report.random:
            more = f" and {len(report.random) - 8:,} more" if len(report.random) > 8 else ""
            out.print(
                f"random cells (held at Excel's values): {', '.join(report.random[:8])}{more}"
            )
    if report.mismatches:
        raise typer.Exit(1)


def _formula_at(report: Any, cell: str) -> str:
    sheet, _, ref = cell.rpartition("!")
    sheet = sheet.strip("'")
    for m in report.mismatches:
        if m.cell == ref and m.sheet == sheet:
            return m.formula
    return ""


def _pairs(items: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        cell, sep, value = item.partition("=")
        if not sep or not cell.strip() or not value.strip():
            console.print(f"[red]error:[/red] {option} {item!r}: expected CELL=VALUE")
            raise typer.Exit(2)
        pairs[cell.strip()] = value.strip()
    return pairs


def _fixed_value(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return {"TRUE": True, "FALSE": False}.get(text.upper(), text)


def simulate(
    model: Model,
    iterations: Annotated[int, typer.Option("--iterations", "-n", help="Iterations")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed")] = 0,
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="CELL=DISTRIBUTION, e.g. 'Sheet1!B2=normal(10,2)'"),
    ] = None,
    outputs: Annotated[
        list[str] | None, typer.Option("--output", help="Output cell (default: RiskOutput cells)")
    ] = None,
    fixed: Annotated[
        list[str] | None, typer.Option("--fix", help="CELL=VALUE: hold a cell at a value")
    ] = None,
    sampling: Annotated[str, typer.Option("--sampling", help="lhs or mc")] = "lhs",
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="Processes (default: by run size)")
    ] = None,
    result_file: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write the result JSON here")
    ] = None,
    iterations_file: Annotated[
        Path | None, typer.Option("--iterations-file", help="Raw iterations (.csv or .parquet)")
    ] = None,
) -> None:
    """Run a Monte Carlo simulation of MODEL here, with a progress bar."""
    from montesim.simulation import simulate as run_simulation

    try:
        res = run_simulation(
            model,
            inputs=_pairs(inputs or [], "--input"),
            outputs=outputs or None,
            fixed={k: _fixed_value(v) for k, v in _pairs(fixed or [], "--fix").items()},
            iterations=iterations,
            seed=seed,
            sampling=sampling,
            workers=workers,
            progress=True,
        )
    except InputError as exc:
        _fail(exc, model)
        return
    for w in res.warnings:
        console.print(f"[yellow]warning:[/yellow] {w['message']}")
    print_summary(res.summary, f"{model.name}: {res.iterations:,} iterations in {res.elapsed:.2f}s")
    if result_file:
        res.to_json(result_file)
        console.print(f"wrote {result_file}")
    if iterations_file:
        res.save_iterations(iterations_file)
        console.print(f"wrote {iterations_file}")


def print_summary(summary: dict, title: str) -> None:
    """The per-output table (mean, std, P5/P50/P95, errors) and each output's top drivers."""

    def build(number: Callable[[float | None], str]) -> Table:
        t = Table(title=escape(title))
        t.add_column("Output", overflow="fold", min_width=longest_word(summary["outputs"]))
        for col in ("Mean", "Std", "P5", "P50", "P95", "Errors"):
            t.add_column(col, justify="right", no_wrap=True)
        for name, o in summary["outputs"].items():
            pct = o.get("percentiles") or {}
            t.add_row(
                escape(name),
                number(o.get("mean")),
                number(o.get("std")),
                *(number(pct.get(k)) for k in ("p5", "p50", "p95")),
                f"{o.get('error_trials', 0):,}",
            )
        return t

    # six significant digits where they fit the terminal, else three (1.23M): never cut
    out.print(fitted_table(build, out, [_fmt, compact]))
    for name, o in summary["outputs"].items():
        top = o.get("sensitivity", {}).get("tornado", [])[:5]
        if top:
            out.print(
                f"{name} driven by: " + ", ".join(f"{x['input']} ({_fmt(x['rho'])})" for x in top)
            )


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:,.6g}"


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)
    app.command("verify")(verify)
    app.command("simulate")(simulate)
