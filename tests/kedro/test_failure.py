"""A failing node: the run and the node are recorded as failed, and ``kedro run`` fails
exactly as it would without Waldo."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.projects import chain_project
from tests.kedro._e2e import (
    event_counts,
    expected_events,
    journal_at,
    output_of,
    run_kedro,
    waldo_json,
    waldo_warnings,
)
from waldo.journal import Journal

pytestmark = pytest.mark.slow

NODES = 3
FAIL = 1


@dataclass
class Failed:
    root: Path
    journal: Journal
    run_id: str
    recorded: subprocess.CompletedProcess[str]
    without_waldo: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def failed(tmp_path_factory: pytest.TempPathFactory) -> Failed:
    root = chain_project(tmp_path_factory.mktemp("fail") / "proj", nodes=NODES, fail_node=FAIL)
    recorded = run_kedro(root, "run")
    journal = journal_at(root)
    run_id = journal.history.resolve_run_id("latest")
    without_waldo = run_kedro(root, "run", env={"WALDO_DISABLE": "1"})
    return Failed(root, journal, run_id, recorded, without_waldo)


def test_kedro_fails_only_because_of_the_node(failed: Failed) -> None:
    assert failed.recorded.returncode != 0
    assert failed.recorded.returncode == failed.without_waldo.returncode
    for result in (failed.recorded, failed.without_waldo):
        assert f"ValueError: step_{FAIL} failed on purpose" in output_of(result)
    assert waldo_warnings(output_of(failed.recorded)) == []
    assert "waldo" not in failed.recorded.stderr.lower().replace(str(failed.root).lower(), "")
    # WALDO_DISABLE=1 recorded nothing: the journal still holds the one run
    assert [r.run_id for r in failed.journal.history.runs()] == [failed.run_id]


def test_run_and_node_recorded_as_failed(failed: Failed) -> None:
    detail = failed.journal.history.run_detail(failed.run_id)
    assert detail.summary.status == "failed"
    assert detail.error_type == "ValueError"
    assert detail.error_message == f"step_{FAIL} failed on purpose"
    assert detail.traceback and "ValueError" in detail.traceback

    nodes = {n.node_name: n for n in detail.nodes}
    assert set(nodes) == {f"step_{i}" for i in range(FAIL + 1)}  # later nodes never ran
    assert all(nodes[f"step_{i}"].status == "success" for i in range(FAIL))
    bad = nodes[f"step_{FAIL}"]
    assert bad.status == "failed"
    assert bad.error_type == "ValueError"
    assert bad.error_message == f"step_{FAIL} failed on purpose"
    assert bad.traceback and "raise ValueError" in bad.traceback
    assert bad.finished_at is not None and bad.duration_s is not None
    assert bad.outputs == {}


def test_failure_events(failed: Failed) -> None:
    assert event_counts(failed.journal, failed.run_id) == expected_events(NODES, failed_node=FAIL)
    errors = failed.journal.history.events(failed.run_id, ["on_node_error"])
    assert [e["target_name"] for e in errors] == [f"step_{FAIL}"]
    assert all(len(e["target_id"]) == 8 for e in failed.journal.history.events(failed.run_id))


def test_cli_shows_the_failure(failed: Failed) -> None:
    [run] = waldo_json(failed.root, "runs")
    assert (run["status"], run["nodes_ok"], run["nodes_failed"]) == ("failed", FAIL, 1)
    shown = waldo_json(failed.root, "show", "latest")
    assert shown["error_type"] == "ValueError"
    assert [n["status"] for n in shown["nodes"]] == ["success"] * FAIL + ["failed"]
