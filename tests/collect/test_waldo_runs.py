"""Waldo's own runs in the domain layer: one query lists every pipeline run, whatever ran it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.collect._helpers import context, count, query, waldo
from tests.collect._helpers import context as context_json
from tests.collect.test_github import REPO
from tests.collect.test_github import serve as serve_github
from tests.helpers.journal import record_run, recorder_for
from waldo.collect._runner import Runner
from waldo.collect.plugins.github import GitHubActions
from waldo.collect.testing import ContextBuilder, JsonServer
from waldo.journal import Executions
from waldo.store import Store


def test_kedro_runs_become_pipelines_and_nodes_tasks(store_url: str, tmp_path: Path) -> None:
    recorder = recorder_for(store_url, tmp_path)
    record_run(recorder, "run-ok", ("load", "clean", "train"))
    record_run(recorder, "run-bad", ("load", "clean", "train"), fail_at="clean")

    done = waldo("collect", "waldo", "run", context(store_url, connection={}))
    assert done.returncode == 0, done.stderr
    assert "collect runs: 2 records" in done.stdout
    assert query(
        store_url,
        "SELECT id, name, result, status, environment, cicd_scope_id FROM {s}cicd_pipelines "
        "ORDER BY started_date",
    ) == [
        (
            "waldo:WaldoRun:1:run-ok",
            "__default__",
            "SUCCESS",
            "DONE",
            "local",
            "waldo:WaldoProject:1:demo",
        ),
        (
            "waldo:WaldoRun:1:run-bad",
            "__default__",
            "FAILURE",
            "DONE",
            "local",
            "waldo:WaldoProject:1:demo",
        ),
    ]
    assert query(
        store_url,
        "SELECT name, result, status FROM {s}cicd_tasks WHERE pipeline_id = "
        "'waldo:WaldoRun:1:run-bad' ORDER BY started_date",
    ) == [("load", "SUCCESS", "DONE"), ("clean", "FAILURE", "DONE")]
    assert query(store_url, "SELECT count(*) FROM {s}cicd_tasks") == [(5,)]

    # A new run: the next collection picks it up and keeps the old ones.
    record_run(recorder, "run-new", ("load",))
    again = waldo("collect", "waldo", "run", context(store_url, connection={}))
    assert again.returncode == 0, again.stderr
    assert query(store_url, "SELECT count(*) FROM {s}cicd_pipelines") == [(3,)]
    assert query(store_url, "SELECT count(*) FROM {s}cicd_tasks") == [(6,)]
    recorder.close()


def test_one_query_lists_github_and_kedro_runs(json_server: JsonServer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/team.db"
    recorder = recorder_for(db, tmp_path)
    record_run(recorder, "kedro-1", ("load",))
    recorder.close()
    serve_github(json_server)
    github = GitHubActions()
    Runner(
        github,
        ContextBuilder(db_url=db)
        .connection(url=json_server.url, token="ghs_test")
        .scope(REPO)
        .build(github),
    ).run()
    waldo_plugin = __import__(
        "waldo.collect.plugins.waldo_runs", fromlist=["WaldoRuns"]
    ).WaldoRuns()
    Runner(waldo_plugin, ContextBuilder(db_url=db).build(waldo_plugin)).run()

    every_run = query(db, "SELECT id, result FROM cicd_pipelines ORDER BY id")
    assert every_run == [
        ("github:GitHubRun:1:101", "ABORT"),
        ("github:GitHubRun:1:102", "FAILURE"),
        ("github:GitHubRun:1:103", None),
        ("waldo:WaldoRun:1:kedro-1", "SUCCESS"),
    ]


def test_each_run_is_one_raw_row_however_often_collected(store_url: str, tmp_path: Path) -> None:
    """A run is collected once, when it has finished: no duplicate raw rows."""
    recorder = recorder_for(store_url, tmp_path)
    record_run(recorder, "run-1", ("load",))
    record_run(recorder, "run-2", ("load",))
    recorder.close()
    executions = Executions(Store(store_url))
    nightly = executions.init_execution(name="nightly")  # still running

    def collect() -> None:
        done = waldo("collect", "waldo", "run", context(store_url, connection={}))
        assert done.returncode == 0, done.stderr

    collect()
    collect()
    assert count(store_url, "_raw_waldo_runs") == 2  # the running execution waits
    executions.complete_execution(nightly)
    collect()
    collect()
    assert count(store_url, "_raw_waldo_runs") == 3
    assert query(
        store_url,
        "SELECT name, type, result FROM {s}cicd_pipelines WHERE id = :id",
        id=f"waldo:WaldoRun:1:{nightly}",
    ) == [("nightly", "dpo", "SUCCESS")]  # the execution's name
    assert count(store_url, "cicd_pipelines") == 3


def test_waldo_runs_lists_collected_runs_with_their_kind(
    json_server: JsonServer, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path}/team.db"
    recorder = recorder_for(db, tmp_path)
    record_run(recorder, "kedro-1", ("load",))
    recorder.close()
    nightly = Executions(Store(db)).init_execution(name="nightly")
    serve_github(json_server)
    github = GitHubActions()
    context = (
        ContextBuilder(db_url=db)
        .connection(url=json_server.url, token="ghs_test")
        .scope(REPO)
        .build(github)
    )
    Runner(github, context).run(["workflow_runs", "jobs"])
    assert waldo("collect", "waldo", "run", context_json(db, connection={})).returncode == 0

    listed = waldo("--db", db, "runs", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    kinds = {(r["run_id"], r["kind"]) for r in json.loads(listed.stdout)}
    assert kinds == {
        ("kedro-1", "kedro"),
        (nightly, "dpo"),
        ("github:GitHubRun:1:101", "collected"),
        ("github:GitHubRun:1:102", "collected"),
        ("github:GitHubRun:1:103", "collected"),
    }  # the waldo collector's copies of Waldo's own runs are not listed twice
    failed = waldo(
        "--db", db, "runs", "--kind", "collected", "--status", "failed", "--format", "json"
    )
    assert [(r["run_id"], r["nodes_ok"], r["nodes_failed"]) for r in json.loads(failed.stdout)] == [
        ("github:GitHubRun:1:102", 1, 1)
    ]
    table = waldo("--db", db, "runs", "--kind", "dpo")
    assert "kind" in table.stdout and "nightly" in table.stdout and "kedro-1" not in table.stdout
