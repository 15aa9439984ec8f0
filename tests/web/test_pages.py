"""The served pages over HTTP (no browser): filters, paging, 404s, tokens, JSON.

The journal is filled through the Recorder API, once per store (SQLite and PostgreSQL),
so the list's SQL filters are checked on both.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.journal import record_run, settings_for
from waldo.journal import Journal, Recorder
from waldo.web import WaldoServer, is_loopback, make_server, report_html

RUNS = 7  # 5 successes of pipeline "a", 2 failures of pipeline "b_x"


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


@pytest.fixture(params=["sqlite", "postgresql"])
def journal(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Journal]:
    root = tmp_path_factory.mktemp("pages")
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'waldo.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    settings = settings_for(url, root)
    recorder = Recorder(settings)
    for i in range(5):
        record_run(recorder, f"run-a-{i}", pipeline="a", params={"lr": i})
    for i in range(2):
        record_run(recorder, f"run-b-{i}", pipeline="b_x", fail_at="clean")
    journal = Journal(settings)
    yield journal
    journal.store.dispose()


@pytest.fixture
def server(journal: Journal) -> Iterator[WaldoServer]:
    srv = make_server(journal.history, port=0)
    srv.start_in_thread()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_run_list_filters_and_pages(server: WaldoServer, journal: Journal) -> None:
    status, body, _ = fetch(server.url)
    assert status == 200
    assert body.count("href='/runs/run-") == RUNS
    status, body, _ = fetch(server.url + "?pipeline=b_x")
    assert body.count("href='/runs/run-b-") == 2 and "href='/runs/run-a-" not in body
    _, body, _ = fetch(server.url + "?status=success&pipeline=a")
    assert body.count("href='/runs/run-a-") == 5
    _, body, _ = fetch(server.url + "?pipeline=b")  # a prefix is not a pipeline
    assert "No runs match" in body
    page = journal.history.runs_page(per_page=3, page=3)
    assert (page.total, page.pages, len(page.runs)) == (RUNS, 3, 1)
    _, body, _ = fetch(server.url + "api/runs?status=failed")
    data = json.loads(body)
    assert data["total"] == 2 and {r["run_id"] for r in data["runs"]} == {"run-b-0", "run-b-1"}
    _, body, _ = fetch(server.url + "?since=2000-01-01&until=2000-01-02")
    assert "No runs match" in body


def test_run_page_payload_and_live_state(server: WaldoServer) -> None:
    status, body, _ = fetch(server.url + "runs/run-b-1")
    assert status == 200 and 'data-poll="/api/runs/run-b-1/live"' in body
    _, body, _ = fetch(server.url + "api/runs/run-b-1")
    payload = json.loads(body)
    assert [n["name"] for n in payload["nodes"]] == ["load", "clean"]
    assert [n["status"] for n in payload["nodes"]] == ["complete", "error"]
    assert "clean failed on purpose" in payload["nodes"][1]["traceback"]
    _, body, _ = fetch(server.url + "api/runs/run-b-1/live")
    live = json.loads(body)
    assert live["run"]["status"] == "failed"
    assert live["states"]["clean"]["error_type"] == "ValueError"


def test_run_page_links_a_diff_with_the_previous_run_of_its_pipeline(
    server: WaldoServer,
) -> None:
    _, body, _ = fetch(server.url + "runs/run-b-1")
    assert "id='diff-previous' href='/diff?a=run-b-0&amp;b=run-b-1'" in body
    _, body, _ = fetch(server.url + "runs/run-b-0")  # the first run of pipeline b_x
    assert "diff-previous" not in body


def test_diff_page_shows_params_and_nodes(server: WaldoServer) -> None:
    status, body, _ = fetch(server.url + "diff?a=run-a-0&b=run-b-0")
    assert status == 200
    assert "lr" in body and "pipeline_names" in body
    assert "data-node='train'" in body and ">removed<" in body


def test_bad_input_gets_a_clear_error_page(server: WaldoServer) -> None:
    status, body, _ = fetch(server.url + "runs/no-such-run")
    assert status == 404 and "No run &#x27;no-such-run&#x27; in the journal" in body
    status, body, _ = fetch(server.url + "api/runs/no-such-run/live")
    assert status == 404 and "No run" in json.loads(body)["error"]
    status, body, _ = fetch(server.url + "nowhere")
    assert status == 404
    status, _, _ = fetch(server.url + "?since=yesterday")
    assert status == 400
    status, _, _ = fetch(server.url + "diff?a=run-a-0")
    assert status == 400


def test_loopback_pages_answer_only_to_a_loopback_host_name(server: WaldoServer) -> None:
    """A page elsewhere cannot read the journal by pointing its own name at 127.0.0.1."""
    port = server.server_address[1]
    assert fetch(server.url, {"Host": f"localhost:{port}"})[0] == 200
    assert fetch(server.url, {"Host": f"evil.example:{port}"})[0] == 403


def test_read_only(server: WaldoServer) -> None:
    request = urllib.request.Request(server.url, data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 405


def test_a_token_is_required_off_loopback(journal: Journal) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("")
    srv = make_server(journal.history, host="0.0.0.0", port=0)
    assert srv.token  # made up because none was given
    srv.start_in_thread()
    try:
        base = f"http://127.0.0.1:{srv.server_address[1]}/"
        assert fetch(base)[0] == 401
        assert fetch(base + "api/runs/run-a-0/live")[0] == 401
        assert fetch(base + "?token=wrong")[0] == 401
        assert fetch(base, {"Authorization": "Bearer wrong"})[0] == 401
        status, _, headers = fetch(base + f"?token={srv.token}")
        assert status == 200 and srv.token in headers["Set-Cookie"]
        assert fetch(base, {"Cookie": f"waldo_token={srv.token}"})[0] == 200
        assert fetch(base, {"Authorization": f"Bearer {srv.token}"})[0] == 200
    finally:
        srv.shutdown()
        srv.server_close()


def test_report_is_self_contained(journal: Journal, tmp_path: Path) -> None:
    html = report_html(journal.history, "run-a-0")
    assert "<body data-poll" not in html  # a snapshot: it does not poll
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)  # all inlined
    assert '"name":"train"' in html
