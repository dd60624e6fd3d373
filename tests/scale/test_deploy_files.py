"""deploy/: the compose file, the Dockerfile, the systemd units and the healthcheck hold
together, and the API commands they ship start as written (tokens on a non-loopback bind).

What needs a Docker daemon (building the image) cannot run here; the file-level checks
below stand in for it, and ``docker compose config`` / ``systemd-analyze verify`` run
where those tools are installed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.conftest import FAST_ENV, free_port, make_database_url
from tests.scale.procs import Proc, wait_until

pytestmark = [pytest.mark.xdist_group("scale"), pytest.mark.timeout(300)]

DEPLOY = Path(__file__).parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
SYSTEMD = DEPLOY / "systemd"
HEALTHCHECK = DEPLOY / "healthcheck.py"
UNITS = sorted(p.name for p in SYSTEMD.glob("*.service"))


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def montesim_services() -> dict[str, dict[str, Any]]:
    """The services that run the montesim image (every role but PostgreSQL and S3)."""
    return {n: s for n, s in compose()["services"].items() if s.get("image") == "montesim:local"}


def unit(name: str) -> dict[str, list[str]]:
    """``Key`` -> its values, over all sections (enough for these units)."""
    values: dict[str, list[str]] = {}
    for line in (SYSTEMD / name).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value
    return out


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


# -- compose ----------------------------------------------------------------------------


def test_compose_services_have_healthchecks_and_one_key() -> None:
    services = montesim_services()
    assert set(services) == {"dask-scheduler", "dask-worker", "api", "worker"}
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] == "CMD" and test[1] == "montesim-healthcheck", name
        env = service["environment"]
        assert "MONTESIM_SECRET_KEY" in env, name  # the same value reaches every process
        assert env["MONTESIM_DATA_DIR"] == "/var/lib/montesim"
    assert services["api"]["healthcheck"]["test"][2].endswith(":8000/api/healthz")
    worker = services["worker"]
    assert "--metrics-port 9100" in worker["command"]
    assert worker["healthcheck"]["test"][2] == "http://127.0.0.1:9100/metrics"
    # workers start once the API (which makes the schema) is healthy
    assert worker["depends_on"]["api"] == {"condition": "service_healthy"}


def test_compose_api_binds_everything_only_with_tokens() -> None:
    for name, service in montesim_services().items():
        command = shlex.split(service["command"])
        if command[:2] != ["montesim", "serve"]:
            continue
        host = command[command.index("--host") + 1] if "--host" in command else "127.0.0.1"
        if host not in ("127.0.0.1", "localhost", "::1"):
            assert (
                service["environment"].get("MONTESIM_AUTH") == "tokens" or "--insecure" in command
            ), name


def test_compose_config_validates() -> None:
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        tool = ["docker", "compose"]
    elif shutil.which("docker-compose"):
        tool = ["docker-compose"]
    else:
        pytest.skip("neither `docker compose` nor docker-compose is installed")
    checked = subprocess.run(
        [*tool, "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        env={**os.environ, "MONTESIM_SECRET_KEY": "k"},
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr


# -- Dockerfile -------------------------------------------------------------------------


def test_image_user_owns_its_declared_data_volume() -> None:
    steps = dockerfile()
    words = [w for w, _ in steps]
    env = " ".join(a for w, a in steps if w == "ENV")
    data_dir = re.search(r"MONTESIM_DATA_DIR=(\S+)", env)
    assert data_dir is not None
    data = data_dir.group(1)
    user = [a for w, a in steps if w == "USER"][-1]
    assert user not in ("root", "0")
    volume = words.index("VOLUME")
    assert data in steps[volume][1]
    # made and chowned to that user before the VOLUME line (a fresh volume copies it)
    made = [i for i, (w, a) in enumerate(steps) if w == "RUN" and f"mkdir -p {data}" in a]
    assert made and made[0] < volume
    run = steps[made[0]][1]
    assert "useradd" in run and user in run.split("useradd", 1)[1]
    assert re.search(rf"chown {user}(:{user})? {data}\b", run)
    assert words.index("USER") > volume
    # the healthcheck every compose service calls is in the image
    assert any(w == "COPY" and a.endswith("/usr/local/bin/montesim-healthcheck") for w, a in steps)


# -- systemd ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", UNITS)
def test_units_wait_for_the_network(name: str) -> None:
    values = unit(name)
    assert "network-online.target" in " ".join(values.get("Wants", [])), name
    assert "network-online.target" in " ".join(values.get("After", [])), name
    assert values["EnvironmentFile"][0] == "/etc/montesim/montesim.env"
    assert values["User"] == ["montesim"]


@pytest.mark.parametrize("name", ["montesim-api.service", "montesim-worker@.service"])
def test_montesim_units_have_their_own_state_directory(name: str) -> None:
    values = unit(name)
    (state,) = values["StateDirectory"]
    assert f"MONTESIM_DATA_DIR=%S/{state}" in values["Environment"]


def test_worker_instances_are_their_metrics_ports() -> None:
    """montesim-worker@9110 serves on 9110: any number of instances, each its own port."""
    (exec_start,) = unit("montesim-worker@.service")["ExecStart"]
    ports = []
    for instance in range(9101, 9113):  # twelve workers: instance 10 and beyond too
        args = shlex.split(exec_start.replace("%i", str(instance)))
        ports.append(int(args[args.index("--metrics-port") + 1]))
    assert ports == list(range(9101, 9113))


def test_env_file_sets_the_shared_settings_but_not_the_data_dir() -> None:
    env = env_file(SYSTEMD / "montesim.env")
    assert "MONTESIM_SECRET_KEY" in env
    assert env["MONTESIM_AUTH"] == "tokens"  # montesim-api.service binds 0.0.0.0
    assert "MONTESIM_DATA_DIR" not in env  # it would override each unit's own folder
    assert env["NPY_DISABLE_CPU_FEATURES"].split()[0] == "X86_V4"


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None or not Path("/usr/lib/systemd/system").is_dir():
        pytest.skip("systemd-analyze is not installed")
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/montesim").mkdir(parents=True)
    shutil.copy(SYSTEMD / "montesim.env", root / "etc/montesim")
    shutil.copytree(SYSTEMD, root / "etc/systemd/system", ignore=shutil.ignore_patterns("*.env"))
    bin_dir = root / "opt/montesim/bin"
    bin_dir.mkdir(parents=True)
    for exe in ("montesim", "dask"):  # ExecStart= must name executables
        (bin_dir / exe).write_text("#!/bin/sh\n")
        (bin_dir / exe).chmod(0o755)
    instances = [n.replace("@.", "@9110.") for n in UNITS]
    checked = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", *instances],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == ""  # no unknown keys or other warnings either


# -- the healthcheck ------------------------------------------------------------------------


@pytest.fixture
def fake_server() -> Iterator[dict[str, Any]]:
    """An HTTP server answering each path with what ``answers`` says."""
    answers: dict[str, tuple[int, str]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = answers.get(self.path, (404, "no"))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "answers": answers}
    finally:
        server.shutdown()
        server.server_close()


def healthcheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def metrics(age: float) -> str:
    return (
        "# TYPE montesim_worker_heartbeat_age_seconds gauge\n"
        f"montesim_worker_heartbeat_age_seconds {age}\n"
    )


def test_healthcheck_reads_the_worker_heartbeat(fake_server: dict[str, Any]) -> None:
    url, answers = fake_server["url"], fake_server["answers"]
    answers["/metrics"] = (200, metrics(3.5))
    assert healthcheck(f"{url}/metrics").returncode == 0
    answers["/metrics"] = (200, metrics(16.0))  # older than the default lease (15 s)
    stale = healthcheck(f"{url}/metrics")
    assert stale.returncode == 1 and "last heartbeat 16.0 s ago" in stale.stderr
    assert healthcheck(f"{url}/metrics", env={"MONTESIM_LEASE_SECONDS": "30"}).returncode == 0
    assert healthcheck(f"{url}/metrics", "--max-age", "10").returncode == 1
    answers["/metrics"] = (200, "# a Dask worker's metrics\ndask_tasks 3\n")
    other = healthcheck(f"{url}/metrics")
    assert other.returncode == 1 and "not a montesim worker" in other.stderr


def test_healthcheck_of_an_http_endpoint(fake_server: dict[str, Any]) -> None:
    url, answers = fake_server["url"], fake_server["answers"]
    answers["/api/healthz"] = (200, '{"ok": true}')
    assert healthcheck(f"{url}/api/healthz").returncode == 0
    answers["/api/healthz"] = (503, '{"ok": false, "store": false}')
    down = healthcheck(f"{url}/api/healthz")
    assert down.returncode == 1 and "answered 503" in down.stderr and "store" in down.stderr
    refused = healthcheck(f"http://127.0.0.1:{free_port()}/health")
    assert refused.returncode == 1 and "did not answer" in refused.stderr


# -- the shipped API commands start as written ------------------------------------------------


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from make_database_url("postgres", tmp_path)


def shipped_api_commands() -> dict[str, tuple[list[str], dict[str, str]]]:
    """compose's and systemd's API command lines with the environment each gives it."""
    api = montesim_services()["api"]
    systemd_env = env_file(SYSTEMD / "montesim.env")
    (exec_start,) = unit("montesim-api.service")["ExecStart"]
    return {
        "compose": (shlex.split(api["command"]), dict(api["environment"])),
        "systemd": (shlex.split(exec_start), systemd_env),
    }


@pytest.mark.parametrize("source", ["compose", "systemd"])
def test_shipped_api_command_comes_up_on_every_interface(
    source: str, tmp_path: Path, pg_url: str
) -> None:
    command, env = shipped_api_commands()[source]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    port = free_port()
    command[command.index("--port") + 1] = str(port)
    args = [sys.executable, "-m", "montesim.cli", *command[1:]]  # this checkout's montesim
    local = {
        **{k: str(v) for k, v in env.items() if not k.startswith(("AWS_", "MONTESIM_FILE_"))},
        **FAST_ENV,
        "MONTESIM_DATABASE_URL": pg_url,
        "MONTESIM_DATA_DIR": str(tmp_path / "data"),
    }
    # the same line without tokens is refused: the token setting is what lets it start
    refused = subprocess.run(
        args,
        env={**os.environ, **{k: v for k, v in local.items() if k != "MONTESIM_AUTH"}},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "refusing to serve 0.0.0.0" in refused.stdout + (
        refused.stderr
    )
    proc = Proc(f"api-{source}", args, tmp_path / "logs", local).start()
    try:
        health = f"http://127.0.0.1:{port}/api/healthz"

        def healthy() -> bool:
            assert proc.alive(), f"the API exited: {proc.tail()}"
            return healthcheck(health).returncode == 0

        wait_until("the API's healthcheck passes", healthy)
        assert httpx.get(f"http://127.0.0.1:{port}/api/jobs", timeout=10).status_code == 401
    finally:
        proc.stop()
