"""Node trails derived from the hooks' raw entries: the same rows whether the writer's
helper derives them, this process does, or this process takes a run over from a helper
that died; a batch that cannot be written is spooled as trails, which any process can
write; nothing is written twice.

Entries are built here the way the Kedro hooks note them (``waldo.journal._derive``),
and go through a real :class:`~waldo.journal.Recorder` to a real SQLite store (its
helper process is a real child interpreter).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.helpers.journal import settings_for
from waldo.fingerprint import data_fingerprint
from waldo.journal import (
    AS_SAVED,
    NO_PARAMS,
    TRAIL,
    TRAIL_ENTRIES,
    Entry,
    Recorder,
    TrailDeriver,
)
from waldo.journal._derive import write_batch
from waldo.store import Store, schema

RUN = "run-derive"
PID = 4242
T0 = 1_700_000_000.0
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"


def facts(name: str, output: str | None) -> tuple[Any, ...]:
    return (name, f"nodes.{name}", f"code-{name}", (output,) if output else (), None)


def start(name: str, loads: str, t: float) -> list[Any]:
    """A node loading ``loads`` (in memory, saved earlier in the run) and starting."""
    return [
        Entry.LOAD_START, name, loads, t, None,
        Entry.LOADED, name, loads, t + 0.1, AS_SAVED,
        Entry.RUN, name, None, t + 0.2, NO_PARAMS,
    ]  # fmt: skip


def finish(name: str, saves: str, value: int, t: float) -> list[Any]:
    """The same node ending: it ran and saved ``value`` to ``saves``."""
    return [
        Entry.RAN, name, None, t + 0.3, None,
        Entry.SAVE_START, name, saves, t + 0.4, None,
        Entry.SAVED_VALUE, name, saves, t + 0.5, value,
    ]  # fmt: skip


# A run of three nodes in a chain, in three batches as the writer would ship them:
# ``first`` ends in batch 1, ``second`` starts in batch 1 (announced as running) and
# ends in batch 2, ``third`` starts in batch 2 and fails in batch 3.
BATCHES: list[dict[str, Any]] = [
    {
        "entries": start("first", "seed", T0)
        + finish("first", "a", 2, T0)
        + start("second", "a", T0 + 1),
        "facts": facts("first", "a") + facts("second", "b"),
        "announce": True,
    },
    {
        "entries": finish("second", "b", 4, T0 + 1) + start("third", "b", T0 + 2),
        "facts": facts("third", "c"),
        "announce": True,
    },
    {
        "entries": [Entry.ERROR, "third", None, T0 + 2.5, {"error_type": "ValueError"}],
        "facts": (),
        "final": True,
    },
]


def send(recorder: Recorder, batch: dict[str, Any]) -> None:
    recorder.node_entries(
        RUN,
        list(batch["entries"]),
        batch["facts"],
        batch.get("announce", False),
        batch.get("final", False),
    )
    recorder.flush()


def rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    """What a user reads back: node runs, events and dataset versions, sorted, without
    the numbers the database gave the rows."""
    out: dict[str, list[dict[str, Any]]] = {}
    with store.connect() as conn:
        for table in (schema.node_runs, schema.events, schema.dataset_versions):
            found = [dict(r._mapping) for r in conn.execute(sa.select(table))]
            if table is not schema.node_runs:
                for row in found:
                    del row["id"]
            out[table.name] = sorted(found, key=repr)
    return out


@contextlib.contextmanager
def recording(
    url: str, project: Path, monkeypatch: pytest.MonkeyPatch, helper: bool = True
) -> Iterator[Recorder]:
    """A recorder with (once it is ready) or without its helper; closed afterwards."""
    monkeypatch.setenv("WALDO_WRITER_PROCESS", "1" if helper else "0")
    recorder = Recorder(settings_for(url, project))
    recorder._pid = PID  # the rows name the recording process
    recorder.prepare_store()
    recorder.check_store()
    try:
        if helper:
            wait_for_helper(recorder)
        yield recorder
    finally:
        recorder.writer.close()
        recorder._writer_process.close()


def wait_for_helper(recorder: Recorder, timeout: float = 60) -> None:
    process = recorder._writer_process
    deadline = time.monotonic() + timeout
    while process._usable_child() is None:
        assert time.monotonic() < deadline, "the writer's helper never became ready"
        time.sleep(0.05)


@pytest.fixture
def reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The rows of the three batches derived in this process, without a helper."""
    url = f"sqlite:///{tmp_path / 'reference.db'}"
    with recording(url, tmp_path / "ref", monkeypatch, helper=False) as recorder:
        for batch in BATCHES:
            send(recorder, batch)
    store = Store(url)
    yield rows(store)
    store.dispose()


def test_the_reference_rows_are_what_the_run_did(reference: dict[str, Any]) -> None:
    nodes = {row["node_name"]: row for row in reference["node_runs"]}
    assert {name: row["status"] for name, row in nodes.items()} == {
        "first": "success",
        "second": "success",
        "third": "failed",
    }
    assert nodes["third"]["error_type"] == "ValueError"
    assert nodes["second"]["func_name"] == "nodes.second"
    assert nodes["second"]["code_hash"] == "code-second"
    assert set(nodes["second"]["inputs"]) == {"a"}  # from its live row
    assert set(nodes["second"]["outputs"]) == {"b"}  # from its end
    versions = {
        (r["node_name"], r["dataset_name"]): r["version"] for r in reference["dataset_versions"]
    }
    assert versions[("first", "a")] == data_fingerprint(2).digest
    assert versions[("second", "a")] == versions[("first", "a")]  # loaded as it was saved
    assert versions[("third", "b")] == data_fingerprint(4).digest
    assert len(reference["events"]) == 6 + 6 + 4  # third: two loads, its start, its error


def test_the_helper_derives_the_same_rows(
    reference: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'helper.db'}"
    with recording(url, tmp_path / "helper", monkeypatch) as recorder:
        for batch in BATCHES:
            send(recorder, batch)
        assert recorder._local_trails._here == {}  # nothing was derived in this process
    assert rows(Store(url)) == reference


def test_a_run_is_taken_over_when_the_helper_dies(
    reference: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'takeover.db'}"
    with recording(url, tmp_path / "takeover", monkeypatch) as recorder:
        send(recorder, BATCHES[0])  # derived by the helper, which keeps ``second``
        child = recorder._writer_process._child
        assert child is not None
        child.kill()
        child.wait()
        send(recorder, BATCHES[1])  # ``second`` ends here: its start is derived again
        assert list(recorder._local_trails._here) == [(RUN, PID)]  # derived here now
        send(recorder, BATCHES[2])
        assert recorder._local_trails._here == {}  # the run ended: forgotten
    assert rows(Store(url)) == reference


def test_a_batch_that_cannot_be_written_is_spooled_as_trails(
    reference: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    project = tmp_path / "down"
    with (
        recording(UNREACHABLE, project, monkeypatch) as recorder,
        caplog.at_level(logging.WARNING, logger="waldo"),
    ):
        for batch in BATCHES:
            send(recorder, batch)
    assert "keeping events in the local spool" in caplog.text
    spooled: list[tuple[str, Any]] = []
    url = f"sqlite:///{tmp_path / 'later.db'}"
    later = Store(url)
    later.ensure_schema()

    def write(records: Any, batch_id: str) -> bool:
        spooled.extend(records)
        return write_batch(later, records, batch_id)

    report = recorder.spool.replay(write)
    assert report.records == len(spooled) > 0
    assert {table for table, _ in spooled} == {TRAIL}  # self-contained: no raw entries
    assert rows(later) == reference
    assert recorder.spool.replay(write).records == 0  # replayed once


def test_entries_spooled_as_they_came_are_written_as_far_as_they_go(tmp_path: Path) -> None:
    """``waldo sync`` of entries that could not be derived before they were spooled:
    every event is written, a node that ended has its row, one cut off keeps its
    events."""
    store = Store(f"sqlite:///{tmp_path / 'sync.db'}")
    store.ensure_schema()
    row = (RUN, PID, False, False, None, facts("first", "a"), start("first", "seed", T0))
    assert write_batch(store, [(TRAIL_ENTRIES, row)], "b1") is True
    found = rows(store)
    assert len(found["events"]) == 3
    assert found["node_runs"] == []  # it never ended: its events only
    ended = (
        RUN,
        PID,
        False,
        True,
        None,
        facts("second", "b"),
        start("second", "a", T0) + finish("second", "b", 4, T0),
    )
    assert write_batch(store, [(TRAIL_ENTRIES, ended)], "b2") is True
    assert [r["node_name"] for r in rows(store)["node_runs"]] == ["second"]
    assert write_batch(store, [(TRAIL_ENTRIES, ended)], "b2") is False  # once


def test_an_entry_that_cannot_be_derived_is_reported_and_the_rest_kept() -> None:
    """A node whose facts never came (a bug upstream): its start is reported, not
    raised, and the other node's trail is complete."""
    deriver = TrailDeriver(RUN, PID)
    entries = start("ghost", "seed", T0) + start("first", "seed", T0) + finish("first", "a", 2, T0)
    trails = deriver.feed(entries, facts("first", "a"))
    assert deriver.problems == ["could not record before_node_run: 'ghost'"]
    assert [(t[2], t[8]) for t in trails] == [("first", "success")]
