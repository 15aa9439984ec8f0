"""The hooks record a node as it starts to run (its live row: it shows as running) and
when it ends, and no event is written twice; versions are of what was saved.

Drives one ``WaldoHooks`` instance through the hook calls Kedro makes for a run of a
two-node pipeline (no subprocess: the end-to-end runs are in ``test_runners``), against
a real SQLite or PostgreSQL store.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node

from waldo.fingerprint import data_fingerprint
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


@pytest.fixture(params=[None], ids=["inferred"])
def recording(
    request: pytest.FixtureRequest, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[WaldoHooks, Recorder, Store]:
    """Hooks recording run ``run-1`` (started), their recorder and the store; the
    memory datasets' copy mode is the fixture's parameter (None: Kedro infers it)."""
    monkeypatch.setenv("WALDO_DB_URL", store_url)
    mode = request.param
    catalog = DataCatalog({"a": MemoryDataset(copy_mode=mode), "b": MemoryDataset(copy_mode=mode)})
    hooks = WaldoHooks()
    _start(hooks, tmp_path, catalog)
    recorder = hooks._recorder
    assert recorder is not None
    return hooks, recorder, Store(store_url)


def test_a_node_shows_as_running_while_it_runs_then_ends_once(
    recording: tuple[WaldoHooks, Recorder, Store],
) -> None:
    hooks, recorder, store = recording
    first, second = PIPELINE.nodes

    _run_node_until_it_runs(hooks, first, 1)
    recorder.flush()  # whenever the writer wakes while ``first`` runs
    live = _node_rows(store)["first"]
    assert (live["status"], live["finished_at"]) == ("running", None)
    assert set(live["inputs"]) == {"params:start"}
    assert live["params_hashes"] and "params:start" in live["params_hashes"]

    _finish_node(hooks, first, 2)
    _run_node_until_it_runs(hooks, second, 2)
    _finish_node(hooks, second, 4)  # its live row and its end in one batch
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
    """The writer may wake between a node's saves: they all go with its end."""
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


def test_an_in_memory_dataset_is_loaded_with_the_version_its_save_recorded(
    recording: tuple[WaldoHooks, Recorder, Store],
) -> None:
    hooks, _recorder, store = recording
    first, second = PIPELINE.nodes
    _run_node_until_it_runs(hooks, first, 1)
    _finish_node(hooks, first, 2)
    _run_node_until_it_runs(hooks, second, 2)
    _finish_node(hooks, second, 4)
    hooks.after_pipeline_run(run_params={"run_id": "run-1"})

    rows = _node_rows(store)
    saved = rows["first"]["output_versions"]["a"]
    assert saved == data_fingerprint(2).digest
    assert rows["second"]["input_versions"]["a"] == saved
    assert rows["second"]["output_versions"]["b"] == data_fingerprint(4).digest


@pytest.mark.parametrize("recording", ["assign", "deepcopy"], indirect=True)
def test_a_saved_object_is_fingerprinted_as_it_was_saved(
    recording: tuple[WaldoHooks, Recorder, Store],
) -> None:
    """The version is of what was saved: fingerprinted at once when the next node gets
    the very object (``assign``), later when it gets a copy and the dataset keeps one."""
    hooks, _recorder, store = recording
    first = PIPELINE.nodes[0]
    output = [2]
    _run_node_until_it_runs(hooks, first, 1)
    hooks._catalog.save("a", output)  # what Kedro does between the two save hooks
    _finish_node(hooks, first, output)  # type: ignore[arg-type]
    hooks._catalog.load("a").append(3)  # the next node changes what it loads
    hooks.after_pipeline_run(run_params={"run_id": "run-1"})

    assert _node_rows(store)["first"]["output_versions"]["a"] == data_fingerprint([2]).digest


INTERRUPTED_RUN = """
import sys, time
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from waldo.kedro.hooks import WaldoHooks

def double(x):
    return 2 * x

nodes = [node(double, "params:start", "d0", name="n0")]
nodes += [node(double, f"d{i - 1}", f"d{i}", name=f"n{i}") for i in range(1, 60)]
pipeline = Pipeline(nodes)
catalog = DataCatalog({f"d{i}": MemoryDataset() for i in range(60)})
hooks = WaldoHooks()
run_params = {"run_id": "run-1", "project_path": sys.argv[1], "pipeline_names": ["__default__"]}
hooks.before_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)
writer = hooks._recorder.writer
writer.interval = 60.0  # from its next wake-up on, the writer sleeps past the end
time.sleep(0.7)  # the writer's first wake-up (after 0.5 s) has passed
n0 = pipeline.nodes[0]
hooks.before_dataset_loaded(dataset_name="params:start", node=n0)
hooks.after_dataset_loaded(dataset_name="params:start", data=1, node=n0)
hooks.before_node_run(node=n0, catalog=catalog, inputs={"params:start": 1})
hooks.after_node_run(node=n0, outputs={"d0": 2})
hooks.before_dataset_saved(dataset_name="d0", data=2, node=n0)
hooks.after_dataset_saved(dataset_name="d0", data=2, node=n0)
raise KeyboardInterrupt  # Kedro calls no hook for it: the run never ends
"""


def test_a_node_that_ended_before_an_interrupted_exit_is_recorded(tmp_path: Path) -> None:
    """The hooks leave a node's record to the writer's next wake-up; a process that
    exits first (Ctrl-C, which Kedro reports to no hook) still writes it: the writer's
    last flush, at exit."""
    url = f"sqlite:///{tmp_path / 'waldo.db'}"
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED_RUN)
    env = {**os.environ, "WALDO_DB_URL": url}
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert "KeyboardInterrupt" in proc.stderr, proc.stderr
    row = _node_rows(Store(url))["n0"]
    assert row["status"] == "success"
    assert set(row["outputs"]) == {"d0"}
