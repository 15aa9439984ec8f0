"""Every malformed request gets a complete answer (a 400 page or JSON), never a dropped
connection: page numbers, dates at the ends of the calendar, control characters."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.journal import record_run, settings_for
from waldo import InvalidInput
from waldo.journal import History, Journal, Recorder
from waldo.web import WaldoServer, make_server


def get(server: WaldoServer, target: str) -> tuple[int, str, str]:
    """GET a raw target (no client-side quoting); a dropped connection raises."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=30)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read().decode()
    finally:
        connection.close()


@pytest.fixture
def server(store_url: str, tmp_path: Path) -> Iterator[WaldoServer]:
    settings = settings_for(store_url, tmp_path)
    recorder = Recorder(settings)
    record_run(recorder, "run-1", pipeline="a")
    record_run(recorder, "run-2", pipeline="a")
    journal = Journal(settings)
    srv = make_server(journal.history, port=0)
    srv.start_in_thread()
    yield srv
    srv.shutdown()
    srv.server_close()
    journal.store.dispose()


@pytest.mark.parametrize(
    "target",
    [
        "/?page=99999999999999999999999",
        "/api/runs?page=9223372036854775807",
        "/?page=0",
        "/?page=-3",
        "/?page=2.5",
        "/api/runs?page=%EF%BC%91",  # a full-width digit one
        "/?since=2026-13-45",
        "/api/runs?until=tomorrow",
        "/?status=sleeping",
        "/runs/%00",
        "/api/runs/run-1%00",
        "/diff?a=run-1&b=%00",
        "/?pipeline=a%00b",
    ],
)
def test_bad_query_values_get_a_400(server: WaldoServer, target: str) -> None:
    status, content_type, body = get(server, target)
    assert status == 400, body
    if target.startswith("/api/"):
        assert content_type == "application/json" and json.loads(body)["error"]
    else:
        assert content_type.startswith("text/html") and "400" in body


@pytest.mark.parametrize(
    "target", ["/?until=9999-12-31", "/?since=0001-01-01", "/api/runs?since=0001-01-01"]
)
def test_the_ends_of_the_calendar_list_every_run(server: WaldoServer, target: str) -> None:
    status, _, body = get(server, target)
    assert status == 200, body
    if target.startswith("/api/"):
        assert json.loads(body)["total"] == 2
    else:  # the page carries its runs as data, for the app to draw
        found = re.search(r"<script id='waldo-data' type='application/json'>(.*?)</script>", body)
        assert found is not None, body
        assert len(json.loads(found.group(1))["runs"]) == 2


def test_the_last_allowed_page_is_an_empty_page(server: WaldoServer) -> None:
    status, _, body = get(server, "/api/runs?page=1000000")
    assert status == 200
    assert json.loads(body)["runs"] == []


def test_a_failing_page_is_a_500_page_not_a_dropped_connection(
    server: WaldoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(History, "runs_page", broken)
    status, _, body = get(server, "/api/runs")
    assert status == 500
    assert json.loads(body)["error"] == "Waldo failed to answer this page."


@pytest.mark.parametrize("token", ["", "   ", "x" * 15])
def test_a_server_refuses_a_short_token(store_url: str, tmp_path: Path, token: str) -> None:
    journal = Journal(settings_for(store_url, tmp_path))
    with pytest.raises(InvalidInput, match="16 characters"):
        make_server(journal.history, host="0.0.0.0", port=0, token=token)
    with pytest.raises(InvalidInput, match="Port 70000"):
        make_server(journal.history, port=70000)
    journal.store.dispose()
