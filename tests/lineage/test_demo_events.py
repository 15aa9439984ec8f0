"""The OpenLineage events of a real demo run (``waldo demo``: ``kedro run`` in a
subprocess) validate against the official schemas and carry the facets Waldo knows;
a DPO execution is a job of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import run_waldo
from tests.kedro._e2e import subprocess_env
from tests.lineage._schema import validate


@pytest.fixture(scope="module")
def demo_events(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("lineage") / "shop"
    made = subprocess.run(
        [sys.executable, "-m", "waldo.cli", "demo", str(root), "--runs", "1"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert made.returncode == 0, made.stderr
    out = root / "events.jsonl"
    db = f"sqlite:///{root / '.waldo' / 'waldo.db'}"
    sent = run_waldo("--db", db, "export", "openlineage", "--transport", "file", "--path", str(out))
    assert sent.returncode == 0, sent.stderr
    return root, [json.loads(line) for line in out.read_text().splitlines()]


@pytest.mark.slow
def test_every_event_and_facet_validates(demo_events: tuple[Path, list[dict[str, Any]]]) -> None:
    _, events = demo_events
    checked: set[str] = set()
    for event in events:
        checked.update(where.rsplit(".", 1)[-1] for where in validate(event))
    wanted = {"schema", "dataSource", "outputStatistics", "version", "symlinks"}
    assert wanted | {"sourceCodeLocation", "parent", "jobType"} <= checked


@pytest.mark.slow
def test_files_are_named_by_their_absolute_path(
    demo_events: tuple[Path, list[dict[str, Any]]],
) -> None:
    root, events = demo_events
    outputs = {
        o["facets"]["symlinks"]["identifiers"][0]["name"]: o
        for e in events
        for o in e.get("outputs", [])
    }
    clean = outputs["clean_orders"]
    assert clean["namespace"] == "file"
    assert clean["name"] == str(root.resolve() / "data/02_intermediate/clean_orders.parquet")
    assert clean["facets"]["symlinks"]["identifiers"][0]["namespace"] == "shop"
    fields = [f["name"] for f in clean["facets"]["schema"]["fields"]]
    assert fields == ["order_id", "customer", "country", "amount"]
    statistics = clean["outputFacets"]["outputStatistics"]
    assert statistics["rowCount"] > 0 and statistics["size"] > 0
    assert len(clean["facets"]["version"]["datasetVersion"]) == 32
    reads = [i for e in events for i in e.get("inputs", [])]
    assert {i["name"] for i in reads} >= {str(root.resolve() / "data/01_raw/orders.csv")}


@pytest.mark.slow
def test_nodes_say_where_their_function_is(
    demo_events: tuple[Path, list[dict[str, Any]]],
) -> None:
    root, events = demo_events
    node = next(e for e in events if e["job"]["name"] == "shop.__default__.clean_orders")
    location = node["job"]["facets"]["sourceCodeLocation"]
    source = root / "src" / "waldo_demo" / "nodes.py"
    line = (
        source.read_text()
        .splitlines()
        .index(
            next(x for x in source.read_text().splitlines() if x.startswith("def clean_orders("))
        )
    )
    assert location["url"] == f"{source.resolve().as_uri()}#L{line + 1}"
    assert location["path"] == "src/waldo_demo/nodes.py"


def test_a_dpo_execution_is_its_own_job(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'journal.db'}"
    env = subprocess_env()

    def dpo(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "waldo.dpo", db, *args],
            env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    execution = dpo("init-execution", "--name", "nightly-dbt")
    dpo("complete-execution", execution)
    out = tmp_path / "events.jsonl"
    sent = run_waldo("--db", db, "export", "openlineage", "--transport", "file", "--path", str(out))
    assert sent.returncode == 0, sent.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        ("waldo.nightly-dbt", "START"),
        ("waldo.nightly-dbt", "COMPLETE"),
    ]
    for event in events:
        validate(event)
