"""A run whose process was killed ends when the journal last heard from it, and the
nodes it heard finish keep their status."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from waldo.journal import History
from waldo.store import Store

# The pipeline's process: a run, a node that ended 7 s in, a node started 8 s in, then
# SIGKILL-like death before the first heartbeat (10 s): nothing ends the run.
KILLED_AFTER_8_SECONDS = """
import os, socket, sys, time
from pathlib import Path

from tests.helpers.journal import end_node, recorder_for, start_node
from waldo.journal import RunInfo

recorder = recorder_for(sys.argv[1], Path(sys.argv[2]))
recorder.start_run(RunInfo(run_id="killed", host=socket.gethostname(), pid=os.getpid()))
start = time.time()
end_node(recorder, start_node(recorder, "killed", "first", "nodes.first", start + 1), took=6)
start_node(recorder, "killed", "second", "nodes.second", start + 8)
assert recorder.flush().written > 0
os._exit(0)  # killed: no atexit handler gets to end the run
"""


def test_a_killed_run_lasts_until_it_was_last_heard_from(store_url: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_AFTER_8_SECONDS), store_url, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    store = Store(store_url)
    history = History(store)
    assert history.reconcile() == ["killed"]
    detail = history.run_detail("killed")
    summary = detail.summary
    assert summary.status == "interrupted"
    assert summary.started_at is not None and summary.finished_at is not None
    second = next(n for n in detail.nodes if n.node_name == "second")
    assert second.started_at is not None
    assert summary.finished_at == second.started_at  # the last thing it did
    assert summary.duration_s is not None and summary.duration_s >= 7.9
    assert [(n.node_name, n.status) for n in detail.nodes] == [
        ("first", "success"),  # heard to finish: kept
        ("second", "interrupted"),  # still going when the process died
    ]
    [listed] = history.runs()
    assert listed.duration_s == summary.duration_s
    assert (listed.nodes_ok, listed.nodes_failed) == (1, 0)
    assert summary.finished_at - summary.started_at >= timedelta(seconds=7.9)
    store.dispose()
