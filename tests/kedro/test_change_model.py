"""The change model on a real Kedro project: catalog entries, factories, paths, data
branches, ``waldo status`` options and early cutoff (issue 24, items 2 to 6).

One project per backend; the cases run in sequence on it, each starting from the
state the previous one left (every incremental run leaves the project converged).
Each case is judged by which files a real ``kedro run`` rewrites (their mtimes), by
what ``waldo status`` says, and for a few by the reasons in the journal.

The project:  raw.csv -> clean(params:threshold) -> cleaned.csv -> summarize ->
summary.csv, and cleaned -> report -> daily_report (a factory dataset,
``{name}_report``). The pipeline ``publish`` writes two SQL tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.projects import kedro_run
from waldo.journal import History
from waldo.kedro._project import kedro_env, write_project
from waldo.store import Store

pytestmark = pytest.mark.slow

NODES = """
import pandas as pd


def clean(raw, threshold):
    return raw[raw["value"] > threshold].reset_index(drop=True)


def summarize(cleaned):
    return pd.DataFrame({"total": [cleaned["value"].sum()]})


def report(cleaned):
    return cleaned.assign(double=cleaned["value"] * 2)


def publish(summary):
    return summary, summary
"""

REGISTRY = """
from kedro.pipeline import Pipeline, node, pipeline

from {package}.nodes import clean, publish, report, summarize


def register_pipelines() -> dict[str, Pipeline]:
    main = pipeline([
        node(clean, ["raw", "params:threshold"], "cleaned", name="clean", tags=["prep"]),
        node(summarize, "cleaned", "summary", name="summarize", tags=["out"]),
        node(report, "cleaned", "daily_report", name="report", tags=["out"]),
    ])
    out = pipeline([node(publish, "summary", ["published", "published_copy"], name="publish")])
    return {{"__default__": main, "main": main, "publish": out}}
"""

CATALOG = """
raw: {type: pandas.CSVDataset, filepath: data/raw.csv}
cleaned: {type: pandas.CSVDataset, filepath: data/cleaned.csv}
summary: {type: pandas.CSVDataset, filepath: data/summary.csv}
"{name}_report": {type: pandas.CSVDataset, filepath: "data/{name}_report.csv"}
published: {type: pandas.SQLTableDataset, table_name: published, credentials: tables}
published_copy: {type: pandas.SQLTableDataset, table_name: published_copy, credentials: tables}
"""

MAIN = {"clean", "summarize", "report"}

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


class Project:
    """The scenario project: run it, ask ``waldo status``, see which files changed."""

    def __init__(self, root: Path, store_url: str) -> None:
        self.root = root
        self.history = History(Store(store_url))
        self._seen = self.files()

    def files(self) -> dict[str, int]:
        """Every data file (project-relative) and its mtime in nanoseconds."""
        found = {}
        for folder in ("data", "dev"):
            for path in (self.root / folder).rglob("*"):
                if path.is_file():
                    found[path.relative_to(self.root).as_posix()] = path.stat().st_mtime_ns
        return found

    def rewritten(self) -> set[str]:
        """Data files written since the last call (new or with a new mtime)."""
        now = self.files()
        changed = {path for path, mtime in now.items() if self._seen.get(path) != mtime}
        self._seen = now
        return changed

    def run(
        self, *args: str, ok: bool = True, runner: str = "IncrementalRunner"
    ) -> subprocess.CompletedProcess[str]:
        result = kedro_run(self.root, f"--runner=waldo.kedro.{runner}", *args)
        output = result.stdout + result.stderr
        assert (result.returncode == 0) == ok, output[-3000:]
        return result

    def status(self, *args: str) -> dict[str, Any]:
        command = [sys.executable, "-m", "waldo.cli", "-C", str(self.root), "status"]
        done = subprocess.run(
            [*command, *args, "--format", "json"],
            capture_output=True,
            text=True,
            env=kedro_env(),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    def reasons(self) -> dict[str, tuple[str, str | None]]:
        """(status, reason) of each node of the latest run, from the journal."""
        detail = self.history.run_detail("latest")
        return {n.node_name: (n.status, n.reason) for n in detail.nodes}

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new))


def stale(status: dict[str, Any]) -> set[str]:
    return {n["node"] for n in status["nodes"] if n["stale"]}


@pytest.fixture(params=BACKENDS)
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Project:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'journal.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    package = f"cm_{request.param}"
    root = write_project(
        tmp_path / package,
        package,
        nodes_py=NODES,
        registry_py=REGISTRY.format(package=package),
        catalog_yml=CATALOG,
        parameters_yml="threshold: 2\n",
        local_files={
            "data/raw.csv": "value\n1\n5\n9\n",
            "conf/base/waldo.yml": f"store: {url}\n",
            "conf/base/credentials.yml": f"tables:\n  con: sqlite:///{tmp_path / 'tables.db'}\n",
        },
    )
    return Project(root, url)


def test_change_model_scenarios(project: Project) -> None:
    first_run_runs_everything(project)
    catalog_args_change_reruns_writer_and_readers(project)
    filepath_change_reruns_the_writer(project)
    factory_dataset_args_change(project)
    factory_dataset_on_a_branch_leaves_main_untouched(project)
    branch_edit_is_seen_on_the_branch_only(project)
    main_run_after_branch_runs_is_undisturbed(project)
    status_with_params_says_what_the_run_does(project)
    status_takes_kedro_run_selection_options(project)
    early_cutoff_skips_downstream_of_identical_outputs(project)
    factory_dataset_under_paths_with_env(project)
    non_branchable_outputs_stop_a_branch_run(project)
    dolt_branch_is_a_data_branch(project)
    branch_from_git(project)


def first_run_runs_everything(p: Project) -> None:
    p.run()
    assert p.rewritten() == {"data/cleaned.csv", "data/summary.csv", "data/daily_report.csv"}
    assert stale(p.status()) == set(), "a converged project has nothing to run"


def catalog_args_change_reruns_writer_and_readers(p: Project) -> None:
    catalog = "conf/base/catalog.yml"
    p.edit(
        catalog,
        "cleaned: {type: pandas.CSVDataset, filepath: data/cleaned.csv}",
        "cleaned: {type: pandas.CSVDataset, filepath: data/cleaned.csv,"
        ' save_args: {sep: ";"}, load_args: {sep: ";"}}',
    )
    p.run()
    assert p.rewritten() == {"data/cleaned.csv", "data/summary.csv", "data/daily_report.csv"}
    assert ";" not in (p.root / "data/summary.csv").read_text()  # readers used the new sep
    reasons = p.reasons()
    assert reasons["clean"] == ("success", "catalog entry of cleaned changed")
    assert "catalog entry of cleaned changed" in str(reasons["summarize"][1])
    p.run()
    assert p.rewritten() == set(), "catalog args: converged after one run"


def filepath_change_reruns_the_writer(p: Project) -> None:
    p.edit(
        "conf/base/catalog.yml",
        "summary: {type: pandas.CSVDataset, filepath: data/summary.csv}",
        "summary: {type: pandas.CSVDataset, filepath: data/summary_v2.csv}",
    )
    p.run()
    assert p.rewritten() == {"data/summary_v2.csv"}
    assert "catalog entry of summary changed" in str(p.reasons()["summarize"][1])


def factory_dataset_args_change(p: Project) -> None:
    p.edit(
        "conf/base/catalog.yml",
        '"{name}_report": {type: pandas.CSVDataset, filepath: "data/{name}_report.csv"}',
        '"{name}_report": {type: pandas.CSVDataset, filepath: "data/{name}_report.csv",'
        ' save_args: {sep: "|"}}',
    )
    assert stale(p.status()) == {"report"}
    p.run()
    assert p.rewritten() == {"data/daily_report.csv"}
    assert "|" in (p.root / "data/daily_report.csv").read_text()
    assert p.reasons()["report"] == ("success", "catalog entry of daily_report changed")


def factory_dataset_on_a_branch_leaves_main_untouched(p: Project) -> None:
    p.run("--params", "waldo_branch=exp,threshold=0")
    assert p.rewritten() == {
        "data/cleaned@exp.csv",
        "data/summary_v2@exp.csv",
        "data/daily_report@exp.csv",
    }, "a branch run writes branch copies only, the factory dataset's too"
    saves = {d["dataset"]: d for d in p.history.run_detail("latest").datasets}
    stats = saves["daily_report"]["stats"]
    report = json.loads(stats) if isinstance(stats, str) else stats
    on_disk = (p.root / "data/daily_report@exp.csv").stat().st_size
    assert report["bytes"] == on_disk, "a branch save records its real size"
    paths = {v["dataset_name"]: v["path"] for v in p.history.dataset_versions("latest")}
    assert paths["daily_report"].endswith("data/daily_report@exp.csv")


def branch_edit_is_seen_on_the_branch_only(p: Project) -> None:
    branch = ("--params", "waldo_branch=exp,threshold=0")
    assert stale(p.status(*branch)) == set(), "the branch is converged"
    (p.root / "data/raw@exp.csv").write_text("value\n1\n5\n9\n11\n")
    p.rewritten()
    on_branch = p.status(*branch)
    assert on_branch["branch"] == "exp"
    assert stale(on_branch) == MAIN
    clean = next(n for n in on_branch["nodes"] if n["node"] == "clean")
    assert clean["reasons"] == ["input raw changed"]
    assert stale(p.status()) == set(), "main does not see the branch's copy of raw"
    p.run(*branch)
    assert p.rewritten() == {
        "data/cleaned@exp.csv",
        "data/summary_v2@exp.csv",
        "data/daily_report@exp.csv",
    }
    assert "11" in (p.root / "data/cleaned@exp.csv").read_text()


def main_run_after_branch_runs_is_undisturbed(p: Project) -> None:
    p.run()
    assert p.rewritten() == set()
    assert {status for status, _ in p.reasons().values()} == {"skipped"}


def status_with_params_says_what_the_run_does(p: Project) -> None:
    said = p.status("--params", "threshold=5")
    assert stale(said) == MAIN
    clean = next(n for n in said["nodes"] if n["node"] == "clean")
    assert clean["reasons"] == ["parameter threshold changed"]
    assert said["waiting"] == 2  # summarize and report: decided once cleaned is re-made
    p.run("--params", "threshold=5")
    assert p.rewritten() == {"data/cleaned.csv", "data/summary_v2.csv", "data/daily_report.csv"}
    assert stale(p.status("--params", "threshold=5")) == set()


def status_takes_kedro_run_selection_options(p: Project) -> None:
    chosen = p.status("--pipeline", "main", "--tags", "out", "--params", "threshold=1")
    assert {n["node"] for n in chosen["nodes"]} == {"summarize", "report"}
    assert stale(chosen) == set(), "clean is not selected: its output stays as it is"
    upto = p.status("--to-nodes", "summarize", "--params", "threshold=1", "-v")
    assert {n["node"] for n in upto["nodes"]} == {"clean", "summarize"}
    assert stale(upto) == {"clean", "summarize"}
    one = p.status("--nodes", "report", "--from-nodes", "report")
    assert [n["node"] for n in one["nodes"]] == ["report"]
    done = subprocess.run(
        [sys.executable, "-m", "waldo.cli", "-C", str(p.root), "status", "--nodes", "nope"],
        capture_output=True,
        text=True,
        env=kedro_env(),
    )
    assert done.returncode == 2 and "nope" in done.stderr and "Traceback" not in done.stderr


def early_cutoff_skips_downstream_of_identical_outputs(p: Project) -> None:
    p.run("--params", "threshold=6")  # 9 is still the only value above: cleaned is the same
    assert p.rewritten() == {"data/cleaned.csv"}
    reasons = p.reasons()
    assert reasons["clean"] == ("success", "parameter threshold changed")
    assert reasons["summarize"] == ("skipped", "input cleaned re-made, identical")
    assert reasons["report"] == ("skipped", "input cleaned re-made, identical")
    assert stale(p.status("--params", "threshold=6")) == set()
    for runner, threshold in (("IncrementalThreadRunner", 7), ("IncrementalParallelRunner", 8)):
        p.run("--params", f"threshold={threshold}", runner=runner)
        assert p.rewritten() == {"data/cleaned.csv"}, runner
        assert p.reasons()["report"] == ("skipped", "input cleaned re-made, identical"), runner


def factory_dataset_under_paths_with_env(p: Project) -> None:
    (p.root / "conf" / "dev").mkdir()
    (p.root / "conf" / "dev" / "waldo.yml").write_text(
        "paths:\n  - from: data/daily\n    to: dev/daily\n"
    )
    assert stale(p.status("--env", "dev", "--params", "threshold=8")) == {"report"}
    p.run("--env", "dev", "--params", "threshold=8")
    assert p.rewritten() == {"dev/daily_report.csv"}, "the rule applies to the factory dataset"
    rewrites = p.history.run_detail("latest").path_rewrites
    assert rewrites == [
        {"dataset": "daily_report", "from": "data/daily_report.csv", "to": "dev/daily_report.csv"}
    ]


def non_branchable_outputs_stop_a_branch_run(p: Project) -> None:
    result = p.run("--pipeline", "publish", "--params", "waldo_branch=exp", ok=False)
    output = " ".join((result.stdout + result.stderr).split())
    assert "cannot run on data branch exp" in output and "Traceback" not in output
    assert "published (pandas.SQLTableDataset" in output
    assert "published_copy (pandas.SQLTableDataset" in output
    assert not (p.root.parent / "tables.db").exists(), "no node ran"
    (p.root / "conf/base/waldo.yml").write_text(
        (p.root / "conf/base/waldo.yml").read_text() + "branch:\n  shared: [published]\n"
    )
    again = p.run("--pipeline", "publish", "--params", "waldo_branch=exp", ok=False)
    output = " ".join((again.stdout + again.stderr).split())
    assert "published_copy (pandas.SQLTableDataset" in output
    assert "published (pandas" not in output


def dolt_branch_is_a_data_branch(p: Project) -> None:
    said = p.status("--params", "dolt_branch=exp,threshold=0")
    assert said["branch"] == "exp"
    assert stale(said) == set(), "the branch converged under waldo_branch=exp"


def branch_from_git(p: Project) -> None:
    waldo_yml = p.root / "conf/base/waldo.yml"
    waldo_yml.write_text(waldo_yml.read_text().replace("  shared:", "  from: git\n  shared:"))
    git = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "init", "-q", "-b", "feature-x"], cwd=p.root, check=True, env=git)
    assert p.status()["branch"] == "feature-x"
    p.rewritten()
    p.run("--params", "threshold=0")
    assert p.rewritten() == {
        "data/cleaned@feature-x.csv",
        "data/summary_v2@feature-x.csv",
        "data/daily_report@feature-x.csv",
    }
    subprocess.run(["git", "checkout", "-q", "-b", "main"], cwd=p.root, check=True, env=git)
    on_main = p.status("--params", "threshold=8")
    assert on_main["branch"] is None and stale(on_main) == set()
