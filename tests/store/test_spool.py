"""The spool: rows kept on disk while the store is down, replayed exactly once."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from waldo._errors import StoreUnavailable
from waldo.store import Record, Spool, Store, schema


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'journal.db'}")
    yield store
    store.dispose()


def events(run_id: str, *names: str) -> list[Record]:
    return [
        ("events", (run_id, "before_node_run", None, n, 1000.0 + i, None))
        for i, n in enumerate(names)
    ]


def event_names(store: Store) -> list[str]:
    with store.connect() as conn:
        query = sa.select(schema.events.c.target_name).order_by(schema.events.c.id)
        return [str(v) for v in conn.execute(query).scalars()]


def dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_append_and_replay_writes_everything_once(store: Store, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append(events("r1", "a", "b"), uuid.uuid4().hex)
    started = datetime(2026, 1, 1, tzinfo=timezone.utc)
    run: Record = ("runs", {"run_id": "r1", "status": "running", "started_at": started})
    spool.append([run, *events("r1", "c")], uuid.uuid4().hex)
    assert spool.count_pending_records() == 4

    report = spool.replay(store.write)

    assert (report.files, report.records, report.corrupt_lines) == (1, 4, 0)
    assert report.failed_files == []
    assert sorted(event_names(store)) == ["a", "b", "c"]
    with store.connect() as conn:
        run = conn.execute(sa.select(schema.runs)).one()
    assert run.status == "running"
    assert run.started_at == datetime(2026, 1, 1, tzinfo=timezone.utc)  # datetimes survive JSON
    assert spool.pending_files() == []
    assert list((tmp_path / "spool").iterdir()) == []


def test_replaying_the_same_file_twice_is_harmless(store: Store, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append(events("r1", "a", "b"), uuid.uuid4().hex)
    spool.append(events("r1", "c"), uuid.uuid4().hex)
    [path] = spool.pending_files()
    backup = tmp_path / "backup.jsonl"
    shutil.copy(path, backup)

    assert spool.replay(store.write).records == 3
    assert spool.replay(store.write).records == 0  # nothing left
    # The file comes back, as if the process died after writing but before deleting it.
    shutil.copy(backup, path)
    again = spool.replay(store.write)
    assert again.files == 1
    assert sorted(event_names(store)) == ["a", "b", "c"]
    assert spool.pending_files() == []


def test_corrupt_line_is_set_aside_and_the_rest_written(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append(events("r1", "a", "b"), uuid.uuid4().hex)
    path = spool.own_file
    with open(path, "ab") as handle:
        handle.write(b'{"b": "x", "t": "events", "r": [1, 2\n')  # truncated JSON
        handle.write(b"\xff\xfe garbage\n")
    spool.append(events("r1", "c"), uuid.uuid4().hex)

    with caplog.at_level(logging.WARNING, logger="waldo"):
        report = spool.replay(store.write)

    assert report.corrupt_lines == 2
    assert report.records == 3
    assert sorted(event_names(store)) == ["a", "b", "c"]
    corrupt = path.with_name(path.name + ".corrupt")
    assert corrupt.read_bytes() == b'{"b": "x", "t": "events", "r": [1, 2\n\xff\xfe garbage\n'
    assert not path.exists()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all("corrupt" in r.getMessage() and path.name in r.getMessage() for r in warnings)
    assert "line 3 " in warnings[0].getMessage()
    # the .corrupt file is not picked up as pending by a later replay
    assert spool.pending_files() == []


def test_failing_write_keeps_the_file_for_later(store: Store, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append(events("r1", "a"), uuid.uuid4().hex)
    spool.append(events("r1", "b"), uuid.uuid4().hex)
    [path] = spool.pending_files()

    calls: list[int] = []

    def down(records: Sequence[Record], batch_id: str) -> object:
        calls.append(len(records))
        raise StoreUnavailable("Cannot reach the Waldo store at postgresql://db: refused")

    report = spool.replay(down)
    assert calls == [1]
    assert report.files == 0 and report.records == 0
    assert report.failed_files == [path.name]
    assert report.errors == ["Cannot reach the Waldo store at postgresql://db: refused"]
    assert spool.pending_files() == [path]  # back under its own name
    assert spool.count_pending_records() == 2

    assert spool.replay(store.write).records == 2
    assert sorted(event_names(store)) == ["a", "b"]


def test_file_failing_halfway_is_replayed_without_duplicates(store: Store, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append(events("r1", "a"), uuid.uuid4().hex)
    spool.append(events("r1", "b"), uuid.uuid4().hex)
    written: list[str] = []

    def flaky(records: Sequence[Record], batch_id: str) -> object:
        if written:
            raise StoreUnavailable("gone again")
        written.append(batch_id)
        return store.write(records, batch_id)

    assert spool.replay(flaky).failed_files  # first batch written, second failed
    assert event_names(store) == ["a"]
    spool.replay(store.write)
    assert sorted(event_names(store)) == ["a", "b"]


def test_file_claimed_by_a_dead_process_is_taken_over(store: Store, tmp_path: Path) -> None:
    writer = Spool(tmp_path / "spool")
    writer.append(events("r1", "a", "b"), uuid.uuid4().hex)
    [path] = writer.pending_files()
    claimed = path.with_name(f"{path.name}.replaying-{dead_pid()}")
    path.rename(claimed)

    report = Spool(tmp_path / "spool").replay(store.write)

    assert report.records == 2
    assert sorted(event_names(store)) == ["a", "b"]
    assert list((tmp_path / "spool").iterdir()) == []


def test_file_claimed_by_a_live_process_is_left_alone(store: Store, tmp_path: Path) -> None:
    writer = Spool(tmp_path / "spool")
    writer.append(events("r1", "a"), uuid.uuid4().hex)
    [path] = writer.pending_files()
    claimed = path.with_name(f"{path.name}.replaying-{os.getppid()}")
    path.rename(claimed)

    report = Spool(tmp_path / "spool").replay(store.write)

    assert report.records == 0
    assert event_names(store) == []
    assert claimed.exists()


def test_forked_child_never_shares_the_parents_file(tmp_path: Path) -> None:

    spool = Spool(tmp_path / "spool")
    parent_file = spool.own_file
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its own file name and leave at once
        try:
            os.write(write, str(spool.own_file).encode())
        finally:
            os._exit(0)
    os.close(write)
    child_file = os.read(read, 4096).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child_file and child_file != str(parent_file)
    assert f"-{pid}-" in Path(child_file).name
