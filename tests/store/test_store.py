"""Store.write: exactly-once batches, merged run rows, content-addressed snapshots."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from waldo._errors import ConfigError, StoreUnavailable
from waldo.store import Record, Store, schema


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = Store(store_url)
    yield store
    store.dispose()


def select_all(store: Store, table: sa.Table, order_by: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(table)
    if order_by is not None:
        query = query.order_by(table.c[order_by])
    with store.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def event(run_id: str, name: str, ts: float | None = None) -> Record:
    return ("events", (run_id, "before_node_run", "abcd1234", name, ts or time.time(), None))


def run_row(run_id: str, **fields: Any) -> Record:
    return ("runs", {"run_id": run_id, **fields})


def node_row(node_id: str, status: str, **fields: Any) -> Record:
    row = {"id": node_id, "run_id": "r1", "node_name": "n", "status": status, **fields}
    return ("node_runs", row)


# -- exactly once -------------------------------------------------------------------------


def test_same_batch_id_twice_writes_rows_once(store: Store) -> None:
    batch = [run_row("r1", status="running", started_at=time.time())]
    batch += [event("r1", f"node_{i}") for i in range(5)]
    batch_id = uuid.uuid4().hex

    assert store.write(batch, batch_id) is True
    assert store.write(batch, batch_id) is False  # a replay: skipped whole

    events = select_all(store, schema.events, "id")
    assert [e["target_name"] for e in events] == [f"node_{i}" for i in range(5)]
    markers = select_all(store, schema.write_batches)
    assert [(m["batch_id"], m["records"]) for m in markers] == [(batch_id, 6)]


def test_different_batches_append(store: Store) -> None:
    store.write([event("r1", "a"), event("r1", "b")], uuid.uuid4().hex)
    store.write([event("r1", "a"), event("r1", "b")], uuid.uuid4().hex)
    store.write([event("r1", "c")])  # no batch id: plain append

    names = [e["target_name"] for e in select_all(store, schema.events, "id")]
    assert names == ["a", "b", "a", "b", "c"]
    assert len(select_all(store, schema.write_batches)) == 2


def test_event_columns_round_trip(store: Store) -> None:
    ts = 1_700_000_000.25
    store.write(
        [("events", ("r9", "after_dataset_loaded", "0123abcd", "companies", ts, 0.5))],
        uuid.uuid4().hex,
    )
    [row] = select_all(store, schema.events)
    assert row["run_id"] == "r9"
    assert row["event_type"] == "after_dataset_loaded"
    assert row["target_id"] == "0123abcd"
    assert row["target_name"] == "companies"
    assert row["timestamp"].timestamp() == pytest.approx(ts, abs=1e-3)
    assert row["timestamp"].utcoffset() is not None  # aware UTC datetimes on both
    assert row["duration_s"] == pytest.approx(0.5)


def test_failed_batch_leaves_no_marker_so_it_can_be_retried(store: Store) -> None:
    batch_id = uuid.uuid4().hex
    bad = [event("r1", "a"), ("events", ("r1", "x"))]  # a row with too few values
    with pytest.raises(ValueError):
        store.write(bad, batch_id)
    assert select_all(store, schema.events) == []
    assert select_all(store, schema.write_batches) == []
    assert store.write([event("r1", "a")], batch_id) is True
    assert len(select_all(store, schema.events)) == 1


# -- runs / node_runs merge ----------------------------------------------------------------


def test_success_then_late_running_row_keeps_success(store: Store) -> None:
    t0 = time.time()
    store.write(
        [run_row("r1", status="running", project="p", started_at=t0, heartbeat_at=t0)],
        uuid.uuid4().hex,
    )
    store.write([run_row("r1", status="success", finished_at=t0 + 5)], uuid.uuid4().hex)
    # a heartbeat-style row that arrives late (a replayed spool, a slow thread)
    store.write([run_row("r1", status="running", heartbeat_at=t0 + 6)], uuid.uuid4().hex)

    [run] = select_all(store, schema.runs)
    assert run["status"] == "success"
    assert run["project"] == "p"  # partial rows never erase other columns
    assert run["finished_at"].timestamp() == pytest.approx(t0 + 5, abs=1e-3)
    assert run["heartbeat_at"].timestamp() == pytest.approx(t0 + 6, abs=1e-3)


def test_status_never_moves_back_within_one_batch(store: Store) -> None:
    store.write(
        [
            run_row("r1", status="running", project="p"),
            run_row("r1", status="failed", error_message="boom"),
            run_row("r1", status="running"),
        ],
        uuid.uuid4().hex,
    )
    [run] = select_all(store, schema.runs)
    assert (run["status"], run["project"], run["error_message"]) == ("failed", "p", "boom")


def test_interrupted_can_be_overridden_by_success(store: Store) -> None:
    store.write([run_row("r1", status="running")], uuid.uuid4().hex)
    store.write([run_row("r1", status="interrupted")], uuid.uuid4().hex)
    assert select_all(store, schema.runs)[0]["status"] == "interrupted"
    store.write([run_row("r1", status="success")], uuid.uuid4().hex)
    assert select_all(store, schema.runs)[0]["status"] == "success"
    store.write([run_row("r1", status="interrupted")], uuid.uuid4().hex)
    assert select_all(store, schema.runs)[0]["status"] == "success"


def test_partial_row_without_status_only_adds_its_fields(store: Store) -> None:
    store.write([run_row("r1", status="success", project="p")], uuid.uuid4().hex)
    # e.g. Recorder.update_run with a hash known only later, in a batch of its own
    assert store.write([run_row("r1", catalog_hash="c" * 64)], uuid.uuid4().hex)
    [run] = select_all(store, schema.runs)
    assert (run["status"], run["project"], run["catalog_hash"]) == ("success", "p", "c" * 64)

    # arriving before the run's first row: a placeholder that the real row overrides
    store.write([run_row("r2", git_sha="abc")], uuid.uuid4().hex)
    store.write([run_row("r2", status="running", project="q")], uuid.uuid4().hex)
    r2 = {r["run_id"]: r for r in select_all(store, schema.runs)}["r2"]
    assert (r2["status"], r2["project"], r2["git_sha"]) == ("running", "q", "abc")


def test_node_runs_merge_like_runs(store: Store) -> None:
    t0 = time.time()
    store.write([node_row("n1", "running", started_at=t0, func_name="f")], uuid.uuid4().hex)
    store.write(
        [node_row("n1", "success", finished_at=t0 + 1, duration_s=1.0, outputs={"d": 0.1})],
        uuid.uuid4().hex,
    )
    store.write([node_row("n1", "running", started_at=t0)], uuid.uuid4().hex)
    store.write([node_row("n2", "failed", error_type="ValueError")], uuid.uuid4().hex)

    rows = {r["id"]: r for r in select_all(store, schema.node_runs)}
    assert set(rows) == {"n1", "n2"}
    assert rows["n1"]["status"] == "success"
    assert rows["n1"]["func_name"] == "f"
    assert rows["n1"]["outputs"] == {"d": 0.1}
    assert rows["n1"]["duration_s"] == pytest.approx(1.0)
    assert (rows["n2"]["status"], rows["n2"]["error_type"]) == ("failed", "ValueError")


# -- snapshots -----------------------------------------------------------------------------


def test_catalogs_and_pipelines_are_inserted_once_per_full_hash(store: Store) -> None:
    full = "a" * 64
    catalog = ("catalogs", {"full_hash": full, "hash": full[:8], "content": {"x": 1}})
    pipeline = (
        "pipelines",
        {"full_hash": full, "hash": full[:8], "name": "__default__", "content": [{"n": 1}]},
    )
    store.write([catalog, pipeline], uuid.uuid4().hex)
    store.write([catalog, pipeline, catalog], uuid.uuid4().hex)
    # same key, other content: the first snapshot is kept (insert-ignore, not update)
    store.write(
        [("catalogs", {"full_hash": full, "hash": full[:8], "content": {"x": 2}})],
        uuid.uuid4().hex,
    )
    assert [(c["full_hash"], c["content"]) for c in select_all(store, schema.catalogs)] == [
        (full, {"x": 1})
    ]
    [p] = select_all(store, schema.pipelines)
    assert (p["name"], p["content"]) == ("__default__", [{"n": 1}])


def test_same_short_hash_different_contents_are_both_stored(store: Store) -> None:
    first, second = "deadbeef" + "1" * 56, "deadbeef" + "2" * 56
    store.write(
        [
            ("catalogs", {"full_hash": first, "hash": "deadbeef", "content": {"a": 1}}),
            ("catalogs", {"full_hash": second, "hash": "deadbeef", "content": {"b": 2}}),
            ("pipelines", {"full_hash": first, "hash": "deadbeef", "content": ["x"]}),
            ("pipelines", {"full_hash": second, "hash": "deadbeef", "content": ["y"]}),
        ],
        uuid.uuid4().hex,
    )
    catalogs = select_all(store, schema.catalogs, "full_hash")
    assert [(c["hash"], c["full_hash"], c["content"]) for c in catalogs] == [
        ("deadbeef", first, {"a": 1}),
        ("deadbeef", second, {"b": 2}),
    ]
    assert [p["content"] for p in select_all(store, schema.pipelines, "full_hash")] == [
        ["x"],
        ["y"],
    ]


# -- errors --------------------------------------------------------------------------------


def test_unknown_table_is_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown journal table"):
        store.write([("users", {"id": 1})], uuid.uuid4().hex)


def test_unreachable_postgres_is_store_unavailable_with_one_line() -> None:
    store = Store("postgresql://postgres:s3cret@127.0.0.1:1/x")
    with pytest.raises(StoreUnavailable) as info:
        store.write([event("r1", "a")], uuid.uuid4().hex)
    message = str(info.value)
    assert "\n" not in message
    assert "s3cret" not in message
    assert "127.0.0.1:1" in message


@pytest.mark.parametrize("url", ["notaurl", "mysql://x/y", ""])
def test_bad_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        Store(url).ping()
