"""Batches written by the helper process: same contract as Store.write, safe fallbacks."""

from __future__ import annotations

import os
import pickle
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from waldo import StoreError, StoreUnavailable
from waldo.store import Record, Store, WriterProcess, schema
from waldo.store._writer_child import HEADER, MessageReader

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'journal.db'}")
    store.ensure_schema()
    yield store
    store.dispose()


def events(run_id: str, *names: str) -> list[Record]:
    return [("events", (run_id, "before_node_run", None, n, time.time(), None)) for n in names]


def event_names(store: Store) -> list[str]:
    with store.connect() as conn:
        query = sa.select(schema.events.c.target_name).order_by(schema.events.c.id)
        return [str(v) for v in conn.execute(query).scalars()]


def ready(process: WriterProcess, timeout: float = 60) -> None:
    """Wait until the child has signalled that it is ready (it starts lazily)."""
    deadline = time.monotonic() + timeout
    while process._usable_child() is None:
        assert time.monotonic() < deadline, "the writer process never became ready"
        time.sleep(0.05)


def child_after_first_batch(process: WriterProcess) -> subprocess.Popen[bytes]:
    """Wait for the child, have it write batch-1 (event ``a`` of run r1), return it."""
    ready(process)
    assert process(events("r1", "a"), "batch-1") is True
    child = process._child
    assert child is not None
    return child


def test_batches_go_through_the_child_exactly_once(store: Store) -> None:
    calls: list[str] = []

    def here(records: object, batch_id: str) -> object:
        calls.append(batch_id)
        return store.write(records, batch_id)  # type: ignore[arg-type]

    process = WriterProcess(store.url, here)
    process.start()
    try:
        ready(process)
        assert process(events("r1", "a", "b"), "batch-1") is True
        assert process(events("r1", "a", "b"), "batch-1") is False  # the marker is there
        assert calls == []  # nothing was written in this process
        assert event_names(store) == ["a", "b"]
    finally:
        process.close()


def test_a_dead_child_falls_back_without_writing_twice(store: Store) -> None:
    process = WriterProcess(store.url, store.write)
    process.start()
    try:
        child = child_after_first_batch(process)
        child.kill()
        child.wait()
        # The same batch again (its answer was "lost"): the marker keeps it single.
        assert process(events("r1", "a"), "batch-1") is False
        assert process(events("r1", "b"), "batch-2") is True
        assert event_names(store) == ["a", "b"]
    finally:
        process.close()


def test_store_errors_come_back_as_store_errors(tmp_path: Path) -> None:
    down = Store(UNREACHABLE)
    process = WriterProcess(UNREACHABLE, down.write)
    process.start()
    try:
        ready(process)
        with pytest.raises(StoreUnavailable):
            process(events("r1", "a"), "batch-1")
        with pytest.raises(StoreError):
            process([("no_such_table", ("x",))], "batch-2")
    finally:
        process.close()


def test_switched_off_or_forked_writes_in_process(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def here(records: object, batch_id: str) -> object:
        calls.append(batch_id)
        return store.write(records, batch_id)  # type: ignore[arg-type]

    monkeypatch.setenv("WALDO_WRITER_PROCESS", "0")
    off = WriterProcess(store.url, here)
    off.start()
    assert off._child is None
    assert off(events("r1", "a"), "batch-1") is True

    monkeypatch.delenv("WALDO_WRITER_PROCESS")
    process = WriterProcess(store.url, here)
    process.start()
    try:
        ready(process)
        process._pid = os.getpid() + 1  # as a forked copy of the parent sees itself
        assert process(events("r1", "b"), "batch-2") is True
        assert calls == ["batch-1", "batch-2"]
        assert event_names(store) == ["a", "b"]
    finally:
        process._pid = os.getpid()
        process.close()


def test_one_cpu_means_no_child(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    process = WriterProcess(store.url, store.write)
    process.start()
    assert process._child is None
    assert process(events("r1", "a"), "batch-1") is True
    assert event_names(store) == ["a"]


def test_the_child_prepares_records_the_parent_named(store: Store) -> None:
    """The journal's node trails are expanded into rows by the child, which imports
    the function the parent named."""
    from waldo.journal import TRAIL, expand_trails, node_step

    calls: list[str] = []

    def here(records: object, batch_id: str) -> object:
        calls.append(batch_id)
        return store.write(expand_trails(records), batch_id)  # type: ignore[arg-type]

    process = WriterProcess(store.url, here, prepare="waldo.journal._trail:expand_trails")
    process.start()
    steps: list[object] = []
    node_step(steps, "before_node_run", "a", time.time())
    node_step(steps, "after_node_run", "a", time.time())
    trail = ("r1", "a", None, time.time(), 1, None, None, "success", None, None, *steps)
    try:
        ready(process)
        assert process([(TRAIL, trail)], "batch-1") is True
        assert calls == []  # built and written by the child
        assert event_names(store) == ["a", "a"]
    finally:
        process.close()


def _mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_the_child_writes_without_importing_sqlalchemy(store: Store) -> None:
    """The child starts with every run: it runs the batch SQL through the driver and
    never loads SQLAlchemy (whose import is most of a helper's start-up CPU)."""
    import sqlalchemy

    compiled = list(Path(sqlalchemy.__file__).parent.rglob("*.so"))
    if not compiled:
        pytest.skip("this SQLAlchemy has no compiled modules to look for")
    process = WriterProcess(store.url, store.write, prepare="waldo.journal._trail:expand_trails")
    process.start()
    try:
        child = child_after_first_batch(process)
        assert "sqlalchemy" not in _mapped_files(child.pid)
        assert "sqlalchemy" in _mapped_files(os.getpid())  # what the check looks for
        assert event_names(store) == ["a"]
    finally:
        process.close()


def test_the_child_creates_the_tables_of_a_new_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    calls: list[str] = []

    def here(records: object, batch_id: str) -> object:
        calls.append(batch_id)
        return Store(url).write(records, batch_id)  # type: ignore[arg-type]

    process = WriterProcess(url, here)
    process.start()
    store = Store(url)
    try:
        ready(process)
        assert process(events("r1", "a"), "batch-1") is True
        assert calls == []
        assert store.current_revision() == store.head_revision()
        assert event_names(store) == ["a"]
    finally:
        process.close()
        store.dispose()


def test_the_child_reconnects_when_its_connection_was_dropped(pg_url: str) -> None:
    """A server restart between batches leaves the child a dead connection: the next
    batch goes through on a new one instead of being spooled."""
    store = Store(pg_url)
    store.ensure_schema()
    process = WriterProcess(pg_url, store.write)
    process.start()
    try:
        ready(process)
        assert process(events("r1", "a"), "batch-1") is True
        with store.connect() as conn:
            dropped = conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        assert dropped and all(row[0] for row in dropped)
        assert process(events("r1", "b"), "batch-2") is True
        assert event_names(store) == ["a", "b"]
    finally:
        process.close()
        store.dispose()


def test_a_missing_driver_comes_back_as_the_store_says_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without psycopg installed the child answers with the store's own advice (the
    batch is then spooled with that one warning), not an unexpected error, even though
    it would reach the server through libpq alone: the store itself needs psycopg."""
    hide = tmp_path / "no_driver"
    hide.mkdir()
    # The child's interpreter starts without site-packages, where psycopg is installed.
    (hide / "sitecustomize.py").write_text(
        "import sys\nsys.path[:] = [p for p in sys.path if 'site-packages' not in p]\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(hide))  # the child's path, not ours
    url = "postgresql://postgres@127.0.0.1:1/x"
    process = WriterProcess(url, Store(url).write)
    process.start()
    try:
        ready(process)
        with pytest.raises(StoreError, match=r"install PostgreSQL support") as raised:
            process(events("r1", "a"), "batch-1")
        assert not isinstance(raised.value, StoreUnavailable)
    finally:
        process.close()


def test_the_child_creates_a_new_sqlite_journal_and_its_folder(tmp_path: Path) -> None:
    """A run whose first batch comes before anything else wrote to ``.waldo/`` (a
    preflight command that fails at once): the child opens the journal first, and must
    create the folder, as the pipeline's process would, not spool the batch."""
    url = f"sqlite:///{tmp_path / 'project' / '.waldo' / 'waldo.db'}"
    calls: list[str] = []

    def here(records: object, batch_id: str) -> object:
        calls.append(batch_id)
        return True

    process = WriterProcess(url, here)
    process.start()
    try:
        ready(process)
        assert process(events("r1", "a"), "batch-1") is True
        assert calls == []  # written by the child
    finally:
        process.close()
    store = Store(url)
    try:
        assert event_names(store) == ["a"]
    finally:
        store.dispose()


def test_answers_are_read_whole_however_the_pipe_splits_them() -> None:
    """The parent reads the child's answers in as few reads as it can: two messages in
    one read come out one at a time, a message split over reads comes out whole."""
    read_end, write_end = os.pipe()
    with open(read_end, "rb", buffering=0) as inp:
        reader = MessageReader(inp)
        first, second = pickle.dumps(("ok", True)), pickle.dumps(("ok", False))
        os.write(write_end, HEADER.pack(len(first)) + first + HEADER.pack(len(second)))
        assert reader.receive() == first
        assert reader.buffered  # the second's header came with the first
        os.write(write_end, second[:3])
        os.write(write_end, second[3:])
        assert reader.receive() == second
        assert not reader.buffered
        os.close(write_end)
        assert reader.receive() is None  # end of input


def test_closing_does_not_wait_for_the_child_to_exit(store: Store) -> None:
    """The end of a run does not sit through the helper's exit (closing its connection,
    a SQLite checkpoint, its interpreter's shutdown): a helper that hangs there leaves
    ``close`` free at once, and one that does not exits by itself with its batches
    written."""
    import signal

    stuck = WriterProcess(store.url, store.write)
    stuck.start()
    hung = child_after_first_batch(stuck)
    os.kill(hung.pid, signal.SIGSTOP)  # it will not read its end of input
    try:
        started = time.monotonic()
        stuck.close()
        assert time.monotonic() - started < 2  # waiting (up to 5 s) was the old way
    finally:
        hung.kill()
        hung.wait(timeout=10)

    process = WriterProcess(store.url, store.write)
    process.start()
    ready(process)
    assert process(events("r1", "b"), "batch-2") is True
    child = process._child
    assert child is not None
    process.close()
    assert child.wait(timeout=30) == 0
    assert event_names(store) == ["a", "b"]
