"""``montesim risk TREE``: simulate a risk tree here, with a progress bar, into LEC JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from montesim.cli.tables import compact, fitted_table, full, longest_word
from montesim.errors import InputError

console = Console(stderr=True)
out = Console()


def risk(
    tree: Annotated[Path, typer.Argument(help="Risk tree: YAML, JSON or a CSV register")],
    trials: Annotated[
        int | None, typer.Option("--trials", "-n", help="Trials (default: the file's)")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the result JSON here")
    ] = None,
    png: Annotated[
        Path | None, typer.Option("--png", help="Render the LEC chart to this PNG")
    ] = None,
    trials_csv: Annotated[
        Path | None, typer.Option("--trials-csv", help="Write raw trial losses (CSV)")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Processes")] = max(
        1, os.cpu_count() or 1
    ),
    chart_nodes: Annotated[
        str | None,
        typer.Option(
            "--chart-nodes",
            help="comma-separated nodes the LEC chart draws (default: the root and the first "
            "five below it)",
        ),
    ] = None,
    at: Annotated[
        list[float] | None,
        typer.Option("--at", help="Print P(loss ≥ X) at this loss (repeatable)"),
    ] = None,
    to_register: Annotated[
        Path | None,
        typer.Option("--to-register", help="Write the tree in register's JSON here; no run"),
    ] = None,
) -> None:
    """Simulate a risk tree and write each node's loss exceedance curve and figures."""
    # the risk-tree engine imports SciPy: load it when this command runs, not at start-up
    from montesim.engines.risktree import register
    from montesim.engines.risktree.loading import as_spec, parse_spec, read_document
    from montesim.engines.risktree.tree import build
    from montesim.jobs.service import run_now
    from montesim.jobs.views import input_error_of

    if not tree.is_file():
        console.print(f"[red]error:[/red] cannot read {tree}: no such file", soft_wrap=True)
        raise typer.Exit(2)
    try:
        spec = as_spec(read_document(tree))
        if chart_nodes:
            output_options = dict(spec.get("output") or {})
            output_options["chart_nodes"] = [n.strip() for n in chart_nodes.split(",") if n.strip()]
            spec["output"] = output_options
        if trials is not None:
            spec["trials"] = trials
        if seed is not None:
            spec["seed"] = seed
        if at:
            spec["output"] = {**(spec.get("output") or {}), "exceedance_at": at}
        parsed = parse_spec(spec)
        build(parsed)  # the tree's structure (one root, no cycle), before the progress bar
        if to_register is not None:
            doc, notes = register.to_register(parsed)
    except InputError as exc:
        _print_error(exc)
        raise typer.Exit(2) from None
    _print_warnings(parsed.notes)
    if to_register is not None:
        _print_warnings(notes)
        to_register.write_text(json.dumps(doc, indent=2) + "\n")
        console.print(f"wrote {to_register} (register's JSON)")
        return
    total = parsed.trials
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("trials"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(parsed.tree.name or "risk tree", total=total)
        try:
            outcome = run_now(
                "risktree",
                spec,
                executor="local" if workers > 1 else "inline",
                workers=workers,
                on_update=lambda job: bar.update(task, completed=job.done_units),
            )
        except InputError as exc:
            bar.stop()
            _print_error(exc)
            raise typer.Exit(2) from None
    result = outcome.result
    if result is None:
        error = input_error_of(outcome.job)
        if error is not None:
            _print_error(error)
        else:
            console.print(f"[red]error:[/red] {outcome.job.error_message}")
        raise typer.Exit(1)
    summary = result.summary
    _print_table(summary)
    _print_warnings([w for w in summary.get("warnings", []) if w not in parsed.notes])
    _print_drivers(summary)
    _print_exceedance(summary)
    _print_tolerance(summary.get("tolerance"))
    _print_controls(summary)
    if output:
        output.write_text(json.dumps(summary, indent=1))
        console.print(f"wrote {output}")
    if trials_csv and "trials.csv" in result.artifacts:
        trials_csv.write_bytes(result.artifacts["trials.csv"][1])
        console.print(f"wrote {trials_csv} ({summary['raw_trials']:,} trials)")
    if png:
        import vl_convert as vlc

        note = _chart_note(summary)
        png.write_bytes(vlc.vegalite_to_png(_with_subtitle(summary["chart"], note), scale=2))
        console.print(f"wrote {png}" + (f": {note}" if note else ""), highlight=False)


def _print_error(exc: InputError) -> None:
    where = f" ({exc.location})" if exc.location else ""
    console.print(f"[red]error:[/red] {escape(exc.message)}{where}", soft_wrap=True)


def _print_warnings(notes: list[dict[str, str]]) -> None:
    for note in notes:
        console.print(f"[yellow]warning:[/yellow] {note['message']}")


def _print_drivers(summary: dict, top: int = 5) -> None:
    root = summary["nodes"][summary["root"]]
    shares = root.get("contributions", {}).get("tvar99", {})
    if not shares:
        return
    total = root["tvar"]["99"]
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])[:top]
    parts = ", ".join(f"{name} {value / total:.0%}" for name, value in ranked if total > 0)
    Console().print(f"Tail drivers of TVaR 99 ({total:,.0f}): {parts}")


def _print_exceedance(summary: dict) -> None:
    root = summary["nodes"][summary["root"]]
    for row in root.get("exceedance_at", []):
        Console().print(
            f"P({summary['root']} loss ≥ {row['loss']:,.0f}) = {row['probability']:.4%}"
        )


def _print_tolerance(tolerance: dict | None) -> None:
    if not tolerance:
        return
    worst = tolerance["worst"]
    verdict = "[red]EXCEEDED[/red]" if tolerance["exceeded"] else "[green]within[/green]"
    Console().print(
        f"Risk tolerance: {verdict}; worst at loss {worst['loss']:,.0f}: "
        f"P(loss ≥ x) {worst['lec_probability']:.3%} against {worst['probability']:.3%} tolerated"
    )


def _print_controls(summary: dict) -> None:
    rows = summary.get("controls")
    if not rows:
        return
    root = summary["nodes"][summary["root"]]
    table = Table(
        title=f"Controls: AAL {root['inherent']['aal']:,.0f} inherent, {root['aal']:,.0f} "
        f"residual; TVaR 99 {root['inherent']['tvar']['99']:,.0f} → {root['tvar']['99']:,.0f}"
    )
    for col in ("Control", "Leaf", "Cost", "AAL saved", "TVaR 99 saved", "TVaR 99 / cost"):
        table.add_column(col, justify="left" if col in ("Control", "Leaf") else "right")
    for row in rows:
        per = row["per_cost"]["tvar99"]
        table.add_row(
            row["name"],
            row["leaf"],
            f"{row['cost']:,.0f}",
            f"{row['reduction']['aal']:,.0f}",
            f"{row['reduction']['tvar99']:,.0f}",
            "—" if per is None else f"{per:,.2f}",
        )
    Console().print(table)


def _print_table(summary: dict) -> None:
    """Each node's figures; in full where they fit the terminal, else as 7.38M (never cut)."""

    def build(money: Callable[[float | None], str]) -> Table:
        table = Table(title=f"{escape(summary['root'])}: {summary['trials']:,} trials")
        labels = ["  " * summary["nodes"][n]["depth"] + n for n in summary["order"]]
        # wrapped at spaces, never inside a word (the indent shows the depth)
        table.add_column("Node", overflow="fold", min_width=longest_word(labels) + 2)
        for col in ("AAL", "P(no loss)", "p90", "p99", "p99.5", "TVaR 99"):
            table.add_column(col, justify="right", no_wrap=col != "P(no loss)")
        for name in summary["order"]:
            node = summary["nodes"][name]
            q = node["quantiles"]
            table.add_row(
                escape("  " * node["depth"] + name),
                money(node["aal"]),
                f"{node['p_no_loss']:.1%}",
                money(q["p90"]),
                money(q["p99"]),
                money(q["p99.5"]),
                money(node["tvar"]["99"]),
            )
        return table

    out.print(fitted_table(build, out, [full, compact]))


def _chart_note(summary: dict) -> str | None:
    """What the LEC chart leaves out: None when it draws every node."""
    drawn = _charted_nodes(summary["chart"])
    missing = [name for name in summary["order"] if name not in drawn]
    if not missing:
        return None
    named = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
    return (
        f"the chart draws {len(summary['order']) - len(missing)} of {len(summary['order'])} "
        f"nodes; not drawn: {named} (pick them with --chart-nodes)"
    )


def _charted_nodes(chart: dict) -> set[str]:
    """The nodes a Vega-Lite LEC chart has curves for."""
    names: set[str] = set()
    for layer in chart.get("layer", [chart]):
        for row in (layer.get("data") or {}).get("values", []):
            if isinstance(row, dict) and "node" in row:
                names.add(row["node"])
    return names


def _with_subtitle(chart: dict, note: str | None) -> dict:
    """The chart with ``note`` as its subtitle, so the picture itself says what it omits."""
    if not note:
        return chart
    title = chart.get("title") or ""
    text = title.get("text", "") if isinstance(title, dict) else title
    return {**chart, "title": {"text": text, "subtitle": note[:1].upper() + note[1:]}}


def register(app: typer.Typer) -> None:
    app.command("risk")(risk)
