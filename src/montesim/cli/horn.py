"""``montesim horn DESIGN``: simulate a waveguide here, with the live progress bar.

DESIGN is a YAML/JSON parameter file (a ``horn`` spec, or just the waveguide's
parameters at the top level) or an ATH ``.cfg`` design (sent as the spec's ``cfg``,
so its unused keys are warnings in the result's metadata as for the API).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from montesim.errors import InputError

console = Console(stderr=True)

GEOMETRY_KEYS = {"formula", "r0", "a0", "a", "L", "R", "k", "s", "n", "q", "r", "b", "m", "tmax"}


def load_design(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The horn spec (without frequencies) of a parameter file, and its warnings."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}", location="design") from None
    if path.suffix.lower() == ".cfg":
        from montesim.engines.horn.ath import design_from_cfg, relocate

        try:  # read here too, for its warnings before the solve starts
            design = design_from_cfg(text)
        except InputError as exc:
            exc.location = relocate(exc.location, "cfg")
            raise
        return {"cfg": text}, design.warnings
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"cannot parse {path.name}: {exc}", location="design") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path.name} must hold a mapping of parameters", location="design")
    if "geometry" in doc or "user_mesh" in doc:
        return doc, []
    spec: dict[str, Any] = {"geometry": {k: v for k, v in doc.items() if k in GEOMETRY_KEYS}}
    spec.update({k: v for k, v in doc.items() if k not in GEOMETRY_KEYS})
    return spec, []


DEFAULT_FREQ = "200:20000"
DEFAULT_COUNT = 24


def design_sweep(spec: dict[str, Any]) -> bool:
    """Whether the design states its own sweep (an ATH design's ABEC.f1/f2, or frequencies)."""
    if "frequencies" in spec:
        return True
    if isinstance(spec.get("cfg"), str):
        from montesim.engines.horn.ath import design_from_cfg

        try:
            return "frequencies" in design_from_cfg(spec["cfg"]).spec
        except InputError:
            return False  # the run reports the design's mistake, naming the key
    return False


def parse_freq(text: str) -> tuple[float, float]:
    try:
        start, stop = (float(x) for x in text.split(":"))
    except ValueError:
        raise typer.BadParameter("--freq is START:STOP in Hz, e.g. 200:20000") from None
    return start, stop


def horn(
    design: Annotated[Path, typer.Argument(help="parameters (.yaml/.json) or an ATH .cfg")],
    freq: Annotated[
        str | None,
        typer.Option("--freq", help="START:STOP in Hz (default: the design's, or 200:20000)"),
    ] = None,
    n: Annotated[int | None, typer.Option("--n", help="number of frequencies (default 24)")] = None,
    spacing: Annotated[str, typer.Option("--spacing", help="log or linear")] = "log",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="result JSON")] = None,
    png: Annotated[Path | None, typer.Option("--png", help="polar map PNG")] = None,
    workers: Annotated[int | None, typer.Option(help="worker processes")] = None,
) -> None:
    """Simulate a waveguide (BEM per frequency) and write SPL, impedance, polars and DI."""
    from montesim.cli import _exit_for, run_in_process

    start, stop = parse_freq(freq or DEFAULT_FREQ)
    try:
        spec, warnings = load_design(design)
        if freq is not None or n is not None or not design_sweep(spec):
            spec["frequencies"] = {
                "start": start,
                "stop": stop,
                "count": n if n is not None else DEFAULT_COUNT,
                "spacing": spacing,
            }
        for w in warnings:
            console.print(f"[yellow]warning:[/yellow] {w}")
        job, summary = run_in_process("horn", spec, workers=workers)
    except InputError as exc:
        where = f" at {exc.location}" if exc.location else ""
        console.print(f"[red]invalid input{where}:[/red] {exc.message}")
        raise typer.Exit(2) from None
    _exit_for(job)
    assert summary is not None
    _print_table(summary, shown=set(warnings))
    if output:
        output.write_text(json.dumps(summary, indent=1))
        console.print(f"wrote {output}")
    if png:
        import vl_convert as vlc

        png.write_bytes(vlc.vegalite_to_png(polar_map_chart(summary), scale=2))
        console.print(f"wrote {png}")


def polar_map_chart(summary: dict[str, Any]) -> dict[str, Any]:
    """A Vega-Lite polar map (frequency x angle, colour in dB) per plane."""
    rows = []
    for plane, per_freq in summary["directivity"].items():
        for f, curve in zip(summary["frequencies"], per_freq, strict=True):
            for angle, level in curve or []:
                if level is not None:
                    rows.append({"plane": plane, "frequency": f, "angle": angle, "db": level})
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": rows},
        "facet": {"row": {"field": "plane", "type": "nominal", "title": None}},
        "spec": {
            "width": 520,
            "height": 160,
            "mark": "rect",
            "encoding": {
                "x": {
                    "field": "frequency",
                    "type": "ordinal",
                    "title": "Frequency (Hz)",
                    "axis": {"format": ",.0f", "labelAngle": -45},
                },  # fmt: skip
                "y": {
                    "field": "angle",
                    "type": "ordinal",
                    "title": "Angle (°)",
                    "sort": "descending",
                },
                "color": {
                    "field": "db",
                    "type": "quantitative",
                    "title": "dB",
                    "scale": {"domain": [-30, 0], "scheme": "turbo", "clamp": True},
                },
            },
        },
    }


def _print_table(summary: dict[str, Any], shown: Collection[str] = ()) -> None:
    meta = summary["metadata"]
    table = Table(title=f"{meta.get('formula') or 'mesh'}: {meta['mesh']['triangles']:,} triangles")
    for col in ("Hz", "SPL dB", "phase °", "Re z", "Im z", "DI dB"):
        table.add_column(col, justify="right")

    def fmt(x: float | None, digits: int = 2) -> str:
        return "—" if x is None else f"{x:.{digits}f}"

    for i, f in enumerate(summary["frequencies"]):
        table.add_row(
            f"{f:,.0f}",
            fmt(summary["spl_on_axis"]["spl"][i]),
            fmt(summary["spl_on_axis"]["phase_degrees"][i], 1),
            fmt(summary["impedance"]["real"][i], 3),
            fmt(summary["impedance"]["imaginary"][i], 3),
            fmt(summary["di"]["di"][i]),
        )
    console.print(table)
    for failure in meta["failures"]:
        console.print(f"[red]{failure['frequency']:,.0f} Hz failed:[/red] {failure['reason']}")
    for warning in (w for w in meta["warnings"] if w not in shown):
        console.print(f"[yellow]warning:[/yellow] {warning}")


def register(app: typer.Typer) -> None:
    app.command("horn")(horn)
