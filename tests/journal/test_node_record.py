"""Node records: what the hooks note about a node becomes its node run, events and
dataset versions (a live row while it runs, the rest at its end), the same rows
whether written at once or replayed from the spool."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.helpers.journal import recorder_for
from waldo.fingerprint import content_digest
from waldo.journal import DatasetAccess, ErrorFields, NodeRecord
from waldo.journal._node_record import node_rows
from waldo.journal._rows import node_run_id
from waldo.store import Store, schema
from waldo.store._spool import decode_record, encode_record

T0 = 1_700_000_000.0


def _rows(store: Store, table: sa.Table) -> list[dict[str, object]]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table))]


def _version(access: DatasetAccess, version: str) -> None:
    access.versioned = True
    access.version = access.data_digest = version
    access.data_kind = "int"


def _record_node(recorder, run_id: str = "r1") -> None:  # type: ignore[no-untyped-def]
    """What the Kedro hooks send for a node that loads a parameter and ``a`` and
    saves ``b``: its live record as it starts to run, its record at its end; the
    version of ``b`` is left to the writer's thread."""
    record = NodeRecord(run_id, "n", 123, T0, func_name="nodes.step", code_hash="code1")
    record.loads.append(DatasetAccess("params:k", T0, T0 + 0.5))
    record.loads.append(DatasetAccess("a", T0 + 1, T0 + 3))
    _version(record.loads[-1], "va")
    record.ran_at, record.params_hashes = T0 + 4, {"params:k": "p1"}
    recorder.record_node(record)
    record.ran_until = T0 + 6
    save = DatasetAccess("b", T0 + 7, T0 + 10, stats={"rows": 3})
    save.later = lambda access: _version(access, "vb")
    record.saves.append(save)
    record.status, record.finished_at = "success", T0 + 10
    recorder.record_node(record)


def test_a_node_record_becomes_its_node_run_events_and_versions(
    store_url: str, tmp_path: Path
) -> None:
    recorder = recorder_for(store_url, tmp_path)
    _record_node(recorder)
    assert recorder.flush().error is None
    store = Store(store_url)

    [node] = _rows(store, schema.node_runs)
    assert node["id"] == node_run_id("r1", "n")
    assert (node["status"], node["func_name"], node["code_hash"]) == (
        "success",
        "nodes.step",
        "code1",
    )
    assert node["params_hashes"] == {"params:k": "p1"}
    assert node["duration_s"] == 10.0  # from the first load to the last save
    assert node["inputs"] == {"params:k": 0.5, "a": 2.0}
    assert node["outputs"] == {"b": 3.0}
    assert node["input_versions"] == {"a": "va"}
    assert node["output_versions"] == {"b": "vb"}

    events = sorted(_rows(store, schema.events), key=lambda e: e["timestamp"])  # type: ignore[arg-type, return-value]
    assert [e["event_type"] for e in events] == [
        "before_dataset_loaded",
        "after_dataset_loaded",
        "before_dataset_loaded",
        "after_dataset_loaded",
        "before_node_run",
        "after_node_run",
        "before_dataset_saved",
        "after_dataset_saved",
    ]
    assert [e["duration_s"] for e in events if str(e["event_type"]).startswith("after_d")] == [
        0.5,
        2.0,
        3.0,
    ]
    assert all(len(str(e["target_id"])) == 8 for e in events)

    versions = {
        (v["dataset_name"], v["operation"]): v for v in _rows(store, schema.dataset_versions)
    }
    assert set(versions) == {("a", "load"), ("b", "save")}
    assert versions[("b", "save")]["version"] == "vb"
    assert versions[("b", "save")]["stats"] == {"rows": 3}


def test_a_node_shows_running_with_its_inputs_before_it_ends(
    store_url: str, tmp_path: Path
) -> None:
    recorder = recorder_for(store_url, tmp_path)
    recorder.record_node(NodeRecord("r2", "slow", 123, T0, func_name="nodes.slow", ran_at=T0))
    assert recorder.flush().error is None
    [node] = _rows(Store(store_url), schema.node_runs)
    assert (node["status"], node["finished_at"]) == ("running", None)
    [event] = _rows(Store(store_url), schema.events)
    assert event["event_type"] == "before_node_run"


def test_a_spooled_record_keeps_its_rows() -> None:
    """The spool keeps a batch's rows as JSON lines (tuples come back as lists): a
    replay writes the same values."""
    record = NodeRecord("r1", "n", 123, T0, func_name="nodes.step", ran_at=T0 + 1)
    record.loads.append(DatasetAccess("a", T0, T0 + 1))
    _version(record.loads[-1], "va")
    record.status, record.finished_at = "failed", T0 + 2
    record.error = ErrorFields("ValueError", "bad", "tb")
    rows = node_rows(record)
    replayed = [decode_record(encode_record(row, "batch-1"))[1] for row in rows]
    assert [(table, list(row) if isinstance(row, tuple) else row) for table, row in rows] == [
        (table, list(row) if isinstance(row, tuple) else row) for table, row in replayed
    ]
    assert [table for table, _ in rows].count("dataset_versions") == 1
    assert [row[1] for table, row in rows if table == "events"][-1] == "on_node_error"
    [node_row] = [row for table, row in rows if table == "node_runs"]
    assert isinstance(node_row, dict)
    assert (node_row["status"], node_row["error_type"]) == ("failed", "ValueError")


def test_pipeline_snapshots_keep_their_hash_and_content(store_url: str, tmp_path: Path) -> None:
    """Snapshots travel as JSON text; their hash is the one earlier versions stored."""
    content = {"nodes": [{"name": "load", "inputs": ["a"], "tags": []}]}
    recorder = recorder_for(store_url, tmp_path)
    full = recorder.snapshot("pipelines", content, name="__default__")
    assert full == content_digest({"name": "__default__", "content": content})
    assert recorder.snapshot("catalogs", {"a": {"type": "x"}}) == content_digest(
        {"a": {"type": "x"}}
    )
    assert recorder.flush().error is None
    [row] = _rows(Store(store_url), schema.pipelines)
    assert row["content"] == content


def test_node_run_ids_of_one_run_share_a_prefix_and_stay_distinct() -> None:
    """A run's node rows sit next to each other in the primary key's index (their ids
    share the run's prefix), yet every node of every run has its own id, the same in
    every process."""
    ids = {(run, n): node_run_id(run, f"node{n}") for run in ("r1", "r2") for n in range(500)}
    assert len(set(ids.values())) == len(ids)
    assert all(len(value) == 32 for value in ids.values())
    assert {ids["r1", n][:8] for n in range(500)} == {ids["r1", 0][:8]}
    assert ids["r1", 0][:8] != ids["r2", 0][:8]
    assert node_run_id("r1", "node7") == ids["r1", 7]
