"""Versioned tables with Dolt on a real Kedro project: commits, diffs, branches, failures.

One project for the module; the tests run in order and build on each other's runs.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from waldo.kedro._project import kedro_env, kedro_run, write_project

# find_spec, not importorskip: importing doltlite here (after sqlite3) would re-exec pytest
if importlib.util.find_spec("doltlite") is None:
    pytest.skip("needs waldo[dolt] (doltlite)", allow_module_level=True)

pytestmark = pytest.mark.slow

NODES_PY = """
import pandas as pd


def make_prices(start, stop, factor):
    ids = list(range(start, stop + 1))
    prices = [i * 10 * (factor if i == 2 else 1) for i in ids]
    return pd.DataFrame({"id": ids, "price": prices, "name": [f"item{i}" for i in ids]})


def summarise(prices, seed, fail):
    if fail:
        raise ValueError("summarise failed on purpose")
    total = float(prices["price"].sum()) + float(seed["offset"].sum())
    return pd.DataFrame({"total": [total]})
"""

REGISTRY_PY = """
from kedro.pipeline import Pipeline, node

from dolt_proj.nodes import make_prices, summarise


def register_pipelines():
    pipe = Pipeline([
        node(make_prices, ["params:start", "params:stop", "params:factor"], "prices",
             name="make_prices"),
        node(summarise, ["prices", "seed", "params:fail"], "summary", name="summarise"),
    ])
    return {"__default__": pipe}
"""

CATALOG_YML = """
prices:
  type: waldo.kedro.DoltTableDataset
  table_name: prices
  primary_key: [id]

seed:
  type: pandas.CSVDataset
  filepath: data/seed.csv

summary:
  type: pandas.CSVDataset
  filepath: data/summary.csv
"""

PARAMETERS_YML = """
start: 1
stop: 5
factor: 1
fail: false
"""


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project after two runs on main (two Dolt commits); tests work on copies."""
    root = tmp_path_factory.mktemp("dolt") / "dolt_proj"
    write_project(
        root,
        "dolt_proj",
        nodes_py=NODES_PY,
        registry_py=REGISTRY_PY,
        catalog_yml=CATALOG_YML,
        parameters_yml=PARAMETERS_YML,
        local_files={"conf/base/waldo.yml": "dolt:\n  database: data/warehouse.db\n"},
    )
    (root / "data").mkdir()
    (root / "data" / "seed.csv").write_text("offset\n1\n")
    for params in ("start=1,stop=5,factor=1", "start=2,stop=6,factor=3"):
        result = run(root, params)
        assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def project(two_runs: Path, tmp_path: Path) -> Path:
    """A copy of the project after its two runs, for one test to change as it likes."""
    return Path(shutil.copytree(two_runs, tmp_path / "dolt_proj"))


def run(root: Path, params: str) -> subprocess.CompletedProcess[str]:
    result = kedro_run(root, "--params", params)
    return result


def waldo(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(root), *args],
        env=kedro_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def waldo_json(root: Path, *args: str) -> Any:
    result = waldo(root, *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def run_ids(root: Path) -> list[str]:
    """Run ids, oldest first."""
    return [r["run_id"] for r in reversed(waldo_json(root, "runs"))]


def test_two_runs_two_commits_and_an_exact_row_diff(project: Path) -> None:
    log = waldo_json(project, "data", "log", "prices")
    assert len(log) == 2
    ids = run_ids(project)
    assert ids[1] in log[0]["message"] and "factor" in log[0]["message"]
    assert ids[0] in log[1]["message"]

    diff = waldo_json(project, "data", "diff", "prices", "--from", ids[0], "--to", ids[1])
    assert diff["from"] == log[1]["commit_hash"] and diff["to"] == log[0]["commit_hash"]
    assert diff["added"] == [{"id": 6, "price": 60, "name": "item6"}]
    assert diff["removed"] == [{"id": 1, "price": 10, "name": "item1"}]
    assert diff["modified"] == [{"key": {"id": 2}, "changes": {"price": {"old": 20, "new": 60}}}]

    # commits work as well as run ids, and the table output names the change
    text = waldo(
        project, "data", "diff", "prices", "--from", log[1]["commit_hash"][:10], "--to", "main"
    )
    assert text.returncode == 0, text.stderr
    assert "+1 -1 ~1" in text.stdout and "modified" in text.stdout


def test_a_run_that_changes_nothing_commits_nothing(project: Path) -> None:
    again = run(project, "start=2,stop=6,factor=3")
    assert again.returncode == 0, again.stderr
    assert len(waldo_json(project, "data", "log", "prices")) == 2
    unchanged = run_ids(project)[-1]
    result = waldo(project, "data", "diff", "prices", "--from", unchanged, "--to", "main")
    assert result.returncode == 2
    assert "made no Dolt commit" in result.stderr and "Traceback" not in result.stderr


def test_a_branch_run_leaves_main_untouched(project: Path) -> None:
    main_before = waldo_json(project, "data", "log", "prices")
    result = run(project, "waldo_branch=experiment,start=2,stop=6,factor=5")
    assert result.returncode == 0, result.stderr

    assert waldo_json(project, "data", "log", "prices") == main_before
    branches = {b["name"]: b for b in waldo_json(project, "data", "branches")}
    assert set(branches) == {"main", "experiment"}
    assert branches["main"]["hash"] == main_before[0]["commit_hash"]
    on_branch = waldo_json(project, "data", "log", "prices", "--branch", "experiment")
    assert len(on_branch) == 3

    diff = waldo_json(project, "data", "diff", "prices", "--from", "main", "--to", "experiment")
    assert diff["added"] == [] and diff["removed"] == []
    assert diff["modified"] == [{"key": {"id": 2}, "changes": {"price": {"old": 60, "new": 100}}}]

    # branch-local files: the save went to the branch copy, the load of seed (no branch
    # copy) read the main file, and main's summary is untouched
    data = project / "data"
    assert (data / "summary@experiment.csv").read_text() == "total\n281.0\n"
    assert (data / "summary.csv").read_text() == "total\n241.0\n"
    assert not (data / "seed@experiment.csv").exists()

    # the next run without a branch is on main again
    back = run(project, "start=2,stop=6,factor=3")
    assert back.returncode == 0, back.stderr
    assert waldo_json(project, "data", "log", "prices") == main_before


def test_a_failed_run_commits_nothing(project: Path) -> None:
    before = waldo_json(project, "data", "log", "prices")
    failed = run(project, "start=2,stop=6,factor=7,fail=true")
    assert failed.returncode != 0
    assert waldo_json(project, "data", "log", "prices") == before
    failed_on_branch = run(project, "waldo_branch=broken,start=2,stop=6,factor=9,fail=true")
    assert failed_on_branch.returncode != 0
    assert waldo_json(project, "data", "log", "prices") == before
    branches = {b["name"]: b["hash"] for b in waldo_json(project, "data", "branches")}
    assert branches["broken"] == branches["main"]  # created, nothing committed on it
    # the saved table stays in the working set, uncommitted: a later good run commits it
    good = run(project, "start=2,stop=6,factor=7")
    assert good.returncode == 0, good.stderr
    after = waldo_json(project, "data", "log", "prices")
    assert len(after) == len(before) + 1


def test_unknown_refs_and_missing_config_are_one_line_errors(project: Path, tmp_path: Path) -> None:
    bad = waldo(project, "data", "diff", "prices", "--from", "nope", "--to", "main")
    assert bad.returncode != 0
    assert "nope" in bad.stderr and "Traceback" not in bad.stderr
    (tmp_path / "conf" / "base").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[tool.kedro]\npackage_name='x'\n")
    missing = waldo(tmp_path, "data", "branches")
    assert missing.returncode == 2
    assert "dolt:" in missing.stderr and "Traceback" not in missing.stderr
