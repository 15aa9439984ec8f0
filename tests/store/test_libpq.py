"""The writer helper's libpq client: the same rows as psycopg, the same kinds of errors."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from waldo.store import Record, Store, WriterProcess
from waldo.store._batch_sql import copy_data, write_rows
from waldo.store._bulk import batch_plans
from waldo.store._driver import describe_problem, is_unreachable
from waldo.store._engine import driver_target
from waldo.store._libpq import Connection, DatabaseError, OperationalError, load

pytestmark = pytest.mark.skipif(load() is None, reason="libpq cannot be loaded here")

AWKWARD = [
    "tab\there",
    "two\nlines",
    "carriage\rreturn",
    "back\\slash",
    "\\N",  # the text, not NULL
    "",
    "naïve 😀 'quoted' \"double\"",
    "%s and $1",
]


@pytest.fixture(scope="module")
def store(pg_url: str) -> Iterator[Store]:
    store = Store(pg_url)
    store.ensure_schema()
    yield store
    store.dispose()


@pytest.fixture
def libpq(pg_url: str) -> Iterator[Connection]:
    target = driver_target(pg_url)
    assert target is not None
    connection = Connection(target.params)
    yield connection
    connection.close()


def test_parameters_go_as_text_and_rows_come_back_as_text(libpq: Connection) -> None:
    cursor = libpq.cursor()
    cursor.execute(
        "SELECT %s::text, %s::bool, %s::int8, %s::float8, %s::text, %s::text",
        (None, True, 42, 0.1, "naïve 'x'", "%s"),
    )
    assert cursor.fetchone() == (None, "t", "42", "0.1", "naïve 'x'", "%s")
    assert cursor.fetchone() is None
    libpq.rollback()


def test_copy_data_round_trips_every_awkward_string(libpq: Connection) -> None:
    rows = [(text, float(i), None if i % 2 else f"j{i}") for i, text in enumerate(AWKWARD)]
    cursor = libpq.cursor()
    cursor.execute("CREATE TEMP TABLE t (s text, f float8, n text) ON COMMIT DROP")
    with cursor.copy("COPY t (s, f, n) FROM STDIN") as copy:
        copy.write(copy_data(3, rows))
    got = libpq.execute("SELECT s, f, n FROM t ORDER BY f")
    assert [(s, float(f or 0), n) for s, f, n in got] == rows
    libpq.rollback()


def test_copy_data_needs_no_escaping_for_plain_rows() -> None:
    assert copy_data(3, [("a", 1.5, None), ("b", True, 2)]) == b"a\t1.5\t\\N\nb\tTrue\t2\n"
    assert copy_data(2, [("a\tb", "c\\d")]) == b"a\\tb\tc\\\\d\n"
    assert copy_data(2, []) == b""


def test_a_refused_statement_is_a_database_error_and_the_connection_lives_on(
    libpq: Connection,
) -> None:
    with pytest.raises(DatabaseError) as raised:
        libpq.execute("SELECT * FROM no_such_table")
    assert not isinstance(raised.value, OperationalError)
    assert raised.value.sqlstate == "42P01"
    assert not is_unreachable(raised.value)
    assert describe_problem(raised.value, "db")[0] == "error"
    libpq.rollback()
    assert libpq.execute("SELECT 1") == [("1",)]


def test_a_bad_copy_is_refused_and_rolled_back(libpq: Connection) -> None:
    libpq.execute("CREATE TEMP TABLE n (x int8)")
    with pytest.raises(DatabaseError, match="invalid input syntax"):
        libpq.copy_in("COPY n (x) FROM STDIN", b"not a number\n")
    libpq.rollback()
    assert libpq.execute("SELECT 1") == [("1",)]


def test_an_unreachable_server_is_an_operational_error_in_one_line() -> None:
    target = driver_target("postgresql://postgres@127.0.0.1:1/x")
    assert target is not None
    with pytest.raises(OperationalError) as raised:
        Connection(target.params)
    assert is_unreachable(raised.value)
    kind, message = describe_problem(raised.value, "postgresql://127.0.0.1:1/x")
    assert kind == "unavailable"
    assert "\n" not in message and "Connection refused" in message


def test_a_lost_connection_is_an_operational_error(libpq: Connection, store: Store) -> None:
    (pid,) = libpq.execute("SELECT pg_backend_pid()")[0]
    libpq.commit()
    with store.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    with pytest.raises(OperationalError):
        libpq.execute("SELECT 1")


def _batch(run_id: str, now: float) -> list[Record]:
    records: list[Record] = [
        (
            "runs",
            {"run_id": run_id, "status": "running", "started_at": now, "pipeline_names": ["a"]},
        ),
        ("runs", {"run_id": run_id, "status": "failed", "finished_at": now + 1}),
    ]
    for i, text in enumerate(AWKWARD):
        node_id = f"{run_id}-{i}"
        records.append(("events", (run_id, "before_node_run", f"{i:08x}", text, now + i, None)))
        records.append(
            (
                "node_runs",
                {
                    "id": node_id,
                    "run_id": run_id,
                    "node_name": text or "empty",
                    "status": "failed" if i % 2 else "success",
                    "started_at": now + i,
                    "duration_s": i / 3,
                    "inputs": {text: None, "n": [1, 2.5, "x\ty"]},
                    "traceback": f"Traceback:\n\t{text}\r\n" if i % 2 else None,
                    "pid": 1234.0 if i % 2 else 1234,  # a float in an integer column
                },
            )
        )
    records.append(("node_runs", {"id": f"{run_id}-0", "run_id": run_id, "status": "running"}))
    return records


def _contents(store: Store, run_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """The run's rows, with the run id taken out of every value."""
    queries = {
        "runs": "SELECT status, started_at, finished_at, pipeline_names FROM waldo.runs "
        "WHERE run_id = %(r)s",
        "events": "SELECT event_type, target_id, target_name, timestamp, duration_s "
        "FROM waldo.events WHERE run_id = %(r)s ORDER BY id",
        "node_runs": "SELECT replace(id, %(r)s, ''), node_name, status, started_at, "
        "duration_s, inputs, traceback, pid FROM waldo.node_runs WHERE run_id = %(r)s ORDER BY id",
    }
    with store.connect() as conn:
        return {
            name: [tuple(row) for row in conn.exec_driver_sql(sql, {"r": run_id})]
            for name, sql in queries.items()
        }


def test_a_batch_written_through_libpq_equals_one_written_through_psycopg(
    store: Store, libpq: Connection
) -> None:
    """The helper (libpq) and the store in process (psycopg, through SQLAlchemy) write
    the same batch to the same rows: awkward text, JSON, NULLs, timestamps, merges."""
    plans, now = batch_plans(), time.time()
    assert write_rows(libpq, "postgresql", plans, _batch("via-libpq", now), "b-libpq") is True
    libpq.commit()
    assert write_rows(libpq, "postgresql", plans, _batch("via-libpq", now), "b-libpq") is False
    libpq.rollback()
    assert store.write(_batch("via-psycopg", now), "b-psycopg") is True
    via_libpq = _contents(store, "via-libpq")
    assert via_libpq == _contents(store, "via-psycopg")
    assert via_libpq["runs"][0][0] == "failed"
    assert [row[1] for row in via_libpq["events"]] == [f"{i:08x}" for i in range(len(AWKWARD))]
    assert [row[2] for row in via_libpq["events"]] == AWKWARD
    assert via_libpq["node_runs"][0][2] == "success"  # "running" came later: ranks lower


def _mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def _child_maps_after_one_batch(store: Store, run_id: str) -> str:
    """Start a helper, have it write one event of ``run_id``; its mapped files."""
    process = WriterProcess(store.url, store.write)
    process.start()
    try:
        deadline = time.monotonic() + 60
        while process._usable_child() is None:
            assert time.monotonic() < deadline, "the writer process never became ready"
            time.sleep(0.05)
        record: Record = ("events", (run_id, "before_node_run", None, "x", time.time(), None))
        assert process([record], f"batch-{run_id}") is True
        child = process._child
        assert child is not None
        maps = _mapped_files(child.pid)
    finally:
        process.close()
    with store.connect() as conn:
        query = sa.text("SELECT count(*) FROM waldo.events WHERE run_id = :r")
        assert conn.execute(query, {"r": run_id}).scalar_one() == 1
    return maps


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_the_child_reaches_postgresql_without_importing_psycopg(store: Store) -> None:
    """psycopg's import is most of a helper's start-up CPU on PostgreSQL: the child
    writes through libpq and never loads psycopg's compiled modules."""
    import psycopg

    assert psycopg.connect  # the check below looks for this package's files
    assert "_psycopg" in _mapped_files(os.getpid())
    maps = _child_maps_after_one_batch(store, "child-libpq")
    assert "libpq" in maps
    assert "_psycopg" not in maps


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_waldo_libpq_0_makes_the_child_use_psycopg(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WALDO_LIBPQ", "0")
    assert "_psycopg" in _child_maps_after_one_batch(store, "child-psycopg")
