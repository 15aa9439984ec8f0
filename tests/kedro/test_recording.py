"""A real ``kedro run`` on SQLite records runs, nodes, events and snapshots.

One project, a git repository, run twice: first from a clean commit with ``--params``,
then after editing a tracked file (dirty tree, same catalog and pipeline).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kedro
import pytest

from tests.helpers.projects import chain_project
from tests.kedro._e2e import (
    event_counts,
    expected_events,
    git,
    journal_at,
    output_of,
    run_kedro,
    waldo_json,
    waldo_warnings,
)
from waldo.journal import Journal
from waldo.journal._model import current_user
from waldo.store import schema

pytestmark = pytest.mark.slow

NODES = 3
SECRETS = ("TigerPw-5512", "InlinePw-7731", "TokenXyz-9904", "InlineCon-4410")

EXTRA_CATALOG = """
warehouse:
  type: pandas.SQLQueryDataset
  sql: select 1
  credentials: warehouse_creds

inline_db:
  type: pandas.SQLTableDataset
  table_name: orders
  credentials:
    con: postgresql://bob:InlineCon-4410@db.example.com/sales

remote_csv:
  type: pandas.CSVDataset
  filepath: data/remote.csv
  metadata:
    source: https://alice:InlinePw-7731@files.example.com/remote.csv
"""

CREDENTIALS = """
warehouse_creds:
  con: postgresql://scott:TigerPw-5512@db.example.com:5432/sales
api:
  token: TokenXyz-9904
"""


@dataclass
class Recorded:
    root: Path
    journal: Journal
    clean_run: str
    dirty_run: str
    head: str
    outputs: list[str]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    root = chain_project(tmp_path_factory.mktemp("rec") / "shop", nodes=NODES)
    with open(root / "conf" / "base" / "catalog.yml", "a") as handle:
        handle.write(EXTRA_CATALOG)
    (root / "conf" / "local" / "credentials.yml").write_text(CREDENTIALS)
    (root / "README.md").write_text("# shop\n")
    (root / ".gitignore").write_text(".waldo/\ndata/d*.csv\nconf/local/\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    head = git(root, "rev-parse", "HEAD")

    outputs = []
    first = run_kedro(root, "run", "--params", "factor=3")
    assert first.returncode == 0, output_of(first)
    outputs.append(output_of(first))
    journal = journal_at(root)
    clean_run = journal.history.resolve_run_id("latest")

    with open(root / "README.md", "a") as handle:
        handle.write("A local edit makes the tree dirty.\n")
    second = run_kedro(root, "run")
    assert second.returncode == 0, output_of(second)
    outputs.append(output_of(second))
    dirty_run = journal.history.resolve_run_id("latest")
    assert dirty_run != clean_run
    return Recorded(root, journal, clean_run, dirty_run, head, outputs)


def test_runs_record_quietly(recorded: Recorded) -> None:
    for output in recorded.outputs:
        assert waldo_warnings(output) == []
    assert (recorded.root / ".waldo" / "waldo.db").is_file()
    assert not list((recorded.root / ".waldo").glob("spool/*.jsonl"))


def test_run_row(recorded: Recorded) -> None:
    journal = recorded.journal
    row = journal.store.run(lambda conn: conn.execute(schema.runs.select()).mappings().all())
    by_id = {r["run_id"]: r for r in row}
    assert set(by_id) == {recorded.clean_run, recorded.dirty_run}
    clean = by_id[recorded.clean_run]
    # run_id is the Kedro session id: a timestamp like 2026-11-22T23.50.53.953Z
    assert clean["run_id"].endswith("Z") and clean["run_id"][:2] == "20"
    assert clean["kind"] == "kedro"
    assert clean["pipeline_names"] == ["__default__"]
    assert clean["env"] == "local"
    assert clean["runtime_params"] == {"factor": 3}
    assert clean["kedro_version"] == kedro.__version__
    assert clean["git_sha"] == recorded.head
    assert clean["git_dirty"] is False
    assert clean["user_name"] == current_user()
    assert clean["host"] == socket.gethostname()
    assert clean["pid"] and clean["pid"] != os.getpid()
    assert clean["runner"] == "SequentialRunner"
    assert clean["status"] == "success"
    assert clean["started_at"] <= clean["finished_at"]
    assert clean["error_type"] is None and clean["traceback"] is None

    dirty = by_id[recorded.dirty_run]
    assert dirty["git_sha"] == recorded.head
    assert dirty["git_dirty"] is True
    assert dirty["runtime_params"] == {}
    assert dirty["started_at"] >= clean["finished_at"]


def test_node_rows(recorded: Recorded) -> None:
    detail = recorded.journal.history.run_detail(recorded.clean_run)
    assert [n.node_name for n in detail.nodes] == [f"step_{i}" for i in range(NODES)]
    previous_end = detail.summary.started_at
    for index, node in enumerate(detail.nodes):
        assert node.status == "success"
        assert node.func_name == "chain_proj.nodes.step"
        source = "seed" if index == 0 else f"d{index - 1}"
        assert set(node.inputs) == {source, "params:factor"}
        assert set(node.outputs) == {f"d{index}"}
        assert all(
            v is not None and v >= 0 for v in (*node.inputs.values(), *node.outputs.values())
        )
        assert node.started_at is not None and node.finished_at is not None
        assert previous_end is not None and previous_end <= node.started_at <= node.finished_at
        assert node.duration_s is not None and node.duration_s >= 0
        assert node.error_type is None
        previous_end = node.finished_at
    assert detail.summary.finished_at is not None and previous_end <= detail.summary.finished_at
    assert (detail.summary.nodes_ok, detail.summary.nodes_failed) == (NODES, 0)


def test_events(recorded: Recorded) -> None:
    for run_id in (recorded.clean_run, recorded.dirty_run):
        assert event_counts(recorded.journal, run_id) == expected_events(NODES)
        events = recorded.journal.history.events(run_id)
        assert all(len(e["target_id"]) == 8 for e in events)
        by_type: dict[str, list[str]] = {}
        for e in events:
            by_type.setdefault(e["event_type"], []).append(e["target_name"])
        nodes = sorted(f"step_{i}" for i in range(NODES))
        assert sorted(by_type["before_node_run"]) == nodes
        assert sorted(by_type["after_node_run"]) == nodes
        assert sorted(by_type["after_dataset_saved"]) == [f"d{i}" for i in range(NODES)]
        loaded = ["seed", *(f"d{i}" for i in range(NODES - 1)), *["params:factor"] * NODES]
        assert sorted(by_type["before_dataset_loaded"]) == sorted(loaded)
        assert sorted(by_type["after_dataset_loaded"]) == sorted(loaded)
        durations = [e["duration_s"] for e in events if e["event_type"].startswith("after_data")]
        assert all(d is not None and d >= 0 for d in durations)
        # the whole journal of the two runs holds these events and no others
    total = recorded.journal.store.run(
        lambda conn: conn.execute(schema.events.select()).mappings().all()
    )
    assert len(total) == 2 * sum(expected_events(NODES).values())


def test_snapshots_stored_once_without_secrets(recorded: Recorded) -> None:
    journal = recorded.journal

    def rows(table: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in journal.store.run(lambda c: c.execute(table.select()).mappings())]

    catalogs, pipelines = rows(schema.catalogs), rows(schema.pipelines)
    assert len(catalogs) == 1, "a second identical run must not add a catalog row"
    assert len(pipelines) == 1
    runs = {r["run_id"]: r for r in rows(schema.runs)}
    assert {r["catalog_hash"] for r in runs.values()} == {catalogs[0]["full_hash"]}
    assert {r["pipeline_hash"] for r in runs.values()} == {pipelines[0]["full_hash"]}
    assert catalogs[0]["hash"] == catalogs[0]["full_hash"][:8]

    content = catalogs[0]["content"]
    assert {"seed", "d0", "warehouse", "remote_csv"} <= set(content)
    assert content["warehouse"]["credentials"] == "warehouse_creds"  # a name, kept
    assert content["inline_db"]["credentials"] == {"con": "***"}
    stored = json.dumps([catalogs, pipelines, list(runs.values())], default=str)
    for secret in SECRETS:
        assert secret not in stored
    assert "alice:***@files.example.com" in json.dumps(content)
    # nor anywhere in the database file
    raw = b"".join(p.read_bytes() for p in (recorded.root / ".waldo").glob("waldo.db*"))
    for secret in SECRETS:
        assert secret.encode() not in raw

    nodes = [n["name"] for n in pipelines[0]["content"]["nodes"]]
    assert nodes == [f"step_{i}" for i in range(NODES)]


def test_waldo_cli_reads_the_runs(recorded: Recorded) -> None:
    runs = waldo_json(recorded.root, "runs")
    assert [r["run_id"] for r in runs] == [recorded.dirty_run, recorded.clean_run]
    assert all(r["status"] == "success" and r["nodes_ok"] == NODES for r in runs)
    assert runs[1]["git_dirty"] is False and runs[0]["git_dirty"] is True

    shown = waldo_json(recorded.root, "show", "latest")
    assert shown["run_id"] == recorded.dirty_run
    assert [n["node_name"] for n in shown["nodes"]] == [f"step_{i}" for i in range(NODES)]
    first = waldo_json(recorded.root, "show", recorded.clean_run)
    assert first["runtime_params"] == {"factor": 3}


def test_kedro_waldo_command(recorded: Recorded) -> None:
    result = run_kedro(recorded.root, "waldo", "runs", "--format", "json")
    assert result.returncode == 0, output_of(result)
    # Kedro logs its start-up to stdout too; the JSON document follows.
    listed = json.loads(result.stdout[result.stdout.index("[\n") :])
    assert [r["run_id"] for r in listed] == [recorded.dirty_run, recorded.clean_run]
