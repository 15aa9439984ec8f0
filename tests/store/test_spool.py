"""The spool: rows kept on disk while the store is down, replayed exactly once."""

from __future__ import annotations

import logging
import os
import shutil
import stat
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


def test_file_claimed_by_a_live_replay_is_left_until_it_dies(store: Store, tmp_path: Path) -> None:
    writer = Spool(tmp_path / "spool")
    writer.append(events("r1", "a"), uuid.uuid4().hex)
    [path] = writer.pending_files()
    claimed = path.with_name(f"{path.name}.replaying-{uuid.uuid4().hex[:12]}")
    path.rename(claimed)
    holder = subprocess.Popen(  # a replay in another process: it holds the claim's lock
        [sys.executable, "-c", HOLD_LOCK, str(claimed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        assert Spool(tmp_path / "spool").pending_files() == []
        report = Spool(tmp_path / "spool").replay(store.write)
        assert (report.files, report.records) == (0, 0)
        assert event_names(store) == [] and claimed.exists()
    finally:
        holder.kill()  # dies without a word: the OS releases its lock
        holder.wait()

    report = Spool(tmp_path / "spool").replay(store.write)
    assert (report.files, report.written) == (1, 1)
    assert event_names(store) == ["a"]
    assert list((tmp_path / "spool").iterdir()) == []


HOLD_LOCK = """
import fcntl, sys
handle = open(sys.argv[1], "rb")
fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def test_claim_named_after_a_live_pid_without_its_lock_is_taken_over(
    store: Store, tmp_path: Path
) -> None:
    """A claim left by a replay that died, whose process id is now another process's
    (here this test's own): the free lock, not the name, says nobody holds it."""
    writer = Spool(tmp_path / "spool")
    writer.append(events("r1", "a", "b"), uuid.uuid4().hex)
    [path] = writer.pending_files()
    claimed = path.with_name(f"{path.name}.replaying-{os.getpid()}")
    path.rename(claimed)

    assert Spool(tmp_path / "spool").pending_files() == [claimed]
    report = Spool(tmp_path / "spool").replay(store.write)

    assert (report.files, report.written) == (1, 2)
    assert sorted(event_names(store)) == ["a", "b"]
    assert list((tmp_path / "spool").iterdir()) == []


REPLAY_THEN_EXIT = """
import sys, threading, time
from pathlib import Path
from waldo.store import Spool

def stuck(records, batch_id):  # a store that never answers
    Path(sys.argv[2]).touch()
    time.sleep(3600)

threading.Thread(target=Spool(Path(sys.argv[1])).replay, args=(stuck,), daemon=True).start()
while not Path(sys.argv[2]).exists():
    time.sleep(0.01)
"""


def test_replay_cut_short_by_its_process_ending_is_picked_up_later(
    store: Store, tmp_path: Path
) -> None:
    """A short run ends while its replay thread still waits on the store."""
    spool = Spool(tmp_path / "spool")
    spool.append(events("r1", "a"), uuid.uuid4().hex)
    spool.append(events("r1", "b"), uuid.uuid4().hex)
    started = tmp_path / "started"
    subprocess.run(
        [sys.executable, "-c", REPLAY_THEN_EXIT, str(spool.directory), str(started)],
        check=True,
        timeout=120,
    )
    [left] = spool.directory.iterdir()
    assert ".replaying-" in left.name  # claimed, nothing written

    report = Spool(tmp_path / "spool").replay(store.write)

    assert (report.files, report.written) == (1, 2)
    assert sorted(event_names(store)) == ["a", "b"]
    assert list(spool.directory.iterdir()) == []


def corrupt_one_line(spool: Spool, store: Store) -> tuple[Path, bytes]:
    """Spool one batch of three events, break its second line, replay: the other two
    are written and the broken line set aside. Returns the .corrupt file and the line."""
    spool.append(events("r1", "a", "b", "c"), uuid.uuid4().hex)
    path = spool.own_file
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"\n".join([lines[0], lines[1][:-9], lines[2]]) + b"\n")
    report = spool.replay(store.write)
    assert (report.written, report.corrupt_lines) == (2, 1)
    assert sorted(event_names(store)) == ["a", "c"]
    return path.with_name(path.name + ".corrupt"), lines[1]


def test_corrupt_file_is_private_like_the_spool(store: Store, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        spool = Spool(tmp_path / "spool")
        corrupt, _ = corrupt_one_line(spool, store)
    finally:
        os.umask(old)
    assert stat.S_IMODE(corrupt.stat().st_mode) == 0o600


def test_repaired_corrupt_line_is_written_once(store: Store, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    corrupt, line = corrupt_one_line(spool, store)
    assert spool.count_corrupt_lines() == 1
    assert spool.replay(store.write).records == 0  # a run's replay leaves it aside

    corrupt.write_bytes(line + b"\n")  # the user repairs it
    backup = corrupt.read_bytes()
    report = spool.replay(store.write, retry_corrupt=True)

    assert (report.written, report.already, report.repaired) == (1, 0, 1)
    assert sorted(event_names(store)) == ["a", "b", "c"]
    assert not corrupt.exists()
    corrupt.write_bytes(backup)  # as if that sync died before deleting the file
    again = spool.replay(store.write, retry_corrupt=True)
    assert (again.written, again.already) == (0, 1)
    assert sorted(event_names(store)) == ["a", "b", "c"]
    assert list(spool.directory.iterdir()) == []


def test_corrupt_lines_that_still_do_not_parse_stay_aside(store: Store, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    corrupt, line = corrupt_one_line(spool, store)
    corrupt.write_bytes(line + b"\n{still broken\n")  # one of two repaired

    report = spool.replay(store.write, retry_corrupt=True)

    assert (report.written, report.repaired, report.corrupt_lines) == (1, 1, 1)
    assert corrupt.read_bytes() == b"{still broken\n"
    assert stat.S_IMODE(corrupt.stat().st_mode) == 0o600
    assert sorted(event_names(store)) == ["a", "b", "c"]


def test_repaired_lines_wait_while_the_store_is_down(store: Store, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    corrupt, line = corrupt_one_line(spool, store)
    corrupt.write_bytes(line + b"\n")

    def down(records: Sequence[Record], batch_id: str) -> object:
        raise StoreUnavailable("Cannot reach the Waldo store at postgresql://db: refused")

    report = spool.replay(down, retry_corrupt=True)
    assert report.failed_files == [corrupt.name]
    assert corrupt.read_bytes() == line + b"\n"
    assert spool.replay(store.write, retry_corrupt=True).written == 1
    assert sorted(event_names(store)) == ["a", "b", "c"]


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
