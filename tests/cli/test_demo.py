"""``waldo demo``: the README's first quick-start command, and the outlier example."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def waldo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "waldo.cli", *args], cwd=cwd, capture_output=True, text=True
    )


def test_demo_creates_a_project_runs_it_twice_and_shows_the_runs(tmp_path: Path) -> None:
    out = waldo("demo", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Waldo runs" in out.stdout and "Next: cd waldo-demo" in out.stdout
    runs = json.loads(waldo("-C", "waldo-demo", "runs", "--format", "json", cwd=tmp_path).stdout)
    assert [r["status"] for r in runs] == ["success", "success"]
    again = waldo("demo", cwd=tmp_path)  # the folder exists: say so, change nothing
    assert again.returncode == 2
    assert again.stderr.strip() == "error: waldo-demo already exists; pass --force to replace it."


def test_outlier_example_compares_three_detectors(tmp_path: Path) -> None:
    out = waldo("demo", "--example", "outliers", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Results compared" in out.stdout
    for name in ("isolation_forest", "elliptic_envelope", "local_outlier_factor"):
        assert name in out.stdout
    top = waldo("-C", "waldo-outliers", "results", "top", "lof", cwd=tmp_path)
    assert top.returncode == 2  # an algorithm that never ran: one line, exit 2
    assert top.stderr.startswith("error: No results of algorithm 'lof'")
