"""The montesim command line: serve, worker, submit, watch, jobs, cancel, result, run.

Commands that talk to a server take ``--server`` (or MONTESIM_SERVER) and ``--token`` (or
MONTESIM_TOKEN), sent as a Bearer token. Engine-specific
commands (inspect, verify, simulate, risk) live in sibling modules and register here.
"""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Column, Table

from montesim.cli.connection import connect, fail, name_files, name_the_file
from montesim.config import Settings

if TYPE_CHECKING:
    import httpx

app = typer.Typer(no_args_is_help=True, help="Durable Monte Carlo simulation jobs.")
console = Console(stderr=True)
out = Console()

DEFAULT_SERVER = "http://127.0.0.1:8000"

# `serve --warm horn` and `worker --warm horn`: engines each worker process warms up
WarmEngines = Annotated[
    str,
    typer.Option(
        "--warm",
        envvar="MONTESIM_WARM_ENGINES",
        help="engines each worker process warms up as it starts, e.g. horn "
        "(compiles the BEM kernels in the background, not in the first job)",
    ),
]
Server = Annotated[
    str, typer.Option("--server", envvar="MONTESIM_SERVER", help="montesim server URL")
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token", envvar="MONTESIM_TOKEN", help="API token (servers with MONTESIM_AUTH=tokens)"
    ),
]
TERMINAL = ("complete", "error", "cancelled")


# -- helpers --------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    import ipaddress

    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _check(resp: httpx.Response, files: dict[str, Path] | None = None) -> dict[str, Any]:
    """The JSON body of a good answer; a 4xx/5xx ends the command with its detail (the
    files it names called by the paths the user typed, not by their upload ids)."""
    if resp.status_code == 401:
        console.print(
            "[red]error 401:[/red] the server needs a token: pass --token or set MONTESIM_TOKEN"
            + (
                f" ({resp.json().get('detail')})"
                if "json" in resp.headers.get("content-type", "")
                else ""
            ),
            highlight=False,
        )
        raise typer.Exit(2)
    if resp.status_code >= 400:
        try:
            body = resp.json()
            if not isinstance(body, dict):
                raise ValueError(body)
            msg = str(body.get("detail") or body)
            if body.get("location"):
                msg += f" (at {body['location']})"
        except ValueError:
            msg = resp.text
        msg = name_files(msg, files or {})
        console.print(f"[red]error {resp.status_code}:[/red] {escape(msg)}", soft_wrap=True)
        raise typer.Exit(2)
    return resp.json()


def _load_spec(path: Path) -> dict[str, Any]:
    try:
        spec = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        console.print(f"[red]cannot read spec {path}:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    if not isinstance(spec, dict):
        console.print(f"[red]spec {path} must be a JSON object[/red]")
        raise typer.Exit(2)
    return spec


def _fmt_rate(job: dict[str, Any]) -> str:
    rate = job.get("rate")
    eta = job.get("eta_seconds")
    parts = []
    if rate:
        parts.append(f"{rate:,.0f} {job.get('unit', 'units')}/s")
    if eta is not None:
        parts.append(f"ETA {eta:,.1f}s")
    if job.get("stalled"):
        parts.append("[yellow]stalled[/yellow]")
    return " · ".join(parts)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def follow(fetch: Callable[[], dict[str, Any]], interval: float = 0.25) -> dict[str, Any]:
    """Show a live progress bar (done/total, rate, ETA) until the job ends; return it.

    The clock is the job's own elapsed time (from its start), and a long stage message is
    cut to what fits, so the bar keeps its width in a narrow terminal.
    """
    with Progress(
        TextColumn("[bold]{task.fields[status]}[/bold]"),
        BarColumn(bar_width=24),
        TextColumn("{task.fields[counts]}"),
        TextColumn("{task.fields[rate]}"),
        TextColumn("{task.fields[elapsed]}"),
        TextColumn(
            "{task.fields[stage]}",
            table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1),
        ),
        console=console,
        transient=False,
        expand=True,
    ) as bar:
        task = bar.add_task(
            "job", total=None, status="…", counts="waiting", rate="", stage="", elapsed=""
        )
        while True:
            job = fetch()
            total = job.get("total") or None
            done = job.get("done") or 0
            counts = f"{done:,}/{total:,} {job.get('unit', '')}" if total else "waiting"
            bar.update(
                task,
                total=total,
                completed=done,
                status=job["status"],
                counts=counts,
                rate=_fmt_rate(job),
                elapsed=_clock(job.get("elapsed_seconds")),
                stage=job.get("stage_message") or job.get("stage") or "",
            )
            if job["status"] in TERMINAL:
                return job
            time.sleep(interval)


def resolve_id(client: httpx.Client, job_id: str) -> str:
    """A whole job id from a unique prefix of it (as ``git`` takes short hashes)."""
    if len(job_id) == 36:
        return job_id
    body = _check(client.get("/api/jobs", params={"id_prefix": job_id, "limit": 2}))
    ids = [j["job_id"] for j in body["items"]]
    if len(ids) == 1:
        return str(ids[0])
    if not ids:
        console.print(f"[red]error:[/red] no job id starts with {job_id!r}")
    else:
        console.print(f"[red]error:[/red] {job_id!r} is the start of several job ids; give more")
    raise typer.Exit(2)


def _exit_for(job: dict[str, Any]) -> None:
    status = job["status"]
    if status == "error":
        err = job.get("error") or {}
        where = f" at {err['location']}" if err.get("location") else ""
        console.print(f"[red]job failed[/red] ({err.get('code')}{where}): {err.get('message')}")
        raise typer.Exit(1)
    if status == "cancelled":
        console.print("[yellow]job cancelled[/yellow]")
        raise typer.Exit(3)
    console.print(f"[green]job complete[/green] {job.get('job_id', '')}")


def _write_result(result: Any, output: Path | None) -> None:
    text = json.dumps(result, indent=2)
    if output:
        output.write_text(text)
        console.print(f"result written to {output}")
    else:
        out.print_json(text)


# -- server-side commands ---------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="MONTESIM_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="MONTESIM_PORT")] = 8000,
    no_jobs: Annotated[
        bool,
        typer.Option("--no-jobs", help="API, UI and streams only; `montesim worker`s run jobs"),
    ] = False,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure", help="serve a non-loopback address without authentication anyway"
        ),
    ] = False,
    warm: WarmEngines = "",
) -> None:
    """Start the server: API, web UI, and (unless --no-jobs) the scheduler and workers."""
    settings = Settings(host=host, port=port, warm_engines=warm)
    if settings.auth == "none" and not is_loopback(host) and not insecure:
        console.print(
            f"[red]error:[/red] refusing to serve {host} without authentication: anyone who "
            "can reach that address could read, cancel and delete every job. Set "
            "MONTESIM_AUTH=tokens (and make tokens with `montesim token create NAME`), bind "
            "127.0.0.1, or pass --insecure if a proxy in front does the authentication.",
            highlight=False,
        )
        raise typer.Exit(2)
    import uvicorn

    from montesim.api.app import create_app

    _check_port_free(host, port)
    if not no_jobs:
        _check_executor(settings)
        _check_warm(settings)
    jobs_part = (
        "no jobs (API only)"
        if no_jobs
        else (f"executor: {settings.executor}, workers: {settings.workers}")
    )
    console.print(
        f"montesim serving at [bold]http://{host}:{port}[/bold] "
        f"(store: {settings.url}, {jobs_part})"
    )
    # uvicorn turns SIGTERM into the app's shutdown, which drains the scheduler.
    uvicorn.run(
        create_app(settings, run_jobs=not no_jobs), host=host, port=port, log_level="warning"
    )


def _check_port_free(host: str, port: int) -> None:
    """A port already taken (a second `make run`) is one line saying how to pick another,
    before anything starts; uvicorn would print its own error after our banner."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise fail(f"cannot serve on {host}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise fail(
                f"cannot serve on {host}:{port}: {(exc.strerror or str(exc)).lower()} (is "
                "another montesim serve running?); pick another port with --port or "
                "MONTESIM_PORT (make run PORT=…)"
            ) from None


def _check_warm(settings: Settings) -> None:
    """Engines to warm must exist and have something to warm: a one-line error if not."""
    from montesim.engines.base import get_engine
    from montesim.errors import InputError

    for name in settings.warm_engine_names:
        try:
            engine = get_engine(name)
        except InputError as exc:
            console.print(f"[red]error:[/red] --warm / MONTESIM_WARM_ENGINES: {exc}")
            raise typer.Exit(2) from None
        if not hasattr(engine, "warm_up"):
            console.print(
                f"[red]error:[/red] --warm / MONTESIM_WARM_ENGINES: the {name} engine has "
                "nothing to warm up",
                highlight=False,
            )
            raise typer.Exit(2)


def _check_executor(settings: Settings) -> None:
    """A Dask scheduler that cannot be reached is a one-line error, not a traceback."""
    if settings.executor != "dask" or not settings.dask_scheduler:
        return
    from montesim.errors import ExecutorUnavailable
    from montesim.jobs.executors import DaskExecutor

    try:
        DaskExecutor.connect(settings.dask_scheduler, settings.dask_connect_seconds).close()
    except ExecutorUnavailable as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None


@app.command()
def worker(
    metrics_port: Annotated[
        int,
        typer.Option(
            envvar="MONTESIM_METRICS_PORT",
            help="serve this process's Prometheus metrics at :PORT/metrics (0: off)",
        ),
    ] = 0,
    metrics_host: Annotated[
        str, typer.Option(envvar="MONTESIM_METRICS_HOST", help="address the metrics bind to")
    ] = "127.0.0.1",
    warm: WarmEngines = "",
) -> None:
    """Run jobs only (scheduler and executor) against the configured store (scale-out).

    SIGTERM (or Ctrl-C) drains: no new jobs, chunks in flight finish, running jobs are
    handed back to another worker, exit 0.
    """
    from montesim.errors import ExecutorUnavailable, MetricsUnavailable
    from montesim.jobs.worker import create_worker
    from montesim.logs import setup_logging

    settings = Settings(warm_engines=warm)
    setup_logging(settings.log_format)
    _check_warm(settings)
    try:
        process = create_worker(settings, metrics_port=metrics_port, metrics_host=metrics_host)
    except (ExecutorUnavailable, MetricsUnavailable) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    raise typer.Exit(process.run(lambda line: console.print(line, highlight=False)))


config_app = typer.Typer(
    no_args_is_help=True, help="Store-wide settings that every process on the store obeys."
)
app.add_typer(config_app, name="config")


def _settings_store() -> Any:
    from montesim.jobs.store import Store

    return Store(Settings().url)


@config_app.command("set")
def config_set(key: str, value: str) -> None:
    """Set a store-wide setting (max_concurrent_jobs)."""
    from montesim.errors import InputError

    store = _settings_store()
    try:
        number = store.set_setting(key, value)
    except InputError as exc:
        console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        store.close()
    out.print(f"{key} = {number}")


@config_app.command("unset")
def config_unset(key: str) -> None:
    """Remove a store-wide setting: each process falls back to its environment."""
    from montesim.errors import InputError

    store = _settings_store()
    try:
        store.unset_setting(key)
    except InputError as exc:
        console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        store.close()
    out.print(f"{key} unset")


@config_app.command("show")
def config_show() -> None:
    """Print the store-wide settings and where each value comes from."""
    from montesim.jobs.store.settings import STORE_SETTINGS

    store = _settings_store()
    try:
        stored = store.store_settings()
    finally:
        store.close()
    env = Settings()
    for key in sorted(STORE_SETTINGS):
        if key in stored:
            out.print(f"{key} = {stored[key]} (store)")
        else:
            out.print(f"{key} = {getattr(env, key)} (environment; not set in the store)")


token_app = typer.Typer(
    no_args_is_help=True, help="API tokens for servers with MONTESIM_AUTH=tokens."
)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    name: str,
    admin: Annotated[
        bool, typer.Option("--admin", help="sees and acts on every owner's jobs")
    ] = False,
) -> None:
    """Make a token for NAME and print it, once: only its hash is stored."""
    from montesim.errors import InputError

    store = _settings_store()
    try:
        record, secret = store.create_token(name, admin=admin)
    except InputError as exc:
        console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        store.close()
    console.print(
        f"token {record.name!r} ({'admin, ' if admin else ''}id {record.id}); it is shown "
        "this once, keep it now:",
        highlight=False,
    )
    out.print(secret, highlight=False, soft_wrap=True)


@token_app.command("list")
def token_list() -> None:
    """Tokens with their owner, role, creation, last use and revocation."""
    store = _settings_store()
    try:
        found = store.list_tokens()
    finally:
        store.close()
    out.print(tokens_table(found, out.width))


def tokens_table(found: list[Any], width: int) -> Table:
    """Tokens, whole ids; under 100 columns the name goes below the id, so it fits 80."""
    from montesim.jobs.progress import iso

    narrow = width < 100
    table = _list_table(narrow)
    table.add_column("token" if narrow else "id", no_wrap=True)
    if not narrow:
        table.add_column("name", overflow="fold")
    table.add_column("role", no_wrap=True)
    for col in ("created", "last used", "revoked"):
        table.add_column(col, min_width=10, overflow="fold")  # a date is never cut
    for t in found:
        when = [
            _local_time(iso(moment), seconds=not narrow)
            for moment in (t.created_at, t.last_used_at, t.revoked_at)
        ]
        name = escape(textwrap.fill(t.name, 36, initial_indent="  ", subsequent_indent="  "))
        first = [f"{t.id}\n{name}"] if narrow else [t.id, escape(t.name)]
        table.add_row(*first, "admin" if t.admin else "user", when[0], when[1] or "never", when[2])
    return table


@token_app.command("revoke")
def token_revoke(name_or_id: str) -> None:
    """Revoke a token (by id, or every unrevoked token with this name): at once, everywhere."""
    store = _settings_store()
    try:
        revoked = store.revoke_token(name_or_id)
    finally:
        store.close()
    if not revoked:
        console.print(f"[red]error:[/red] no unrevoked token {name_or_id!r}", highlight=False)
        raise typer.Exit(2)
    for t in revoked:
        out.print(f"revoked {t.name} ({t.id})", highlight=False)


# -- client commands --------------------------------------------------------------------


def _upload(client: httpx.Client, path: Path) -> str:
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise fail(f"cannot read --file {path}: {(exc.strerror or str(exc)).lower()}") from None
    with fh:
        body = _check(client.post("/api/files", files={"file": (path.name, fh)}))
    return body["file_id"]


@app.command()
def submit(
    engine: str,
    spec_file: Annotated[Path, typer.Argument(help="JSON spec")],
    file: Annotated[
        Path | None, typer.Option("--file", help="input file; sets spec.file_id")
    ] = None,
    label: Annotated[str | None, typer.Option()] = None,
    idempotency_key: Annotated[str | None, typer.Option()] = None,
    server: Server = DEFAULT_SERVER,
    token: Token = None,
) -> None:
    """Submit a job and print its id."""
    spec = _load_spec(spec_file)
    uploaded: dict[str, Path] = {}
    with connect(server, token) as client:
        if file is not None:
            spec["file_id"] = _upload(client, file)
            uploaded[spec["file_id"]] = file
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        body = _check(
            client.post(
                "/api/jobs", json={"engine": engine, "spec": spec, "label": label}, headers=headers
            ),
            files=uploaded,
        )
    out.print(body["job_id"])


@app.command()
def watch(job_id: str, server: Server = DEFAULT_SERVER, token: Token = None) -> None:
    """Follow a job with a live progress bar; exit non-zero on error or cancel."""
    with connect(server, token) as client:
        full = resolve_id(client, job_id)
        job = follow(lambda: _check(client.get(f"/api/jobs/{full}")))
    _exit_for(job)


@app.command()
def jobs(
    status: Annotated[str | None, typer.Option(help="comma-separated statuses")] = None,
    engine: Annotated[str | None, typer.Option()] = None,
    limit: int = 50,
    server: Server = DEFAULT_SERVER,
    token: Token = None,
) -> None:
    """List jobs, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = status
    if engine:
        params["engine"] = engine
    with connect(server, token) as client:
        body = _check(client.get("/api/jobs", params=params))
    out.print(jobs_table(body["items"], out.width))
    out.print(f"{len(body['items'])} of {body['total']}")


def _local_time(stamp: str | None, *, seconds: bool) -> str:
    """An ISO time from the server (UTC) as this machine's local time."""
    from datetime import datetime

    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _list_table(narrow: bool) -> Table:
    """A table for a list command: boxed when wide; under 100 columns no frame and one space
    between columns, so whole ids and dates fit 80."""
    if not narrow:
        return Table(box=box.HEAVY_HEAD)
    return Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)


def jobs_table(items: list[dict[str, Any]], width: int) -> Table:
    """The job list: whole ids (they are what you type), nothing cut at any width.

    Under 100 columns the label or file goes on a line of its own below the id and the
    time loses its seconds, so the table fits 80 columns; every word wraps, none is cut.
    """
    narrow = width < 100
    table = _list_table(narrow)
    table.add_column("job", no_wrap=True)
    table.add_column("engine", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("done", justify="right", no_wrap=True)
    if not narrow:
        table.add_column("label / file", overflow="fold")
    table.add_column("created")
    for j in items:
        name = j["label"] or j.get("file_name") or ""
        created = _local_time(j["created_at"], seconds=not narrow)
        cells = [j["job_id"], j["engine"], j["status"], f"{j['progress']:.0%}"]
        if narrow:
            # wrapped here to the id's width: the column itself never wraps (ids stay whole)
            wrapped = textwrap.fill(name, 36, initial_indent="  ", subsequent_indent="  ")
            cells[0] += f"\n{escape(wrapped)}" if name else ""
        else:
            cells.append(escape(name))
        table.add_row(*cells, created)
    return table


@app.command()
def cancel(job_id: str, server: Server = DEFAULT_SERVER, token: Token = None) -> None:
    """Cancel a queued or running job."""
    with connect(server, token) as client:
        full = resolve_id(client, job_id)
        body = _check(client.post(f"/api/jobs/{full}/cancel"))
    out.print(f"{full}: {body['status']} ({body['stage']})")


@app.command()
def result(
    job_id: str,
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
    server: Server = DEFAULT_SERVER,
    token: Token = None,
) -> None:
    """Print (or save) a complete job's result."""
    with connect(server, token) as client:
        body = _check(client.get(f"/api/jobs/{resolve_id(client, job_id)}/result"))
    _write_result(body, output)


@app.command()
def run(
    engine: str,
    spec_file: Annotated[Path, typer.Argument(help="JSON spec")],
    file: Annotated[
        Path | None, typer.Option("--file", help="input file; sets spec.file_id")
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result JSON")] = False,
    workers: Annotated[
        int | None, typer.Option(help="worker processes (default: one per core; 1 runs inline)")
    ] = None,
) -> None:
    """Run a job in this process (no server), through the same runner, with the same bar."""
    from montesim.errors import InputError

    spec = _load_spec(spec_file)
    files = {}
    if file is not None:
        spec["file_id"] = "file"
        files["file"] = file
    try:
        job, summary = run_in_process(engine, spec, files=files, workers=workers)
    except InputError as exc:
        _invalid(exc, file)
        return
    _exit_for(job)
    document = {
        "job_id": job["job_id"],
        "engine": engine,
        "elapsed_seconds": job["elapsed_seconds"],
        "result": summary,
    }
    if output or as_json or engine != "excel" or summary is None:
        _write_result(document, output)
    if engine == "excel" and summary is not None and not as_json:
        from montesim.cli.excel import print_summary

        print_summary(summary, f"{summary['iterations']:,} iterations")


def run_in_process(
    engine: str,
    spec: dict[str, Any],
    *,
    files: dict[str, Path] | None = None,
    workers: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Run one job here through the job runner with the live bar: its view and result.

    Raises InputError for a bad spec, whether found at submit or while planning.
    """
    from montesim.jobs.service import run_now
    from montesim.jobs.views import input_error_of, job_view

    n_workers = workers or Settings().workers
    bar = _LiveBar()
    try:
        outcome = run_now(
            engine,
            spec,
            files=files,
            executor="local" if n_workers > 1 else "inline",
            workers=n_workers,
            on_update=lambda job: bar.show(job_view(job)),
        )
    finally:
        bar.close()
    error = input_error_of(outcome.job)
    if error is not None:
        raise error
    return job_view(outcome.job), outcome.result.summary if outcome.result else None


def _invalid(exc: Any, file: Path | None = None) -> None:
    where = f" at {exc.location}" if exc.location else ""
    message = name_the_file(exc.message, file) if file is not None else exc.message
    console.print(f"[red]invalid input{where}:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(2)


class _LiveBar:
    """The live bar for in-process runs, fed job views as chunks persist."""

    def __init__(self) -> None:
        import queue
        import threading

        self.views: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self.latest: dict[str, Any] = {"status": "queued", "done": 0, "total": 0}
        self.thread = threading.Thread(target=self._draw, daemon=True)
        self.thread.start()

    def show(self, view: dict[str, Any]) -> None:
        self.views.put(view)

    def _draw(self) -> None:
        def fetch() -> dict[str, Any]:
            while not self.views.empty():
                item = self.views.get()
                if item is None:  # the run is over, whatever the last view said
                    status = self.latest.get("status")
                    return {**self.latest, "status": status if status in TERMINAL else "error"}
                self.latest = item
            return self.latest

        follow(fetch, interval=0.1)

    def close(self) -> None:
        self.views.put(None)
        self.thread.join(timeout=5)


def _register_extensions() -> None:
    for name in ("montesim.cli.excel", "montesim.cli.risk", "montesim.cli.horn"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app)


_register_extensions()


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
