"""Start-up stays light: the CLI does not import SciPy or httpx until a command needs it."""

from __future__ import annotations

import subprocess
import sys

from scipy import special

from montesim.engines.risktree.severity import Z95


def test_cli_import_does_not_load_scipy_httpx_or_the_engines() -> None:
    code = (
        "import sys, montesim.cli; "
        "print(sorted(m for m in sys.modules if m in ('scipy', 'httpx') or m.startswith('montesim.engines.risktree')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_z95_literal_is_scipys_value() -> None:
    assert float(special.ndtri(0.95)) == Z95
