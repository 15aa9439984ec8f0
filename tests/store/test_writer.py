"""The background batch writer: queue, flush, spool when the store is down, fork."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers.postgres import throwaway_postgres, wait_for
from waldo._errors import ConfigError
from waldo.store import BatchWriter, Spool, Store, schema

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'journal.db'}")
    yield store
    store.dispose()


def put_events(writer: BatchWriter, run_id: str, *names: str) -> None:
    for name in names:
        writer.put("events", (run_id, "before_node_run", None, name, time.time(), None))


def event_names(store: Store) -> list[str]:
    with store.connect() as conn:
        query = sa.select(schema.events.c.target_name).order_by(schema.events.c.id)
        return [str(v) for v in conn.execute(query).scalars()]


def test_put_and_flush_write_everything(store: Store, tmp_path: Path) -> None:
    writer = BatchWriter(store.write, Spool(tmp_path / "spool"), interval=30)
    writer.put("runs", {"run_id": "r1", "status": "running"})
    put_events(writer, "r1", "a", "b", "c")
    result = writer.flush()
    assert (result.written, result.spooled, result.lost, result.error) == (4, 0, 0, None)
    assert event_names(store) == ["a", "b", "c"]

    put_events(writer, "r1", "d")
    writer.put("runs", {"run_id": "r1", "status": "success"})
    assert writer.close().written == 2
    assert event_names(store) == ["a", "b", "c", "d"]
    with store.connect() as conn:
        assert conn.execute(sa.select(schema.runs.c.status)).scalars().all() == ["success"]
    assert writer.totals.written == 6
    assert not (tmp_path / "spool").exists()  # nothing ever spooled


def test_background_thread_writes_without_flush(store: Store, tmp_path: Path) -> None:
    writer = BatchWriter(store.write, Spool(tmp_path / "spool"), interval=0.05)
    put_events(writer, "r1", "a", "b")
    deadline = time.monotonic() + 30
    while event_names(store) != ["a", "b"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert event_names(store) == ["a", "b"]
    writer.close()


def test_a_full_batch_is_written_before_the_interval(store: Store, tmp_path: Path) -> None:
    """The thread wakes once ``full_batch`` records wait, so a long interval does not
    leave a run's rows piling up for its final flush."""
    writer = BatchWriter(store.write, Spool(tmp_path / "spool"), interval=600, full_batch=5)
    put_events(writer, "r1", "a", "b", "c", "d", "e")
    deadline = time.monotonic() + 60
    while len(event_names(store)) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert event_names(store) == ["a", "b", "c", "d", "e"]
    assert writer.close().written == 0  # nothing was left for the flush


def test_records_become_rows_once_per_batch_written_or_spooled(tmp_path: Path) -> None:
    """``prepare`` turns a batch's records into rows on the writer's thread; a batch the
    store cannot take is spooled as those rows, which a later replay writes as they are."""
    prepared: list[int] = []

    def prepare(records: list[tuple[str, object]]) -> list[tuple[str, object]]:
        prepared.append(len(records))
        return [("events", ("r1", "before_node_run", None, str(n), 1.0, None)) for _, n in records]

    spool = Spool(tmp_path / "spool")
    writer = BatchWriter(Store(UNREACHABLE).write, spool, interval=600, prepare=prepare)
    writer.put("node", "a")
    writer.put("node", "b")
    assert writer.flush().spooled == 2
    assert prepared == [2]
    store = Store(f"sqlite:///{tmp_path / 'journal.db'}")
    assert spool.replay(store.write).records == 2
    assert event_names(store) == ["a", "b"]
    store.dispose()


def test_unreachable_store_spools_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path / "spool")
    writer = BatchWriter(Store(UNREACHABLE).write, spool, interval=30)
    writer.retry_after = 0.0  # try the database for every batch: still one warning
    with caplog.at_level(logging.WARNING, logger="waldo"):
        for i in range(4):
            put_events(writer, "r1", f"e{i}a", f"e{i}b")
            result = writer.flush()
            assert (result.written, result.spooled, result.lost) == (0, 2, 0)
            assert result.error is not None and "127.0.0.1:1" in result.error
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "Cannot reach the Waldo store" in warnings[0]
    assert str(spool.directory) in warnings[0]
    assert writer.totals.spooled == 8
    assert spool.count_pending_records() == 8
    writer.close()


def test_a_store_that_cannot_be_configured_spools_with_its_own_words(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A URL whose driver is not installed is a ConfigError at the first write: the
    rows wait in the spool and the one warning says what to install."""

    def no_driver(records: object, batch_id: str) -> object:
        raise ConfigError(
            "No driver for postgresql://h/db: install `pip install 'waldo[postgres]'`."
        )

    spool = Spool(tmp_path / "spool")
    writer = BatchWriter(no_driver, spool, interval=30)
    with caplog.at_level(logging.WARNING, logger="waldo"):
        put_events(writer, "r1", "a", "b")
        result = writer.flush()
    assert (result.written, result.spooled, result.lost) == (0, 2, 0)
    [warning] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "No driver" in warning and "waldo[postgres]" in warning
    assert "unexpected" not in warning
    assert getattr(caplog.records[-1], "markup", None) is False  # Rich keeps the brackets
    writer.close()


@pytest.mark.postgres
def test_writer_replays_its_own_spool_when_the_store_is_back(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    problems: list[str] = []
    with throwaway_postgres() as server:
        store = Store(server.url)
        writer = BatchWriter(store.write, spool, interval=30, on_problem=problems.append)
        writer.retry_after = 0.0
        put_events(writer, "r1", "before-1")
        assert writer.flush().written == 1

        server.stop()
        put_events(writer, "r1", "down-1", "down-2")
        assert writer.flush().spooled == 2
        put_events(writer, "r1", "down-3")
        assert writer.flush().spooled == 1
        assert len(problems) == 1
        assert spool.count_pending_records() == 3

        server.start()
        put_events(writer, "r1", "after-1")
        result = writer.flush()
        assert (result.written, result.spooled, result.error) == (1, 0, None)
        # the spooled rows went in first, in their order, and only once
        assert event_names(store) == ["before-1", "down-1", "down-2", "down-3", "after-1"]
        assert not spool.has_pending()
        put_events(writer, "r1", "after-2")
        writer.close()
        assert event_names(store)[-2:] == ["after-1", "after-2"]
        store.dispose()


FORK_SCRIPT = """
import json, os, sys
from pathlib import Path

from waldo.journal import RunInfo, get_recorder, resolve_settings

url, project = sys.argv[1], Path(sys.argv[2])
recorder = get_recorder(resolve_settings(project, {"store": url}, environ={}))
recorder.start_run(RunInfo(run_id="parent-run"))
recorder.event("parent-run", "before_pipeline_run", "__default__")
assert recorder.flush().written == 2  # the parent has a pooled connection now
for name in ("p1", "p2", "p3"):
    recorder.event("parent-run", "before_node_run", name)
queued = len(recorder.writer._queue)

pid = os.fork()
if pid == 0:
    report = {"queued_in_child": len(recorder.writer._queue)}
    report["child_first_flush"] = recorder.writer.flush().written
    recorder.event("parent-run", "after_node_run", "child-node")
    report["child_second_flush"] = recorder.flush().written
    print(json.dumps(report), flush=True)
    sys.exit(0)  # a normal exit: the atexit flush of the child must not repeat rows
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0
recorder.flush()  # the parent's thread may have written them already: counted in totals
print(json.dumps({"queued_in_parent": queued, "parent_written": recorder.writer.totals.written}))
recorder.end_run("parent-run", "success")
"""


def test_forked_child_starts_empty_and_parent_writes_its_rows_once(
    store_url: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FORK_SCRIPT), store_url, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    child, parent = (json.loads(line) for line in done.stdout.splitlines())
    assert child == {"queued_in_child": 0, "child_first_flush": 0, "child_second_flush": 1}
    assert parent == {"queued_in_parent": 3, "parent_written": 2 + 3}
    assert "Traceback" not in done.stderr

    store = Store(store_url)
    names = event_names(store)
    assert sorted(names) == sorted(["__default__", "p1", "p2", "p3", "child-node"])
    with store.connect() as conn:
        assert conn.execute(sa.select(schema.runs.c.status)).scalars().all() == ["success"]
    assert not Spool(tmp_path / ".waldo" / "spool").has_pending()
    store.dispose()


def test_every_batch_gets_its_own_marker(store: Store, tmp_path: Path) -> None:
    """Each batch is written with its own exactly-once marker, whatever the writer."""
    first = BatchWriter(store.write, Spool(tmp_path / "spool"), interval=600)
    second = BatchWriter(store.write, Spool(tmp_path / "spool"), interval=600)
    for writer in (first, first, second):
        put_events(writer, "r1", "a")
        writer.flush()
    with store.connect() as conn:
        markers = conn.execute(sa.select(schema.write_batches.c.batch_id)).scalars().all()
    assert len(set(markers)) == 3


def test_a_flush_stops_waiting_on_a_stalled_write_and_every_row_lands_once(
    store: Store, tmp_path: Path
) -> None:
    """A write that never returns (a database that stopped answering): the flush gives
    up after its timeout and spools the batch under way and the queue; a sync writes
    each row once."""
    import threading

    released = threading.Event()
    stalled: list[str] = []

    def stalling_write(records: object, batch_id: str) -> None:
        stalled.append(batch_id)
        released.wait()  # until the test ends: the write never comes back
        raise ConnectionError("gave up")

    spool = Spool(tmp_path / "spool")
    writer = BatchWriter(stalling_write, spool, interval=30, full_batch=2)
    try:
        put_events(writer, "r1", "a", "b")  # a full batch: the writer takes it, and stalls
        assert wait_for(lambda: bool(stalled), timeout=60)
        writer.flush(timeout=0.5)  # no batch finishes: the flush gives up
        put_events(writer, "r1", "c")
        writer.flush(timeout=0.5)  # the store counts as down: c goes to the spool
        assert len(stalled) == 1
        assert writer.totals.spooled == 3
    finally:
        released.set()
    report = spool.replay(store.write)
    assert report.records == 3
    assert event_names(store) == ["a", "b", "c"]
