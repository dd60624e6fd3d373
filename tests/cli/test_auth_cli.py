"""`montesim token create|list|revoke`, client commands with --token / MONTESIM_TOKEN, and
`serve` refusing a non-loopback bind without authentication."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli.test_cli import cli
from tests.conftest import ServerProc
from typer.testing import CliRunner

from montesim.cli import app, is_loopback

pytestmark = pytest.mark.xdist_group("cli")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    tmp = tmp_path_factory.mktemp("cli-auth")
    proc = ServerProc(
        tmp, f"sqlite:///{tmp / 'db.sqlite'}", env={"MONTESIM_AUTH": "tokens"}
    ).start()
    yield proc
    proc.stop()


def store_env(server: ServerProc) -> dict[str, str]:
    return {"MONTESIM_DATA_DIR": str(server.data_dir), "MONTESIM_DATABASE_URL": server.database_url}


def test_tokens_and_client_commands(server: ServerProc, tmp_path: Path) -> None:
    runner = CliRunner()
    env = store_env(server)
    made = runner.invoke(app, ["token", "create", "carol"], env=env)
    assert made.exit_code == 0, made.output
    carol = made.stdout.strip().splitlines()[-1]
    assert carol.startswith("mst_")
    dave = runner.invoke(app, ["token", "create", "dave"], env=env).stdout.strip().splitlines()[-1]
    listed = runner.invoke(app, ["token", "list"], env={**env, "COLUMNS": "200"})
    assert "carol" in listed.stdout and "dave" in listed.stdout and carol not in listed.stdout

    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"units": 1, "chunk_size": 1}))
    refused = cli("jobs", server=server.url)
    assert refused.returncode == 2 and "MONTESIM_TOKEN" in refused.stderr
    sub = cli("submit", "sleep", str(spec), "--token", carol, server=server.url)
    assert sub.returncode == 0, sub.stderr
    job_id = sub.stdout.strip()
    assert job_id in cli("jobs", "--token", carol, server=server.url).stdout
    # dave neither lists nor cancels carol's job
    assert job_id not in cli("jobs", "--token", dave, server=server.url).stdout
    assert cli("cancel", job_id, "--token", dave, server=server.url).returncode == 2

    revoked = runner.invoke(app, ["token", "revoke", "carol"], env=env)
    assert revoked.exit_code == 0 and "revoked carol" in revoked.stdout
    after = cli("jobs", "--token", carol, server=server.url)
    assert after.returncode == 2 and "401" in after.stderr


def test_serve_refuses_a_public_bind_without_auth(tmp_path: Path) -> None:
    env = {"MONTESIM_DATA_DIR": str(tmp_path), "MONTESIM_AUTH": "none"}
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "1"], env=env)
    assert result.exit_code == 2
    assert "without authentication" in result.output and "--insecure" in result.output
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
