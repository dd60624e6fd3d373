"""deploy/monitoring: the alert rules and the dashboard parse and use metrics that exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

KIT = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
METRIC = re.compile(r"\bmontesim_[a-z_]+")


def rules() -> list[dict]:
    doc = yaml.safe_load((KIT / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    doc = json.loads((KIT / "grafana-dashboard.json").read_text())
    return [t["expr"] for panel in doc["panels"] for t in panel.get("targets", [])]


def test_alert_rules_parse_and_include_the_stall_alert() -> None:
    by_name = {r["alert"]: r for r in rules()}
    stall = by_name["MontesimJobStalled"]
    assert "montesim_job_seconds_since_progress" in stall["expr"]
    assert "montesim_job_stall_threshold_seconds" in stall["expr"]
    assert all({"expr", "labels", "annotations"} <= r.keys() for r in by_name.values())


def test_dashboard_and_alerts_use_exposed_metrics(client: httpx.Client) -> None:
    exposed = {
        line.split("{")[0].split(" ")[0] for line in client.get("/metrics").text.splitlines()
    }
    exposed |= {
        # histogram and counter series names derive from the family
        name
        for line in client.get("/metrics").text.splitlines()
        if line.startswith("# TYPE montesim_")
        for name in [line.split()[2], line.split()[2] + "_total", line.split()[2] + "_bucket"]
    }
    used = {
        m for expr in dashboard_exprs() + [r["expr"] for r in rules()] for m in METRIC.findall(expr)
    }
    assert used, "the kit queries montesim metrics"
    assert used <= exposed, f"not exposed: {sorted(used - exposed)}"


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (apt-get install prometheus)"
)
def test_promtool_checks_and_unit_tests_the_rules() -> None:
    check = subprocess.run(
        ["promtool", "check", "rules", "alerts.yml"], cwd=KIT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    test = subprocess.run(
        ["promtool", "test", "rules", "alerts_test.yml"], cwd=KIT, capture_output=True, text=True
    )
    assert test.returncode == 0, test.stdout + test.stderr
