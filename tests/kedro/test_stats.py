"""Dataset statistics after each save, stored per dataset version and shown by waldo show."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.projects import chain_project, kedro_run

pytestmark = pytest.mark.slow


def written(root: Path) -> dict[str, dict]:
    out = subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(root), "show", "latest", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    return {d["dataset"]: d for d in json.loads(out.stdout)["datasets_written"]}


def test_saves_record_table_statistics_and_file_size(tmp_path: Path) -> None:
    root = chain_project(tmp_path / "proj", nodes=2)
    assert kedro_run(root).returncode == 0
    d1 = written(root)["d1"]
    stats = d1["stats"]
    assert stats["rows"] == 3 and stats["columns"] == 2
    assert stats["schema"] == {"id": "int64", "value": "float64"}
    assert stats["nulls"] == {"id": 0, "value": 0}
    # seed values 1, 2, 3 -> step_0: x*2+0 -> step_1: x*2+1
    assert stats["min_max"]["value"] == {"min": 5.0, "max": 13.0}
    assert stats["bytes"] == (root / "data" / "d1.csv").stat().st_size
    assert d1["node"] == "step_1" and d1["version"]


def test_statistics_can_be_sampled_or_turned_off(tmp_path: Path) -> None:
    sampled = chain_project(tmp_path / "a", nodes=1, waldo_yml="stats:\n  max_rows: 2\n")
    assert kedro_run(sampled).returncode == 0
    stats = written(sampled)["d0"]["stats"]
    assert stats["sampled"] is True and stats["rows"] == 3 and stats["sample_rows"] == 2

    off = chain_project(tmp_path / "b", nodes=1, waldo_yml="stats: false\n")
    assert kedro_run(off).returncode == 0
    assert written(off)["d0"]["stats"] is None
