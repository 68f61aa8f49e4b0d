"""``python -m bench`` end to end on a tiny input: every measurement runs on private stacks
and prints its figures. Benchmarks are commands, not tests: this checks they work, never
how fast anything is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_every_measurement_runs_on_a_tiny_input_and_prints_its_figures(
    tmp_path: Path,
) -> None:
    if os.environ.get("BASE_URL"):
        pytest.skip("the bench starts private stacks; BASE_URL runs are for the API tests")
    out, page = tmp_path / "results.json", tmp_path / "benchmarks.md"
    tiny = [
        "--documents", "6", "--questions", "3", "--search-chunks", "40",
        "--memory-chunks", "20,40", "--load-seconds", "3", "--load-clients", "4",
        "--json", str(out), "--docs", str(page),
    ]  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-m", "bench", *tiny],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    printed = run.stdout
    for row in (
        "ingest: chunks/s",
        "ingest: naive reference",
        "search: hybrid c=1 p50",
        "search: hybrid c=32 p99",
        "search: keyword c=1 p50",
        "search: keyword c=32 p99",
        "search: dense c=1 p50",
        "memory: peak RSS growth per 1k chunks",
        "ask: p50",
        "load: errors (must be 0)",
    ):
        assert row in printed, f"{row!r} missing from:\n{printed}"
    results = {result["name"]: result for result in json.loads(out.read_text())["results"]}
    assert set(results) == {"ingest", "search", "memory", "ask", "load"}
    search = {metric["name"]: metric for metric in results["search"]["metrics"]}
    assert search["hybrid c=1 p50"]["raw"] > 0 and search["dense c=1 p50"]["raw"] > 0
    assert search["keyword c=1 p50"]["raw"] > 0
    assert results["search"]["params"]["chunks"] == 40
    load = {metric["name"]: metric["value"] for metric in results["load"]["metrics"]}
    assert load["errors (must be 0)"] == 0
    assert "| search: hybrid c=1 p50 (ms) |" in page.read_text()
