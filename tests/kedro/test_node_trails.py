"""The hooks send a node's trail once, when it ends; a node still running when the
journal's writer wakes is shown as running first, and no event is written twice.

Drives one ``WaldoHooks`` instance through the hook calls Kedro makes for a run of a
two-node pipeline (no subprocess: the end-to-end runs are in ``test_runners``), against
a real SQLite or PostgreSQL store.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node

from waldo.journal import Recorder
from waldo.kedro.hooks import WaldoHooks
from waldo.store import Store, schema


def double(x: int) -> int:
    return 2 * x


PIPELINE = Pipeline(
    [
        node(double, "params:start", "a", name="first"),
        node(double, "a", "b", name="second"),
    ]
)


def _start(hooks: WaldoHooks, root: Path, catalog: DataCatalog) -> None:
    run_params = {"run_id": "run-1", "project_path": str(root), "pipeline_names": ["__default__"]}
    hooks.before_pipeline_run(run_params=run_params, pipeline=PIPELINE, catalog=catalog)


def _run_node_until_it_runs(hooks: WaldoHooks, n: Any, value: int) -> None:
    [name] = n.inputs
    hooks.before_dataset_loaded(dataset_name=name, node=n)
    hooks.after_dataset_loaded(dataset_name=name, data=value, node=n)
    hooks.before_node_run(node=n, catalog=None, inputs={name: value})


def _finish_node(hooks: WaldoHooks, n: Any, value: int) -> None:
    [name] = n.outputs
    hooks.after_node_run(node=n, outputs={name: value})
    hooks.before_dataset_saved(dataset_name=name, data=value, node=n)
    hooks.after_dataset_saved(dataset_name=name, data=value, node=n)


def _node_rows(store: Store) -> dict[str, dict[str, Any]]:
    with store.connect() as conn:
        rows = conn.execute(sa.select(schema.node_runs)).mappings()
        return {r["node_name"]: dict(r) for r in rows}


def _events(store: Store) -> Counter[tuple[str, str]]:
    with store.connect() as conn:
        rows = conn.execute(sa.select(schema.events.c.event_type, schema.events.c.target_name))
        return Counter((r[0], r[1]) for r in rows)


@pytest.fixture
def recording(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[WaldoHooks, Recorder, Store]:
    """Hooks recording run ``run-1`` (started), their recorder and the store."""
    monkeypatch.setenv("WALDO_DB_URL", store_url)
    monkeypatch.setenv("WALDO_WRITER_PROCESS", "0")  # write in this process: one store
    catalog = DataCatalog({"a": MemoryDataset(), "b": MemoryDataset()})
    hooks = WaldoHooks()
    _start(hooks, tmp_path, catalog)
    recorder = hooks._recorder
    assert recorder is not None
    return hooks, recorder, Store(store_url)


def test_a_node_still_running_when_the_writer_wakes_shows_as_running_then_ends_once(
    recording: tuple[WaldoHooks, Recorder, Store],
) -> None:
    hooks, recorder, store = recording
    first, second = PIPELINE.nodes

    _run_node_until_it_runs(hooks, first, 1)
    recorder.flush()  # the writer wakes while ``first`` runs
    live = _node_rows(store)["first"]
    assert (live["status"], live["finished_at"]) == ("running", None)
    assert set(live["inputs"]) == {"params:start"}
    assert live["params_hashes"] and "params:start" in live["params_hashes"]

    _finish_node(hooks, first, 2)
    _run_node_until_it_runs(hooks, second, 2)
    _finish_node(hooks, second, 4)  # never seen running by the writer
    hooks.after_pipeline_run(run_params={"run_id": "run-1"})

    rows = _node_rows(store)
    assert {name: row["status"] for name, row in rows.items()} == {
        "first": "success",
        "second": "success",
    }
    assert set(rows["first"]["inputs"]) == {"params:start"}  # kept from its live row
    assert set(rows["first"]["outputs"]) == {"a"}
    assert rows["first"]["params_hashes"] == live["params_hashes"]
    assert (set(rows["second"]["inputs"]), set(rows["second"]["outputs"])) == ({"a"}, {"b"})
    events = _events(store)
    assert set(events.values()) == {1}, events  # no event written twice
    loaded = {"before_dataset_loaded", "after_dataset_loaded"}
    saved = {"before_dataset_saved", "after_dataset_saved"}
    expected = {
        "first": {"before_node_run", "after_node_run"},
        "second": {"before_node_run", "after_node_run"},
        "params:start": loaded,
        "a": saved | loaded,
        "b": saved,
    }
    for target, event_types in expected.items():
        assert {t for t, name in events if name == target} == event_types, target


def test_a_node_announced_while_saving_keeps_its_outputs_and_end(
    recording: tuple[WaldoHooks, Recorder, Store],
) -> None:
    """The writer may wake between a node's saves: its live row must not take them."""
    hooks, recorder, store = recording
    first = PIPELINE.nodes[0]
    _run_node_until_it_runs(hooks, first, 1)
    hooks.after_node_run(node=first, outputs={"a": 2})
    hooks.before_dataset_saved(dataset_name="a", data=2, node=first)
    recorder.flush()  # the writer wakes here
    assert _node_rows(store)["first"]["status"] == "running"
    hooks.after_dataset_saved(dataset_name="a", data=2, node=first)
    hooks.after_pipeline_run(run_params={"run_id": "run-1"})

    row = _node_rows(store)["first"]
    assert row["status"] == "success"
    assert row["finished_at"] is not None and row["duration_s"] is not None
    assert isinstance(row["outputs"]["a"], float)  # the save's duration, not None
    assert set(row["output_versions"]) == {"a"}
    assert set(_events(store).values()) == {1}


def test_a_short_node_goes_to_the_writer_as_one_record(
    recording: tuple[WaldoHooks, Recorder, Store],
) -> None:
    hooks, recorder, _store = recording
    recorder.flush()
    before = recorder.writer.totals.written
    first = PIPELINE.nodes[0]
    _run_node_until_it_runs(hooks, first, 1)
    _finish_node(hooks, first, 2)
    recorder.flush()
    assert recorder.writer.totals.written - before == 1
    hooks.after_pipeline_run(run_params={"run_id": "run-1"})
