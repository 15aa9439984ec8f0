"""The served pages over HTTP (no browser): filters, paging, payloads, 404s, tokens.

The journal is filled through the Recorder API, once per store (SQLite and PostgreSQL),
so the list's SQL filters (JSON paths for tags and parameters included) run on both.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.helpers.journal import record_run, settings_for
from tests.helpers.postgres import fresh_database
from tests.web._page import page_data, served
from waldo.journal import Journal, Recorder, RunInfo
from waldo.web import WaldoServer, is_loopback, make_server, report_html

RUNS = 8  # 5 successes of pipeline "a", 2 failures of "b_x", 1 DPO execution


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def run_ids(url: str) -> list[str]:
    status, body, _ = fetch(url)
    assert status == 200, body
    return [r["run_id"] for r in page_data(body)["runs"]]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def journal(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Journal]:
    root = tmp_path_factory.mktemp("pages")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{root / 'waldo.db'}"
        else:  # a database of its own: tests add runs of their own
            url = stack.enter_context(fresh_database(request.getfixturevalue("pg_server")))
        yield from _filled_journal(url, root)


def _filled_journal(url: str, root: Path) -> Iterator[Journal]:
    settings = settings_for(url, root)
    recorder = Recorder(settings)
    for i in range(5):
        params = {"lr": i / 10, "model": {"depth": i, "kind": "tree" if i % 2 else "linear"}}
        record_run(recorder, f"run-a-{i}", pipeline="a", params=params)
    for i in range(2):
        record_run(recorder, f"run-b-{i}", pipeline="b_x", fail_at="clean")
    recorder.start_run(RunInfo(run_id="dpo-1", kind="dpo", project="demo", pipeline_names=["etl"]))
    recorder.end_run("dpo-1", "success")
    recorder.flush()
    journal = Journal(settings)
    yield journal
    journal.store.dispose()


@pytest.fixture
def server(journal: Journal) -> Iterator[WaldoServer]:
    with served(journal.history) as srv:
        yield srv


def test_run_list_filters_and_pages(server: WaldoServer, journal: Journal) -> None:
    assert len(run_ids(server.url)) == RUNS
    assert sorted(run_ids(server.url + "?pipeline=b_x")) == ["run-b-0", "run-b-1"]
    assert len(run_ids(server.url + "?status=success&pipeline=a")) == 5
    assert run_ids(server.url + "?pipeline=b") == []  # a prefix is not a pipeline
    page = journal.history.runs_page(per_page=3, page=3)
    assert (page.total, page.pages, len(page.runs)) == (RUNS, 3, 2)
    _, body, _ = fetch(server.url + "api/runs?status=failed")
    data = json.loads(body)
    assert data["total"] == 2 and {r["run_id"] for r in data["runs"]} == {"run-b-0", "run-b-1"}
    assert run_ids(server.url + "?since=2000-01-01&until=2000-01-02") == []


def test_run_list_filters_by_kind_and_parameter_value(server: WaldoServer) -> None:
    assert run_ids(server.url + "?kind=dpo") == ["dpo-1"]
    assert "dpo-1" not in run_ids(server.url + "?kind=kedro")
    assert run_ids(server.url + "?param=lr%3D0.3") == ["run-a-3"]
    assert run_ids(server.url + "?param=model.depth%3D2") == ["run-a-2"]
    assert sorted(run_ids(server.url + "?param=model.kind%3Dtree")) == ["run-a-1", "run-a-3"]
    assert run_ids(server.url + "?param=lr%3D9") == []
    _, body, _ = fetch(server.url)
    data = page_data(body)
    assert data["options"]["kinds"] == ["dpo", "kedro"]
    assert {r["kind"] for r in data["runs"]} == {"dpo", "kedro"}
    trend = {p["run_id"]: p for p in data["trend"]}
    assert trend["run-b-0"]["status"] == "failed" and trend["run-a-0"]["t"] > 0


def test_run_list_filters_by_tag(journal: Journal, server: WaldoServer) -> None:
    recorder = Recorder(journal.settings)
    recorder.start_run(RunInfo(run_id="tagged", run_params={"tags": ["nightly", "eu"]}))
    recorder.end_run("tagged", "success")
    recorder.flush()
    assert run_ids(server.url + "?tag=nightly") == ["tagged"]
    assert run_ids(server.url + "?tag=night") == []  # a whole tag, not a part of one
    _, body, _ = fetch(server.url + "api/runs?tag=eu")
    assert json.loads(body)["runs"][0]["tags"] == ["nightly", "eu"]


def test_run_page_payload_and_live_state(server: WaldoServer) -> None:
    status, body, _ = fetch(server.url + "runs/run-b-1")
    assert status == 200
    data = page_data(body)
    assert data["page"] == "run" and data["poll"] == "/api/runs/run-b-1/live"
    assert [n["name"] for n in data["nodes"]] == ["load", "clean"]
    assert [n["status"] for n in data["nodes"]] == ["complete", "error"]
    assert data["triage"] == {
        "node": "clean",
        "error_type": "ValueError",
        "message": "clean failed on purpose",
    }
    assert data["nodes"][1]["frames"][-1]["func"] == "record_run"
    _, body, _ = fetch(server.url + "api/runs/run-b-1/live")
    live = json.loads(body)
    assert live["run"]["status"] == "failed"
    assert live["states"]["clean"]["error_type"] == "ValueError"


def test_node_history_api(server: WaldoServer) -> None:
    _, body, _ = fetch(server.url + "api/history?run=run-a-3&node=train")
    points = json.loads(body)
    assert [p["run_id"] for p in points] == ["run-a-0", "run-a-1", "run-a-2", "run-a-3"]
    assert all(p["status"] == "complete" and p["duration"] >= 0 for p in points)
    status, body, _ = fetch(server.url + "api/history?run=run-a-3")
    assert status == 400 and "node=NAME" in json.loads(body)["error"]


def test_run_page_links_a_diff_with_the_previous_run_of_its_pipeline(
    server: WaldoServer,
) -> None:
    _, body, _ = fetch(server.url + "runs/run-b-1")
    assert page_data(body)["previous"] == "run-b-0"
    _, body, _ = fetch(server.url + "runs/run-b-0")  # the first run of pipeline b_x
    assert page_data(body)["previous"] is None


def test_diff_and_compare_payloads(server: WaldoServer) -> None:
    status, body, _ = fetch(server.url + "diff?a=run-a-0&b=run-b-0")
    assert status == 200
    data = page_data(body)
    assert {p["name"] for p in data["params"]} >= {"lr", "model.depth"}
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["train"]["change"] == "removed" and nodes["train"]["changed"]
    assert nodes["clean"]["failed"] and nodes["clean"]["colour"] == "failed"
    assert {n["name"]: n["change"] for n in data["graph"]}["train"] == "removed"
    status, body, _ = fetch(server.url + "compare?runs=run-a-0,run-a-1,run-a-2")
    data = page_data(body)
    rows = {r["name"]: r for r in data["params"]}
    assert rows["lr"]["values"] == [0.0, 0.1, 0.2] and rows["lr"]["differs"]
    assert [r["run_id"] for r in data["runs"]] == ["run-a-0", "run-a-1", "run-a-2"]
    assert fetch(server.url + "compare?runs=" + ",".join(["run-a-0"] * 11))[0] == 400


def test_status_page_without_a_project_says_so(server: WaldoServer) -> None:
    status, body, _ = fetch(server.url + "status")
    assert status == 200
    data = page_data(body)
    assert data["available"] is False and "no Kedro project" in data["message"]


def test_bad_input_gets_a_clear_error_page(server: WaldoServer) -> None:
    status, body, _ = fetch(server.url + "runs/no-such-run")
    assert status == 404 and "No run &#x27;no-such-run&#x27; in the journal" in body
    status, body, _ = fetch(server.url + "api/runs/no-such-run/live")
    assert status == 404 and "No run" in json.loads(body)["error"]
    assert fetch(server.url + "nowhere")[0] == 404
    assert fetch(server.url + "?since=yesterday")[0] == 400
    assert fetch(server.url + "diff?a=run-a-0")[0] == 400
    status, body, _ = fetch(server.url + "?param=lr")
    assert status == 400 and "name=value" in body


def test_favicon(server: WaldoServer) -> None:
    status, body, headers = fetch(server.url + "favicon.ico")
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"
    assert body.startswith("<svg")
    _, page, _ = fetch(server.url)
    assert "<link rel='icon' type='image/svg+xml' href='data:image/svg+xml," in page


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
    html = report_html(journal.history, "run-a-4")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=['\"](?!data:)", html)  # inlined
    data = page_data(html)
    assert data["static"] is True and "poll" not in data
    assert [n["name"] for n in data["nodes"]] == ["load", "clean", "train"]
    history = data["histories"]["nodes"]["train"]
    assert [p["run_id"] for p in history] == [f"run-a-{i}" for i in range(5)]
