"""`montesim watch`'s bar: it keeps its width at 100 columns and shows the job's own clock."""

from __future__ import annotations

import io
import re

from rich.console import Console

import montesim.cli as cli

RUNNING = {
    "status": "running",
    "done": 3616,
    "total": 100_000,
    "unit": "iterations",
    "rate": 1234.5,
    "eta_seconds": 80,
    "elapsed_seconds": 3725,  # the job started an hour ago, whenever watch started
    "stage": "simulating",
    "stage_message": "simulating: 3,616 of 3,616 iterations of this chunk " + "x" * 120,
}


def test_bar_survives_a_long_stage_message_at_100_columns(monkeypatch) -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100, color_system=None)
    monkeypatch.setattr(cli, "console", console)
    views = iter([RUNNING, RUNNING, {**RUNNING, "status": "complete", "done": 100_000}])
    cli.follow(lambda: next(views), interval=0.4)  # the bar redraws 10 times a second
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", buf.getvalue())  # one line per redraw
    lines = [line for chunk in text.split("\r") for line in chunk.splitlines() if line.strip()]
    running = [line for line in lines if "running" in line]
    assert running, buf.getvalue()
    assert all(len(line) <= 100 for line in lines)
    last = running[-1]
    assert ("╸" in last or "━" in last) and "3,616/100,000" in last, last
    assert "1:02:05" in last, "the clock counts from the job's start"
    assert "x" * 20 not in last, "the message is cut, not the bar"
