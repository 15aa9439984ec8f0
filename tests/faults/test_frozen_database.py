"""A PostgreSQL that stops answering (TCP open, no reply) never hangs Waldo: connections
are bounded (connect timeout, keepalives, lock and statement timeouts), a run ends
soon after its last node, and what it could not write reaches the database exactly
once through ``waldo sync`` once the database answers again."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.faults._proxy import FaultProxy, fault_proxy
from tests.helpers.postgres import wait_for
from tests.helpers.projects import chain_project
from tests.kedro._e2e import (
    event_counts,
    expected_events,
    journal_at,
    kedro_argv,
    subprocess_env,
    waldo,
)
from waldo._errors import StoreError
from waldo.store import Record, Spool, Store

NODES = 3
WAIT_NODE = 1
# The promise is 10 s after the last node; a busy machine gets a wide margin
# (an unbounded wait measured about 135 s).
RUN_END_LIMIT_S = 60


def events(run_id: str, *names: str) -> list[Record]:
    return [
        ("events", (run_id, "before_node_run", None, n, 1000.0 + i, None))
        for i, n in enumerate(names)
    ]


def outcome_within(action: Callable[[], object], limit: float) -> BaseException | None:
    """Run ``action`` in a thread; the exception it ended with, or fail the test when it
    is still waiting after ``limit`` seconds (it is left behind, a daemon thread)."""
    ended: list[BaseException | None] = []

    def work() -> None:
        try:
            action()
        except BaseException as exc:  # the outcome under test
            ended.append(exc)
        else:
            ended.append(None)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(limit)
    assert ended, f"still waiting on the database after {limit} s"
    return ended[0]


@pytest.fixture
def proxy(pg_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(pg_url) as proxy:
        yield proxy


def test_store_on_a_frozen_server_gives_up_connecting(pg_url: str, proxy: FaultProxy) -> None:
    proxy.freeze()
    store = Store(proxy.url_for(pg_url))
    error = outcome_within(lambda: store.write(events("r", "a"), uuid.uuid4().hex), 60)
    assert isinstance(error, StoreError)
    assert "Cannot reach the Waldo store" in str(error)


def test_a_write_waiting_on_a_lock_gives_up(pg_url: str) -> None:
    """Another session holds a lock the journal needs and never lets go."""
    store = Store(pg_url)
    store.ensure_schema()
    holder = sa.create_engine(sa.make_url(pg_url).set(drivername="postgresql+psycopg"))
    try:
        with holder.connect() as conn:
            conn.exec_driver_sql("LOCK TABLE waldo.write_batches IN ACCESS EXCLUSIVE MODE")
            error = outcome_within(lambda: store.write(events("r", "a"), uuid.uuid4().hex), 60)
            conn.rollback()
    finally:
        holder.dispose()
        store.dispose()
    assert isinstance(error, StoreError)
    assert "lock timeout" in str(error)


def test_a_journal_write_that_never_ends_gives_up(pg_url: str) -> None:
    """A statement of a batch write the server never finishes (here a trigger sleeping
    far longer than the write's statement timeout): the write fails, so it can be spooled."""
    store = Store(pg_url)
    store.ensure_schema()
    admin = sa.create_engine(sa.make_url(pg_url).set(drivername="postgresql+psycopg"))
    stall = (
        "CREATE FUNCTION waldo.stall() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_sleep(600); RETURN NEW; END $$; "
        "CREATE TRIGGER stall BEFORE INSERT ON waldo.events "
        "FOR EACH ROW EXECUTE FUNCTION waldo.stall()"
    )
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(stall)
        error = outcome_within(lambda: store.write(events("r", "a"), uuid.uuid4().hex), 120)
        with admin.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER stall ON waldo.events")
    finally:
        admin.dispose()
        store.dispose()
    assert isinstance(error, StoreError)
    assert "statement timeout" in str(error)


def test_store_connections_are_bounded(pg_url: str) -> None:
    store = Store(pg_url)
    try:
        with store.engine.connect() as conn:
            libpq = conn.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
            lock_timeout = conn.exec_driver_sql("SHOW lock_timeout").scalar()
    finally:
        store.dispose()
    assert (libpq["connect_timeout"], libpq["keepalives"], libpq["keepalives_idle"]) == (
        "5",
        "1",
        "10",
    )
    assert lock_timeout == "10s"


@pytest.mark.slow
def test_frozen_database_run_ends_and_sync_writes_every_row_once(
    pg_url: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    root = chain_project(
        tmp_path / "proj",
        nodes=NODES,
        sleep_node=WAIT_NODE,
        sleep_seconds=600,
        waldo_yml=f"store: {proxy.url_for(pg_url)}\n",
    )
    journal = journal_at(root, pg_url)  # read straight from the server, not the proxy
    log_path = tmp_path / "kedro.log"
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
        proxy.freeze()
        (root / "release").write_text("go\n")
        assert wait_for(lambda: (root / "data" / f"d{NODES - 1}.csv").is_file(), timeout=120)
        last_node_done = time.monotonic()
        returncode = proc.wait(timeout=300)
        ended_after = time.monotonic() - last_node_done
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = log_path.read_text()
    assert returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert ended_after < RUN_END_LIMIT_S, output[-3000:]
    assert Spool(root / ".waldo" / "spool").count_pending_records() > 0

    proxy.heal()
    synced = waldo(root, "sync")
    assert synced.returncode == 0, synced.stderr
    assert event_counts(journal, run_id) == expected_events(NODES)  # each row once
    detail = journal.history.run_detail(run_id)
    assert detail.summary.status == "success"
    assert [(n.node_name, n.status) for n in detail.nodes] == [
        (f"step_{i}", "success") for i in range(NODES)
    ]
    assert "Nothing to sync" in waldo(root, "sync").stdout
    assert event_counts(journal, run_id) == expected_events(NODES)
