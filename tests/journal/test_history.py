"""Reading the journal back: run lists, run details, run ids, runs that died."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers.journal import STEP, record_run, recorder_for, start_node
from waldo._errors import RunNotFound
from waldo.journal import History, Recorder, RunInfo
from waldo.store import Store, schema


@pytest.fixture
def recorder(store_url: str, tmp_path: Path) -> Recorder:
    return recorder_for(store_url, tmp_path)


@pytest.fixture
def history(recorder: Recorder) -> Iterator[History]:
    store = Store(recorder.settings.store_url)
    yield History(store)
    store.dispose()


def statuses(store: Store) -> dict[str, str]:
    with store.connect() as conn:
        rows = conn.execute(sa.select(schema.runs.c.run_id, schema.runs.c.status)).all()
    return {str(r.run_id): str(r.status) for r in rows}


# -- runs and details -------------------------------------------------------------------


def test_runs_lists_recorded_runs_newest_first_with_node_counts(
    recorder: Recorder, history: History
) -> None:
    record_run(recorder, "run-ok", params={"factor": 2})
    record_run(recorder, "run-bad", fail_at="clean", pipeline="training")

    found = history.runs()
    assert [r.run_id for r in found] == ["run-bad", "run-ok"]
    bad, ok = found
    assert (ok.status, ok.nodes_ok, ok.nodes_failed, ok.pipeline_names) == (
        "success",
        3,
        0,
        ["__default__"],
    )
    assert (bad.status, bad.nodes_ok, bad.nodes_failed, bad.pipeline_names) == (
        "failed",
        1,
        1,
        ["training"],
    )
    assert ok.duration_s is not None and ok.duration_s >= 0
    assert [r.run_id for r in history.runs(status="failed")] == ["run-bad"]
    assert [r.run_id for r in history.runs(pipeline="__default__")] == ["run-ok"]
    assert [r.run_id for r in history.runs(limit=1)] == ["run-bad"]


def test_run_detail_shows_nodes_in_order_with_the_error(
    recorder: Recorder, history: History
) -> None:
    record_run(recorder, "run-bad", fail_at="clean", params={"factor": 2})
    detail = history.run_detail("run-bad")
    assert [(n.node_name, n.status) for n in detail.nodes] == [
        ("load", "success"),
        ("clean", "failed"),
    ]
    assert detail.nodes[0].outputs == {"load_out": pytest.approx(STEP, abs=1e-5)}
    assert detail.nodes[1].error_type == "ValueError"
    assert "clean failed on purpose" in (detail.nodes[1].traceback or "")
    assert (detail.error_type, detail.error_message) == ("ValueError", "clean failed on purpose")
    assert detail.runtime_params == {"factor": 2}
    events = history.events("run-bad")
    assert [e["event_type"] for e in events][:4] == [
        "before_pipeline_run",
        "before_dataset_loaded",
        "after_dataset_loaded",
        "before_node_run",
    ]
    assert events[-1]["event_type"] == "on_pipeline_error"


def test_node_left_running_in_an_ended_run_shows_as_interrupted(
    recorder: Recorder, history: History
) -> None:
    recorder.start_run(RunInfo(run_id="r"))
    start_node(recorder, "r", "stuck")
    recorder.end_run("r", "failed")
    recorder.flush()
    [node] = history.run_detail("r").nodes
    assert node.status == "interrupted"


# -- resolve_run_id ---------------------------------------------------------------------


def test_resolve_run_id(recorder: Recorder, history: History) -> None:
    with pytest.raises(RunNotFound, match="no runs yet"):
        history.resolve_run_id("latest")
    for run_id in ("abc", "abc111", "abc222", "x_y", "xzy"):
        record_run(recorder, run_id, nodes=["n"])

    assert history.resolve_run_id("abc111") == "abc111"  # exact
    assert history.resolve_run_id("abc") == "abc"  # exact beats being a prefix
    assert history.resolve_run_id("abc2") == "abc222"  # unique prefix
    assert history.resolve_run_id("  abc1 ") == "abc111"
    assert history.resolve_run_id("latest") == "xzy"
    assert history.resolve_run_id("x_") == "x_y"  # '_' is not a LIKE wildcard here
    with pytest.raises(RunNotFound, match="several runs") as ambiguous:
        history.resolve_run_id("ab")
    assert "abc111" in str(ambiguous.value)
    with pytest.raises(RunNotFound, match="No run 'nope'"):
        history.resolve_run_id("nope")
    with pytest.raises(RunNotFound):
        history.resolve_run_id("%")
    with pytest.raises(RunNotFound):
        history.run_detail("zzz")


# -- reconcile --------------------------------------------------------------------------

KILLED_PROCESS = """
import os, socket, sys, time
from pathlib import Path

from tests.helpers.journal import recorder_for
from waldo.journal import RunInfo

recorder = recorder_for(sys.argv[1], Path(sys.argv[2]))
here, parent = socket.gethostname(), int(sys.argv[3])
recorder.start_run(RunInfo(run_id="dead-here", host=here, pid=os.getpid()))
recorder.start_run(RunInfo(run_id="alive-here", host=here, pid=parent))
recorder.start_run(RunInfo(run_id="expired-elsewhere", host="elsewhere.example", pid=1))
recorder.update_run("expired-elsewhere", heartbeat_at=time.time() - 3600)
recorder.start_run(RunInfo(run_id="fresh-elsewhere", host="elsewhere.example", pid=1))
recorder.start_run(RunInfo(run_id="ended", host=here, pid=os.getpid()))
recorder.end_run("ended", "success")
assert recorder.flush().written > 0
os._exit(0)  # killed: no atexit handler gets to end the runs
"""


def test_reconcile_marks_dead_and_expired_runs_interrupted(store_url: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(KILLED_PROCESS),
            store_url,
            str(tmp_path),
            str(os.getpid()),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    store = Store(store_url)
    history = History(store)
    assert set(statuses(store).values()) == {"running", "success"}

    assert sorted(history.reconcile()) == ["dead-here", "expired-elsewhere"]
    assert statuses(store) == {
        "dead-here": "interrupted",
        "alive-here": "running",
        "expired-elsewhere": "interrupted",
        "fresh-elsewhere": "running",
        "ended": "success",
    }
    detail = history.run_detail("dead-here")
    assert detail.summary.finished_at is not None
    assert "stopped without ending the run" in (detail.error_message or "")
    assert history.reconcile() == []  # nothing left to do
    assert socket.gethostname() == detail.summary.host
    store.dispose()
