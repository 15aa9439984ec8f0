"""A ``kedro run`` killed with SIGKILL shows as interrupted, with its waiting node."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.postgres import wait_for
from tests.helpers.projects import chain_project
from tests.kedro._e2e import journal_at, kedro_argv, subprocess_env, waldo_json

pytestmark = pytest.mark.slow

NODES = 3
WAIT_NODE = 1


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def killed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    """A run SIGKILLed while a node waits, recorded in the project's SQLite journal or in
    a PostgreSQL database named by ``store:`` in waldo.yml."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    root = chain_project(
        tmp_path_factory.mktemp("killed") / "proj",
        nodes=NODES,
        sleep_node=WAIT_NODE,
        sleep_seconds=600,
        waldo_yml=f"store: {url}\n" if url else None,
    )
    journal = journal_at(root, url)
    log_path = root.parent / "kedro.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            kedro_argv("run"),
            cwd=root,
            env=subprocess_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def waiting() -> bool:
            if url is None and not (root / ".waldo" / "waldo.db").exists():
                return False
            try:
                detail = journal.history.run_detail("latest")
            except Exception:
                return False
            return detail.summary.status == "running" and any(
                n.node_name == f"step_{WAIT_NODE}" for n in detail.nodes
            )

        assert wait_for(waiting, timeout=180, interval=0.2), log_path.read_text()
        run_id = journal.history.resolve_run_id("latest")
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    yield root, run_id


def test_runs_shows_interrupted(killed: tuple[Path, str]) -> None:
    root, run_id = killed
    [run] = waldo_json(root, "runs")
    assert run["run_id"] == run_id
    assert run["status"] == "interrupted"
    assert run["finished_at"] is not None
    assert (run["nodes_ok"], run["nodes_failed"]) == (WAIT_NODE, 0)


def test_show_marks_the_waiting_node(killed: tuple[Path, str]) -> None:
    root, run_id = killed
    shown = waldo_json(root, "show", "latest")
    assert shown["run_id"] == run_id
    assert shown["status"] == "interrupted"
    nodes = [(n["node_name"], n["status"]) for n in shown["nodes"]]
    assert nodes == [(f"step_{i}", "success") for i in range(WAIT_NODE)] + [
        (f"step_{WAIT_NODE}", "interrupted")
    ]


def test_the_killed_run_lasts_until_its_last_node_started(killed: tuple[Path, str]) -> None:
    """Killed before its first heartbeat, the run still ends when it was last heard
    from (its waiting node's start), not when it started."""
    root, _run_id = killed
    shown = waldo_json(root, "show", "latest")
    waiting = next(n for n in shown["nodes"] if n["node_name"] == f"step_{WAIT_NODE}")
    assert shown["finished_at"] >= waiting["started_at"] > shown["started_at"]
    assert shown["duration_s"] > 0
