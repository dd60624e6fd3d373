"""Summary downloads of a finished job: ``summary.csv`` (one row per output or tree node)
and ``summary.xlsx`` (run facts, warnings, statistics, inputs, sensitivity, correlations,
errors), built from the stored result, which is small whatever the iteration count."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request, Response

from montesim.api.deps import services
from montesim.api.jobs import get_or_404, not_complete
from montesim.api.problems import Problem
from montesim.jobs.model import Job, JobStatus
from montesim.jobs.progress import iso

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENTILES = ("p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99")

Table = tuple[list[str], list[list[Any]]]


def _pct_label(key: str) -> str:
    return key.upper() if key.startswith("p") else key


def output_table(result: dict[str, Any]) -> Table:
    head = ["Output", "Cell", "Valid trials", "Error trials", "Error share", "Mean", "Std dev"]
    head += ["Min", "Max", *[_pct_label(p) for p in PERCENTILES]]
    head += ["95% CI of mean (low)", "95% CI of mean (high)", "Skewness", "Excess kurtosis"]
    rows = []
    iterations = result.get("iterations") or 0
    for name, o in result.get("outputs", {}).items():
        pct = o.get("percentiles") or {}
        ci = o.get("ci95_mean") or [None, None]
        errors = o.get("error_trials", 0)
        rows.append(
            [name, o.get("cell"), o.get("n"), errors, errors / iterations if iterations else None]
            + [o.get(k) for k in ("mean", "std", "min", "max")]
            + [pct.get(p) for p in PERCENTILES]
            + [ci[0], ci[1], o.get("skewness"), o.get("kurtosis")]
        )
    return head, rows


def input_table(result: dict[str, Any]) -> Table:
    head = ["Input", "Cell", "Distribution", "Parameters", "Mean", "Std dev", "Min", "Max"]
    head += ["P5", "P50", "P95"]
    rows = []
    for d in result.get("inputs", []):
        pct = d.get("percentiles") or {}
        rows.append(
            [d.get("name"), d.get("cell"), d.get("family"), _params(d.get("params"))]
            + [d.get(k) for k in ("mean", "std", "min", "max")]
            + [pct.get(p) for p in ("p5", "p50", "p95")]
        )
    return head, rows


def _params(params: Any) -> str:
    return ", ".join(str(p) for p in params) if isinstance(params, list) else str(params or "")


def sensitivity_table(result: dict[str, Any]) -> Table:
    head = ["Output", "Input", "Rank correlation", "Contribution to variance"]
    rows = []
    for name, o in result.get("outputs", {}).items():
        sens = o.get("sensitivity") or {}
        shares = {c["input"]: c.get("share") for c in sens.get("contribution_to_variance", [])}
        for t in sens.get("tornado", []):
            rows.append([name, t["input"], t.get("rho"), shares.get(t["input"])])
    return head, rows


def correlation_table(result: dict[str, Any]) -> Table:
    corr = result.get("output_correlation") or {}
    names = corr.get("names") or []
    matrix = corr.get("spearman") or []
    return ["Rank correlation", *names], [
        [name, *row] for name, row in zip(names, matrix, strict=False)
    ]


def error_table(result: dict[str, Any]) -> Table:
    iterations = result.get("iterations") or 0
    rows = [
        [name, err, n, n / iterations if iterations else None]
        for name, o in result.get("outputs", {}).items()
        for err, n in (o.get("errors") or {}).items()
    ]
    return ["Output", "Error", "Trials", "Share of trials"], rows


def warning_table(result: dict[str, Any]) -> Table:
    rows = [
        [w.get("code"), w.get("location"), w.get("origin"), w.get("message")]
        for w in result.get("warnings") or []
    ]
    return ["Warning", "Where", "First cell", "Message"], rows


def node_table(result: dict[str, Any]) -> Table:
    order = result.get("order") or list(result.get("nodes", {}))
    quantiles: list[str] = []
    tvars: list[str] = []
    for name in order:
        node = result["nodes"][name]
        quantiles += [q for q in node.get("quantiles", {}) if q not in quantiles]
        tvars += [t for t in node.get("tvar", {}) if t not in tvars]
    head = ["Node", "Kind", "Parent", "Depth", "AAL", "Std dev", "P(no loss)", "Max loss"]
    head += [q.upper() for q in quantiles] + [f"TVaR {t}%" for t in tvars]
    rows = []
    for name in order:
        n = result["nodes"][name]
        rows.append(
            [name, n.get("kind"), n.get("parent"), n.get("depth"), n.get("aal"), n.get("std")]
            + [n.get("p_no_loss"), n.get("max")]
            + [n.get("quantiles", {}).get(q) for q in quantiles]
            + [n.get("tvar", {}).get(t) for t in tvars]
        )
    return head, rows


def return_period_table(result: dict[str, Any]) -> Table:
    rows = [
        [name, rp.get("period"), rp.get("probability"), rp.get("loss")]
        for name in result.get("order") or list(result.get("nodes", {}))
        for rp in result["nodes"][name].get("return_periods") or []
    ]
    return ["Node", "Return period (years)", "Annual probability", "Loss"], rows


def scalar_table(result: dict[str, Any]) -> Table:
    rows = [[k, v] for k, v in result.items() if v is None or isinstance(v, str | int | float)]
    return ["Field", "Value"], rows


def sheets(job: Job, result: dict[str, Any]) -> list[tuple[str, Table]]:
    """The workbook's sheets in order; the first data sheet is also the CSV summary."""
    facts: list[list[Any]] = [
        ["Job", job.id],
        ["Label", job.label],
        ["Engine", job.engine],
        ["File", job.file_name],
        ["Finished", iso(job.completed_at)],
    ]
    run = scalar_table(result)
    out: list[tuple[str, Table]] = [("Run", (run[0], facts + run[1]))]
    if isinstance(result.get("outputs"), dict):
        out += [
            ("Outputs", output_table(result)),
            ("Warnings", warning_table(result)),
            ("Errors", error_table(result)),
            ("Inputs", input_table(result)),
            ("Sensitivity", sensitivity_table(result)),
            ("Output correlation", correlation_table(result)),
        ]
    elif isinstance(result.get("nodes"), dict):
        out += [("Nodes", node_table(result)), ("Return periods", return_period_table(result))]
    return out


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def to_xlsx(tables: Iterable[tuple[str, Table]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title, (head, rows) in tables:
        ws = book.create_sheet(title[:31])
        ws.append(head)
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in rows:
            ws.append([_cell(v) for v in row])
        for c in ws[1]:
            if (
                "share" in str(c.value).lower()
                or str(c.value).startswith("P(")
                or c.value == "Contribution to variance"
            ):
                for (cell,) in ws.iter_rows(min_row=2, min_col=c.column, max_col=c.column):
                    cell.number_format = "0.0%"
        ws.freeze_panes = "B2"
        for col in ws.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
            ws.column_dimensions[col[0].column_letter].width = min(max(10, width + 2), 60)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def to_csv(table: Table) -> bytes:
    head, rows = table
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(head)
    writer.writerows([["" if v is None else _cell(v) for v in row] for row in rows])
    return buf.getvalue().encode()


def _finished(request: Request, job_id: str) -> tuple[Job, dict[str, Any]]:
    svc = services(request)
    job = get_or_404(request, job_id)
    if job.status != JobStatus.COMPLETE:
        raise not_complete(job)
    result = svc.store.result(job_id)
    if not isinstance(result, dict):
        raise Problem(404, "no_summary", "This job's result has no tables", location="job_id")
    return job, result


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/{job_id}/summary.xlsx")
def summary_xlsx(job_id: str, request: Request) -> Response:
    """The result as a workbook: run facts, warnings, statistics, inputs, sensitivity."""
    job, result = _finished(request, job_id)
    return _download(to_xlsx(sheets(job, result)), XLSX, f"montesim-{job_id[:8]}-summary.xlsx")


@router.get("/{job_id}/summary.csv")
def summary_csv(job_id: str, request: Request) -> Response:
    """One row per output (Excel) or tree node (risk tree) with its statistics."""
    job, result = _finished(request, job_id)
    tables = sheets(job, result)
    main = tables[1][1] if len(tables) > 1 else tables[0][1]
    return _download(to_csv(main), "text/csv", f"montesim-{job_id[:8]}-summary.csv")
