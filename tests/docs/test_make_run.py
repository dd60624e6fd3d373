"""`make run` serves where the README says: PORT=, MONTESIM_PORT, DATA= (shown with make -n,
which prints the commands without running them)."""

from __future__ import annotations

import os
import subprocess

import pytest
from tests.docs.examples import ROOT


def planned(*args: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("MONTESIM_PORT", "PORT", "DATA")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "run", *args],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    [serve] = [line for line in done.stdout.splitlines() if "montesim serve" in line]
    return serve


@pytest.mark.parametrize(
    ("args", "env", "port", "data"),
    [
        ((), {}, "8000", "data"),
        (("PORT=8123",), {}, "8123", "data"),
        ((), {"MONTESIM_PORT": "9123"}, "9123", "data"),
        (("PORT=8124", "DATA=/tmp/elsewhere"), {"MONTESIM_PORT": "9123"}, "8124", "/tmp/elsewhere"),
    ],
)
def test_make_run_serves_on_the_port_and_data_folder_asked_for(
    args: tuple[str, ...], env: dict[str, str], port: str, data: str
) -> None:
    serve = planned(*args, **env)
    assert serve.endswith(f"montesim serve --port {port}"), serve
    assert serve.startswith(f"MONTESIM_DATA_DIR={data} "), serve
