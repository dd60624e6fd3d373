"""Schema fuzzing (issue 14): schemathesis against a live server's OpenAPI schema.

Every operation gets generated requests (from the schema, plus its coverage phase of
boundary and invalid values) with these checks: no 5xx, status codes and content types
as documented, response bodies matching their schemas, 405 with a correct ``Allow``,
missing or unknown parameters refused. ``positive_data_acceptance`` is left out: a
schema-valid request may still be refused with a 4xx for reasons a schema cannot state
(an uploaded file that is not a workbook, an engine name that is not registered).
A bounded budget (a few examples per operation) keeps it to about a minute.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import ServerProc

SCHEMATHESIS = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")


@pytest.mark.xdist_group("schema-fuzz")
def test_every_operation_survives_schema_fuzzing(tmp_path: Path) -> None:
    if not Path(SCHEMATHESIS).exists():
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    server = ServerProc(tmp_path, "", env={"MONTESIM_MAX_QUEUED_PER_OWNER": "0"}).start()
    try:
        run = subprocess.run(
            [
                SCHEMATHESIS,
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                "3",
                "--workers",
                "1",
                "--seed",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,  # its cache folder goes there, not into the checkout
        )
    finally:
        server.stop()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "passed" in run.stdout and "Fuzzing" in run.stdout
