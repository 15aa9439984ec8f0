"""Node trails: compact records of a node's steps (a live one while it runs, one at its
end), expanded into the journal's rows by the writer (in its helper process, in
process, or from the spool)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.helpers.journal import recorder_for
from waldo.fingerprint import content_digest
from waldo.journal import TRAIL, dataset_step, expand_trails, node_run_id, node_step
from waldo.store import Store, schema
from waldo.store._spool import decode_record, encode_record

T0 = 1_700_000_000.0


def _rows(store: Store, table: sa.Table) -> list[dict[str, object]]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table))]


def _record_node(recorder, run_id: str = "r1") -> None:  # type: ignore[no-untyped-def]
    """What the Kedro hooks send for a node that loads a parameter and ``a`` and
    saves ``b`` and was still running when the writer woke: a live trail with the
    loads, an end trail with the saves."""
    start: list[object] = []
    node_step(start, "before_dataset_loaded", "params:k", T0)
    node_step(start, "after_dataset_loaded", "params:k", T0 + 0.5)
    node_step(start, "before_dataset_loaded", "a", T0 + 1)
    dataset_step(start, "after_dataset_loaded", "a", T0 + 3, ("va", "va", "int", None))
    node_step(start, "before_node_run", "n", T0 + 4)
    recorder.node_trail(run_id, "n", "nodes.step", T0, "code1", {"params:k": "p1"}, steps=start)
    end: list[object] = []
    node_step(end, "after_node_run", "n", T0 + 6)
    node_step(end, "before_dataset_saved", "b", T0 + 7)
    dataset_step(end, "after_dataset_saved", "b", T0 + 10, ("vb", "vb", "int", None), '{"rows":3}')
    recorder.node_trail(
        run_id, "n", "nodes.step", T0, "code1", {"params:k": "p1"}, status="success", steps=end
    )


def test_a_node_trail_becomes_its_node_run_events_and_versions(
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
    steps: list[object] = []
    node_step(steps, "before_node_run", "slow", T0)
    recorder.node_trail("r2", "slow", "nodes.slow", T0, steps=steps)
    assert recorder.flush().error is None
    [node] = _rows(Store(store_url), schema.node_runs)
    assert (node["status"], node["finished_at"]) == ("running", None)
    [event] = _rows(Store(store_url), schema.events)
    assert event["event_type"] == "before_node_run"


def test_a_spooled_trail_expands_to_the_same_rows() -> None:
    """The spool keeps trails as JSON lines (tuples come back as lists): a replay
    must build exactly the rows the helper process would have built."""
    steps: list[object] = []
    node_step(steps, "before_dataset_loaded", "a", T0)
    dataset_step(steps, "after_dataset_loaded", "a", T0 + 1, ("va", "va", "int", None))
    node_step(steps, "on_node_error", "n", T0 + 2)
    error = {"error_type": "ValueError", "error_message": "bad", "traceback": "tb"}
    trail = ("r1", "n", "nodes.step", T0, 123, "code1", "{}", "failed", None, error, *steps)
    _, replayed = decode_record(encode_record((TRAIL, trail), "batch-1"))
    rows = expand_trails([(TRAIL, trail)])
    assert expand_trails([replayed]) == rows
    assert [table for table, _ in rows].count("dataset_versions") == 1
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
