"""``waldo export openlineage`` over a journal filled through the Recorder API: every
transport (file, console, and http to a local server), failures, --since."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import run_waldo as waldo
from tests.helpers.journal import record_run, recorder_for
from tests.lineage._schema import validate


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("export")
    url = f"sqlite:///{root / 'waldo.db'}"
    recorder = recorder_for(url, root)
    record_run(recorder, "ok-run")
    record_run(recorder, "bad-run", fail_at="clean")
    return url


def test_file_export_is_valid_and_says_what_failed(db: str, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    result = waldo("--db", db, "export", "openlineage", "--transport", "file", "--path", str(out))
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert "Sent 14 OpenLineage events for 2 run(s)" in result.stderr
    for event in events:
        validate(event)
    # ok-run: START, 3 nodes x (START, COMPLETE), COMPLETE = 8; bad-run: START, load's
    # START and COMPLETE, clean's START and FAIL, FAIL = 6 (train never started).
    by_job = {(e["job"]["name"], e["eventType"]) for e in events}
    assert ("demo.__default__.clean", "FAIL") in by_job
    fails = [e for e in events if e["eventType"] == "FAIL"]
    assert len(fails) == 2  # the node and its pipeline run
    facet = fails[0]["run"]["facets"]["errorMessage"]
    assert facet["programmingLanguage"] == "python"
    assert "clean failed on purpose" in facet["message"]
    assert "Traceback" in facet["stackTrace"]


def test_since_in_the_future_exports_nothing(db: str) -> None:
    result = waldo("--db", db, "export", "openlineage", "--since", "2999-01-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Sent 0 OpenLineage events for 0 run(s)" in result.stderr
    bad = waldo("--db", db, "export", "openlineage", "--since", "last tuesday")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: --since 'last tuesday' is not a date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM)."
    ]


def test_console_export_prints_one_event_a_line(db: str) -> None:
    result = waldo("--db", db, "export", "openlineage")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == 14
    for event in events:
        validate(event)


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any], str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, json.loads(body), self.headers.get("Authorization", "")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, dict[str, Any], str]]]]:
    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Collector.received
    server.shutdown()
    server.server_close()


def test_http_export_posts_to_the_server(
    db: str, collector: tuple[str, list[tuple[str, dict[str, Any], str]]]
) -> None:
    url, received = collector
    result = waldo(
        "--db",
        db,
        "export",
        "openlineage",
        "--transport",
        "http",
        "--url",
        url,
        "--api-key",
        "secret-key",
        "--namespace",
        "ns",
    )
    assert result.returncode == 0, result.stderr
    assert len(received) == 14
    for path, event, auth in received:
        assert path == "/api/v1/lineage"
        assert auth == "Bearer secret-key"
        assert event["job"]["namespace"] == "ns"
        validate(event)


class _Failing(BaseHTTPRequestHandler):
    posts = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts += 1
        self.send_response(500)
        self.end_headers()
        self.wfile.write(b"internal error")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def failing_server() -> Iterator[str]:
    _Failing.posts = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    return f"http://127.0.0.1:{port}"


def test_http_export_to_a_server_answering_500_is_one_line_exit_1(
    db: str, failing_server: str
) -> None:
    result = waldo(
        "--db", db, "export", "openlineage", "--transport", "http", "--url", failing_server,
        "--retries", "1",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: Could not send OpenLineage events (0 sent before): ResponseError: too many "
        "500 error responses"
    ]
    assert _Failing.posts == 2  # the first try and one retry


def test_http_export_to_a_server_that_is_down_is_one_line_exit_1(db: str) -> None:
    result = waldo(
        "--db", db, "export", "openlineage", "--transport", "http", "--url", _closed_port(),
        "--retries", "0",
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: Could not send OpenLineage events (0 sent before): ")
    assert "Connection refused" in lines[0]
