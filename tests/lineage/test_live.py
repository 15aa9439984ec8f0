"""Live OpenLineage events from ``kedro run`` (``lineage:`` in waldo.yml): to a file, to a
real HTTP server on 127.0.0.1 with an API key, and a dead lineage server that must not
fail the run."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.projects import chain_project
from tests.kedro._e2e import journal_at, output_of, run_kedro, waldo_warnings
from tests.lineage._schema import validate
from waldo.journal._rows import describe_error
from waldo.lineage import LiveLineage, run_events, run_uuid

pytestmark = pytest.mark.slow

NODES = 3


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chain_project(
        tmp_path_factory.mktemp("lineage") / "proj",
        nodes=NODES,
        waldo_yml="lineage:\n  transport: file\n  path: lineage/events.jsonl\n  namespace: team\n",
    )


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_run_emits_valid_events_live(project: Path) -> None:
    result = run_kedro(project, "run")
    assert result.returncode == 0, output_of(result)
    events = read_events(project / "lineage" / "events.jsonl")
    for event in events:
        validate(event)
    run_id = journal_at(project).history.resolve_run_id("latest")
    kinds = [(e["eventType"], e["job"]["name"]) for e in events]
    assert kinds[0] == ("START", "proj.__default__")
    assert kinds[-1] == ("COMPLETE", "proj.__default__")
    for i in range(NODES):
        assert ("START", f"proj.__default__.step_{i}") in kinds
        assert ("COMPLETE", f"proj.__default__.step_{i}") in kinds
    assert len(events) == 2 + 2 * NODES
    pipeline_uuid = run_uuid(run_id)
    assert events[0]["run"]["runId"] == pipeline_uuid
    assert {e["job"]["namespace"] for e in events} == {"team"}
    # Datasets are named by where their data lives, as the naming spec (and the export)
    # says; the catalog name is their symlink.
    data = (project / "data").resolve()
    assert [(d["namespace"], d["name"]) for d in events[0]["inputs"]] == [
        ("file", str(data / "seed.csv"))
    ]
    assert [d["name"] for d in events[0]["outputs"]] == [
        str(data / f"d{i}.csv") for i in range(NODES)
    ]
    links = events[0]["inputs"][0]["facets"]["symlinks"]["identifiers"]
    assert [(s["namespace"], s["name"]) for s in links] == [("team", "seed")]
    for event in events[1:-1]:
        parent = event["run"]["facets"]["parent"]
        assert parent["run"]["runId"] == pipeline_uuid
        assert (parent["job"]["namespace"], parent["job"]["name"]) == ("team", "proj.__default__")
    step_1 = next(e for e in events if e["job"]["name"].endswith("step_1"))
    # params:factor is no dataset
    assert [d["name"] for d in step_1["inputs"]] == [str(data / "d0.csv")]
    assert [d["name"] for d in step_1["outputs"]] == [str(data / "d1.csv")]

    # The export of the same run from the journal describes the same runs and jobs.
    exported = run_events(journal_at(project).history, run_id, "team")
    assert sorted((e.eventType.value, e.job.name, e.run.runId) for e in exported) == sorted(
        (e["eventType"], e["job"]["name"], e["run"]["runId"]) for e in events
    )
    exported_names = {(d.namespace, d.name) for e in exported for d in [*e.inputs, *e.outputs]}
    live_names = {(d["namespace"], d["name"]) for e in events for d in e["inputs"] + e["outputs"]}
    assert live_names == exported_names


def test_a_dead_lineage_server_does_not_fail_the_run(tmp_path: Path) -> None:
    project = chain_project(
        tmp_path / "proj",
        nodes=NODES,
        waldo_yml="lineage:\n  transport: http\n  url: http://127.0.0.1:9\n  timeout: 1\n",
    )
    result = run_kedro(project, "run")
    assert result.returncode == 0, output_of(result)
    warnings = waldo_warnings(output_of(result))
    assert any("could not emit OpenLineage events" in w for w in warnings), warnings
    assert journal_at(project).history.run_detail("latest").summary.status == "success"


class LineageServer:
    """A lineage backend on 127.0.0.1: what it received, with the headers."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def lineage_server() -> Iterator[LineageServer]:
    server = LineageServer()
    yield server
    server.server.shutdown()


def test_a_run_sends_valid_events_to_a_lineage_server(
    lineage_server: LineageServer, tmp_path: Path
) -> None:
    project = chain_project(
        tmp_path / "proj",
        nodes=NODES,
        waldo_yml=(
            f"lineage:\n  transport: http\n  url: {lineage_server.url}\n"
            "  namespace: team\n  credentials: marquez\n"
        ),
        credentials_yml="marquez:\n  api_key: lineage-key-123\n",
    )
    result = run_kedro(project, "run")
    assert result.returncode == 0, output_of(result)
    assert waldo_warnings(output_of(result)) == []
    received = lineage_server.received
    assert len(received) == 2 + 2 * NODES
    for path, headers, event in received:
        assert path == "/api/v1/lineage"
        assert headers["Authorization"] == "Bearer lineage-key-123"
        validate(event)
    run_id = journal_at(project).history.resolve_run_id("latest")
    events = [event for _, _, event in received]
    assert events[0]["eventType"] == "START" and events[-1]["eventType"] == "COMPLETE"
    assert {e["run"]["runId"] for e in (events[0], events[-1])} == {run_uuid(run_id)}
    assert {e["job"]["namespace"] for e in events} == {"team"}


def test_a_node_failure_described_in_its_trail_reaches_the_fail_event(tmp_path: Path) -> None:
    """The hooks derive a failed node's trail before its lineage event, so the error
    arrives as the journal's columns, not as the exception; the event carries both."""
    config = {"transport": "file", "path": "events.jsonl", "namespace": "team"}
    lineage = LiveLineage.from_config(config, tmp_path, {})
    lineage.run_started("run-1", "proj", ["__default__"], ["seed"], ["d0"])
    lineage.node_started("step_0", ["seed"], ["d0"])
    try:
        raise ValueError("boom")
    except ValueError as exc:
        error = describe_error(exc)
    lineage.node_finished("step_0", "failed", error, 1_700_000_000.0)
    lineage.run_finished("failed")

    events = read_events(tmp_path / "events.jsonl")
    [fail] = [e for e in events if e["eventType"] == "FAIL" and e["job"]["name"].endswith("step_0")]
    validate(fail)
    facet = fail["run"]["facets"]["errorMessage"]
    assert facet["message"] == "ValueError: boom"
    assert "raise ValueError" in facet["stackTrace"]
