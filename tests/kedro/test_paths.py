"""Catalog path rules in waldo.yml rewrite where datasets live, per environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.projects import chain_project, kedro_run

pytestmark = pytest.mark.slow


def show_latest(root: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(root), "show", "latest", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_rules_rewrite_paths_and_each_env_has_its_own(tmp_path: Path) -> None:
    root = chain_project(
        tmp_path / "proj",
        nodes=2,
        waldo_yml="paths:\n  - from: data/d\n    to: scratch/d\n",
    )
    (root / "conf" / "prod").mkdir()
    (root / "conf" / "prod" / "waldo.yml").write_text(
        "paths:\n  - from: data/d\n    to: shared/d\n"
    )

    assert kedro_run(root).returncode == 0
    assert (root / "scratch" / "d1.csv").exists()
    assert not (root / "data" / "d1.csv").exists()
    rewrites = show_latest(root)["path_rewrites"]
    assert {"dataset": "d0", "from": "data/d0.csv", "to": "scratch/d0.csv"} in rewrites
    assert all(r["dataset"] != "seed" for r in rewrites)  # no rule matches data/seed.csv

    assert kedro_run(root, "--env", "prod").returncode == 0
    assert (root / "shared" / "d1.csv").exists()
    human = subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(root), "show", "latest"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "d1: data/d1.csv -> shared/d1.csv" in human


def test_a_bad_rule_is_one_clear_warning(tmp_path: Path) -> None:
    root = chain_project(tmp_path / "proj", nodes=1, waldo_yml="paths: data/\n")
    result = kedro_run(root)
    assert result.returncode == 0
    output = " ".join((result.stdout + result.stderr).split())
    assert output.count("`paths` must be") == 1  # one warning (rich wraps the rest)
