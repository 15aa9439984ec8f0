"""PostgreSQL stops in the middle of a run: the run finishes, rows wait in the spool,
``waldo sync`` writes every one of them exactly once."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.postgres import ThrowawayPostgres, throwaway_postgres, wait_for
from tests.helpers.projects import chain_project
from tests.kedro._e2e import (
    event_counts,
    expected_events,
    journal_at,
    kedro_argv,
    subprocess_env,
    waldo,
    waldo_warnings,
)
from waldo.journal import Journal
from waldo.store import Spool, schema

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

NODES = 3
WAIT_NODE = 1


@dataclass
class Outage:
    root: Path
    server: ThrowawayPostgres
    journal: Journal
    run_id: str
    before_stop: Counter[str]
    returncode: int
    output: str
    spooled_files: int  # what the spool held when the run ended, before any sync
    spooled_records: int


def _events_by_type(journal: Journal) -> Counter[str]:
    rows = journal.store.run(lambda c: c.execute(schema.events.select()).mappings().all())
    return Counter(r["event_type"] for r in rows)


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    try:
        cm = throwaway_postgres()
        server = cm.__enter__()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot start a throwaway PostgreSQL: {exc}")
    try:
        root = chain_project(
            tmp_path_factory.mktemp("outage") / "proj",
            nodes=NODES,
            sleep_node=WAIT_NODE,
            sleep_seconds=600,
            waldo_yml=f"store: {server.url}\n",
        )
        journal = journal_at(root, server.url)
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

            def waiting_node_recorded() -> bool:
                try:
                    run_id = journal.history.resolve_run_id("latest")
                    nodes = journal.history.run_detail(run_id).nodes
                except Exception:
                    return False
                return any(n.node_name == f"step_{WAIT_NODE}" for n in nodes)

            assert wait_for(waiting_node_recorded, timeout=180, interval=0.2), log_path.read_text()
            run_id = journal.history.resolve_run_id("latest")
            # everything up to the waiting node's before_dataset_loaded/before_node_run
            assert wait_for(
                lambda: event_counts(journal, run_id)["before_node_run"] == WAIT_NODE + 1,
                timeout=60,
            )
            before_stop = _events_by_type(journal)
            journal.store.dispose()
            server.stop()
            (root / "release").write_text("go\n")
            returncode = proc.wait(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        spool = Spool(root / ".waldo" / "spool")
        yield Outage(
            root,
            server,
            journal,
            run_id,
            before_stop,
            returncode,
            log_path.read_text(),
            len(spool.pending_files()),
            spool.count_pending_records(),
        )
    finally:
        cm.__exit__(None, None, None)


def test_run_finishes_with_one_warning(outage: Outage) -> None:
    assert outage.returncode == 0, outage.output[-3000:]
    warnings = waldo_warnings(outage.output)
    assert len(warnings) == 1, warnings
    assert "Cannot reach the Waldo store" in warnings[0]
    assert "spool" in warnings[0]
    assert (outage.root / "data" / f"d{NODES - 1}.csv").is_file()


def test_rows_wait_in_the_spool(outage: Outage) -> None:
    assert outage.spooled_files > 0
    assert outage.spooled_records > 0
    # part of the run reached the database before it stopped
    assert 0 < sum(outage.before_stop.values()) < sum(expected_events(NODES).values())


def test_sync_writes_everything_exactly_once(outage: Outage) -> None:
    outage.server.start()
    first = waldo(outage.root, "sync")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Wrote ")
    assert "already there" not in first.stdout

    journal = outage.journal
    assert _events_by_type(journal) == expected_events(NODES)  # exact: no duplicates
    detail = journal.history.run_detail(outage.run_id)
    assert detail.summary.status == "success"
    assert [(n.node_name, n.status) for n in detail.nodes] == [
        (f"step_{i}", "success") for i in range(NODES)
    ]
    assert not Spool(outage.root / ".waldo" / "spool").pending_files()

    again = waldo(outage.root, "sync")
    assert again.returncode == 0, again.stderr
    assert "Nothing to sync" in again.stdout
    assert _events_by_type(journal) == expected_events(NODES)
