"""Incremental runs on a real Kedro project: the scenario table of issue 3.

One project for the module. Each scenario changes one thing, runs
``kedro run --runner=waldo.kedro.IncrementalRunner`` and checks exactly which nodes
ran and which were skipped, then puts the project back and converges again.

The project:  raw.csv -> clean(params:threshold) -> cleaned.csv -> enrich -> enriched
(in memory) -> summarize -> summary.csv ; raw2.csv -> side -> side.csv.
Pipelines: __default__ (all four), main (clean, enrich, summarize), shared (clean, side).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.projects import kedro_run
from waldo.kedro._project import kedro_env, write_project

pytestmark = pytest.mark.slow

NODES = '''
"""Scenario nodes."""

import pandas as pd


def clean(raw: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Keep rows above the threshold."""
    # keep the big ones
    return raw[raw["value"] > threshold].reset_index(drop=True)


def enrich(cleaned: pd.DataFrame) -> pd.DataFrame:
    out = cleaned.copy()
    out["double"] = out["value"] * 2
    return out


def summarize(enriched: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"total": [enriched["double"].sum()]})


def side(raw2: pd.DataFrame) -> pd.DataFrame:
    return raw2.assign(flag=True)
'''

REGISTRY = """
from kedro.pipeline import Pipeline, node, pipeline

from scen.nodes import clean, enrich, side, summarize


def register_pipelines() -> dict[str, Pipeline]:
    n_clean = node(clean, ["raw", "params:threshold"], "cleaned", name="clean")
    n_enrich = node(enrich, "cleaned", "enriched", name="enrich")
    n_summarize = node(summarize, "enriched", "summary", name="summarize")
    n_side = node(side, "raw2", "side_out", name="side")
    return {
        "__default__": pipeline([n_clean, n_enrich, n_summarize, n_side]),
        "main": pipeline([n_clean, n_enrich, n_summarize]),
        "shared": pipeline([n_clean, n_side]),
    }
"""

CATALOG = """
raw: {type: pandas.CSVDataset, filepath: data/raw.csv}
raw2: {type: pandas.CSVDataset, filepath: data/raw2.csv}
cleaned: {type: pandas.CSVDataset, filepath: data/cleaned.csv}
summary: {type: pandas.CSVDataset, filepath: data/summary.csv}
side_out: {type: pandas.CSVDataset, filepath: data/side.csv}
"""

RAW = "value\n1\n5\n9\n"
RAW2 = "id\n1\n2\n"
ALL = {"clean", "enrich", "summarize", "side"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = write_project(
        tmp_path_factory.mktemp("incremental") / "scen",
        "scen",
        nodes_py=NODES,
        registry_py=REGISTRY,
        catalog_yml=CATALOG,
        parameters_yml="threshold: 2\n",
        local_files={"data/raw.csv": RAW, "data/raw2.csv": RAW2},
    )
    pristine = tmp_path_factory.mktemp("pristine")
    shutil.copytree(root / "src", pristine / "src")
    shutil.copytree(root / "conf", pristine / "conf")
    root.joinpath("pristine").write_text(str(pristine))
    first = incremental(root)
    assert first == (ALL, set()), "the first run runs everything"
    yield root


def restore(root: Path) -> None:
    pristine = Path(root.joinpath("pristine").read_text())
    for folder in ("src", "conf"):
        shutil.rmtree(root / folder)
        shutil.copytree(pristine / folder, root / folder)
    (root / "data" / "raw.csv").write_text(RAW)
    (root / "data" / "raw2.csv").write_text(RAW2)


def last_run(root: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(root), "show", "latest", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def incremental(root: Path, *args: str) -> tuple[set[str], set[str]]:
    """Run incrementally; return (nodes that ran, nodes skipped)."""
    result = kedro_run(root, "--runner=waldo.kedro.IncrementalRunner", *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    run = last_run(root)
    ran = {n["node_name"] for n in run["nodes"] if n["status"] == "success"}
    skipped = {n["node_name"] for n in run["nodes"] if n["status"] == "skipped"}
    return ran, skipped


@pytest.fixture
def scenario(project: Path) -> Iterator[Path]:
    assert incremental(project) == (set(), ALL), "the project starts converged"
    yield project
    restore(project)
    incremental(project)


def reasons_of(root: Path) -> dict[str, str]:
    """Why each node of the last run ran (skipped nodes left out)."""
    nodes = last_run(root)["nodes"]
    return {n["node_name"]: n["reason"] for n in nodes if n["status"] != "skipped"}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def nodes_py(root: Path) -> Path:
    return root / "src" / "scen" / "nodes.py"


def test_comment_and_docstring_edit_runs_nothing(scenario: Path) -> None:
    edit(nodes_py(scenario), "# keep the big ones", "# keep only the big ones, says the comment")
    edit(nodes_py(scenario), '"""Keep rows above the threshold."""', '"""Rows above it."""')
    assert incremental(scenario) == (set(), ALL)


def test_logic_edit_runs_node_and_downstream(scenario: Path) -> None:
    edit(nodes_py(scenario), 'out["value"] * 2', 'out["value"] * 3')
    ran, skipped = incremental(scenario)
    # enrich changed; summarize reads its in-memory output
    assert ran == {"enrich", "summarize"}
    assert skipped == {"clean", "side"}


def test_downstream_logic_edit_pulls_in_memory_producer(scenario: Path) -> None:
    edit(
        nodes_py(scenario),
        '"total": [enriched["double"].sum()]',
        '"total": [enriched["double"].max()]',
    )
    ran, _ = incremental(scenario)
    assert ran == {"summarize", "enrich"}  # enrich's output lives only in memory
    detail = last_run(scenario)
    reasons = {n["node_name"]: n["reason"] for n in detail["nodes"]}
    assert "in-memory output enriched" in reasons["enrich"]
    assert "code changed" in reasons["summarize"]


def test_parameter_change(scenario: Path) -> None:
    ran, skipped = incremental(scenario, "--params=threshold=4")
    assert ran == {"clean", "enrich", "summarize"}
    assert skipped == {"side"}
    reasons = {n["node_name"]: n["reason"] for n in last_run(scenario)["nodes"]}
    assert "parameter threshold changed" in reasons["clean"]


def test_input_file_edited(scenario: Path) -> None:
    (scenario / "data" / "raw2.csv").write_text("id\n1\n2\n3\n")
    assert incremental(scenario) == ({"side"}, {"clean", "enrich", "summarize"})
    assert reasons_of(scenario) == {"side": "input raw2 changed"}


def status_reasons(root: Path) -> dict[str, list[str]]:
    """What ``waldo status`` says would run, and why."""
    out = subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(root), "status", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {n["node"]: n["reasons"] for n in json.loads(out.stdout)["nodes"] if n["stale"]}


def test_input_file_deleted_is_named_as_missing(scenario: Path) -> None:
    (scenario / "data" / "raw2.csv").unlink()
    assert status_reasons(scenario) == {"side": ["input raw2 is missing"]}


def test_output_deleted(scenario: Path) -> None:
    (scenario / "data" / "side.csv").unlink()
    assert incremental(scenario) == ({"side"}, {"clean", "enrich", "summarize"})
    assert reasons_of(scenario) == {"side": "output side_out is missing"}


def test_output_edited_by_hand(scenario: Path) -> None:
    (scenario / "data" / "summary.csv").write_text("total\n0\n")
    ran, _ = incremental(scenario)
    assert ran == {"summarize", "enrich"}
    reasons = reasons_of(scenario)
    assert reasons["summarize"] == "output summary was modified outside the pipeline"
    assert reasons["enrich"] == "its in-memory output enriched is needed by node summarize"


def test_new_node(scenario: Path) -> None:
    edit(
        nodes_py(scenario),
        "def side(",
        "def extra(summary):\n    return summary\n\n\ndef side(",
    )
    registry = scenario / "src" / "scen" / "pipeline_registry.py"
    edit(
        registry,
        "import clean, enrich, side, summarize",
        "import clean, enrich, extra, side, summarize",
    )
    edit(
        registry,
        "pipeline([n_clean, n_enrich, n_summarize, n_side])",
        "pipeline([n_clean, n_enrich, n_summarize, n_side, "
        'node(extra, "summary", "extra_out", name="extra")])',
    )
    ran, skipped = incremental(scenario)
    assert ran == {"extra"}
    assert skipped == ALL


def test_renamed_node(scenario: Path) -> None:
    registry = scenario / "src" / "scen" / "pipeline_registry.py"
    edit(registry, 'name="side"', 'name="side_renamed"')
    ran, skipped = incremental(scenario)
    assert ran == {"side_renamed"}
    assert skipped == {"clean", "enrich", "summarize"}


def test_failed_previous_run(scenario: Path) -> None:
    edit(
        nodes_py(scenario),
        "    out = cleaned.copy()",
        '    raise RuntimeError("boom")\n    out = cleaned.copy()',
    )
    edit(nodes_py(scenario), 'out["value"] * 2', 'out["value"] * 5')
    failed = kedro_run(scenario, "--runner=waldo.kedro.IncrementalRunner")
    assert failed.returncode != 0
    edit(nodes_py(scenario), '    raise RuntimeError("boom")\n', "")
    ran, skipped = incremental(scenario)
    assert ran == {"enrich", "summarize"}
    assert skipped == {"clean", "side"}


def test_two_pipelines_sharing_nodes(scenario: Path) -> None:
    ran, skipped = incremental(scenario, "--pipeline=shared", "--params=threshold=6")
    assert ran == {"clean"}
    assert skipped == {"side"}
    ran, skipped = incremental(scenario, "--pipeline=main", "--params=threshold=6")
    assert ran == {"enrich", "summarize"}  # clean already ran with threshold 6
    assert skipped == {"clean"}


def waldo_json(root: Path, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(root), *args, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_status_says_what_would_run_and_why(scenario: Path) -> None:
    fresh = waldo_json(scenario, "status")
    assert fresh["to_run"] == 0
    assert {n["node"] for n in fresh["nodes"]} == ALL
    edit(nodes_py(scenario), 'out["value"] * 2', 'out["value"] * 7')
    (scenario / "data" / "side.csv").unlink()
    stale = {n["node"]: n for n in waldo_json(scenario, "status")["nodes"]}
    assert stale["enrich"]["stale"]
    assert stale["enrich"]["reasons"] == ["code changed (function scen.nodes.enrich)"]
    assert stale["summarize"]["reasons"] == [
        "upstream will change (input enriched from node enrich)"
    ]
    assert stale["side"]["reasons"] == ["output side_out is missing"]
    assert not stale["clean"]["stale"]
    main_only = waldo_json(scenario, "status", "--pipeline", "main")
    assert {n["node"] for n in main_only["nodes"]} == {"clean", "enrich", "summarize"}


def test_diff_between_two_runs(scenario: Path) -> None:
    before = last_run(scenario)["run_id"]
    edit(nodes_py(scenario), 'out["value"] * 2', 'out["value"] * 9')
    incremental(scenario, "--params=threshold=1")
    after = last_run(scenario)["run_id"]
    result = waldo_json(scenario, "diff", before, after)
    assert {"name": "threshold", "a": None, "b": 1} in result["params"]
    nodes = {n["node"]: n for n in result["nodes"]}
    assert "code changed" in nodes["enrich"]["details"]
    assert "parameter threshold changed" in nodes["clean"]["details"]
    assert "status skipped -> success" in nodes["clean"]["details"]
    assert nodes["side"]["change"] == "same"  # skipped both times, nothing differs
    assert (nodes["side"]["status_a"], nodes["side"]["status_b"]) == ("skipped", "skipped")


def test_waldo_run_is_an_incremental_kedro_run_with_its_options(scenario: Path) -> None:
    edit(nodes_py(scenario), "return raw2.assign(flag=True)", "return raw2.assign(flag=False)")
    done = subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(scenario), "run", "--pipeline", "shared"],
        capture_output=True,
        text=True,
        env={**kedro_env(), "PYTHONUNBUFFERED": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "waldo: 1 of 2 nodes to run" in done.stdout + done.stderr
    run = last_run(scenario)
    assert run["pipeline_names"] == ["shared"]
    assert {n["node_name"]: n["status"] for n in run["nodes"]} == {
        "clean": "skipped",
        "side": "success",
    }


@pytest.mark.parametrize(
    "runner", ["waldo.kedro.IncrementalThreadRunner", "waldo.kedro.IncrementalParallelRunner"]
)
def test_thread_and_parallel_variants_skip_the_same_nodes(scenario: Path, runner: str) -> None:
    edit(nodes_py(scenario), 'out["value"] * 2', 'out["value"] * 4')
    result = kedro_run(scenario, f"--runner={runner}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    nodes = {n["node_name"]: n["status"] for n in last_run(scenario)["nodes"]}
    assert nodes == {
        "clean": "skipped",
        "side": "skipped",
        "enrich": "success",
        "summarize": "success",
    }
