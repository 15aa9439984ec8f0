"""A run's page in headless Chromium: triage first, tracebacks, node history, the
interrupted run's real duration, the static report.

Runs are recorded through the Recorder API; errors are real exceptions raised through
the standard library (``json``), so their tracebacks have user and library frames.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import CHROMIUM
from tests.helpers.journal import end_node, settings_for, start_node
from tests.web._page import served
from tests.web._pipelines import generated_pipeline, record_pipeline_run
from waldo.journal import Journal, Recorder, RunInfo
from waldo.web import WaldoServer, write_report

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

NODES = generated_pipeline(12, width=4, seed=5)
DURATIONS = [0.5, 0.7, 0.6, 1.5, 0.8]  # node_0005's, run after run


def parse_settings(text: str) -> dict[str, Any]:
    """The user's code the failing node runs: it calls into the standard library."""
    result: dict[str, Any] = json.loads(text)
    return result


def record_failure(recorder: Recorder, run_id: str, node: str) -> None:
    """A run whose ``node`` fails inside ``json`` (called from this file)."""
    recorder.start_run(RunInfo(run_id=run_id, project="web", pipeline_names=["__default__"]))
    started = time.time()
    end_node(recorder, start_node(recorder, run_id, "load", "nodes.load", started))
    record = start_node(recorder, run_id, node, "nodes.parse", started)
    try:
        parse_settings("{not json")
    except ValueError as exc:
        end_node(recorder, record, error=exc)
        recorder.end_run(run_id, "failed", exc)
    recorder.flush()


def record_killed(url: str, root: Path) -> float:
    """A run whose process died 100 s in, with no heartbeat after the one at its start
    (its recorder beats hourly); returns its start. The journal sees its process gone."""
    settings = settings_for(url, root, heartbeat_seconds=3600)
    recorder = Recorder(settings)
    t0 = time.time() - 400
    info = RunInfo(run_id="killed", project="web", pipeline_names=["__default__"], pid=_dead_pid())
    recorder.start_run(info)
    recorder.update_run("killed", started_at=t0, heartbeat_at=t0)
    start_node(recorder, "killed", "extract", "nodes.extract", t0 + 1)
    start_node(recorder, "killed", "transform", "nodes.transform", t0 + 100)
    recorder.flush()
    return t0


def _dead_pid() -> int:
    """The id of a process that has ended (and been waited for)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journal]:
    root = tmp_path_factory.mktemp("run-page")
    url = f"sqlite:///{root / 'waldo.db'}"
    settings = settings_for(url, root)
    recorder = Recorder(settings)
    for i, took in enumerate(DURATIONS):
        record_pipeline_run(
            recorder, f"run-{i}", NODES, project="web", durations={"node_0005": took}
        )
    record_failure(recorder, "broken", "parse_settings")
    record_killed(url, root)
    journal = Journal(settings)
    yield journal
    journal.store.dispose()


@pytest.fixture(scope="module")
def server(journal: Journal) -> Iterator[WaldoServer]:
    with served(journal.history) as srv:
        yield srv


def open_run(page: Any, server: WaldoServer, run_id: str) -> None:
    page.goto(server.url + f"runs/{run_id}")
    page.wait_for_selector("body[data-drawn='1']")


def test_a_failed_run_names_its_node_and_error_in_the_header(
    page: Any, server: WaldoServer
) -> None:
    open_run(page, server, "broken")
    triage = page.locator("#triage")
    assert triage.inner_text() == (
        "Failed in node parse_settings: JSONDecodeError: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )
    # It comes before the graph, and the failing node's panel is already open.
    assert triage.bounding_box()["y"] < page.locator(".graph-svg").bounding_box()["y"]
    assert page.locator("#node-panel h3").inner_text() == "parse_settings"
    page.click("#node-panel .close")
    assert page.locator("#node-panel").is_hidden()
    page.click("#triage .node-link")  # the name in the header opens it again
    assert page.locator("#node-panel h3").inner_text() == "parse_settings"


def test_the_traceback_shows_the_users_frames_first_and_folds_the_rest(
    page: Any, server: WaldoServer
) -> None:
    open_run(page, server, "broken")
    trace = page.locator("#node-panel .traceback")
    assert trace.locator(".error-line").inner_text().startswith("JSONDecodeError: Expecting")
    mine = trace.locator(".user-frames .frame")
    assert mine.count() == 2
    assert "in record_failure" in mine.nth(0).inner_text()
    assert "in parse_settings" in mine.nth(1).inner_text()
    assert "json.loads(text)" in mine.nth(1).inner_text()
    folded = trace.locator("details.library-frames")
    assert folded.get_attribute("open") is None
    assert folded.locator("summary").inner_text().endswith("in Kedro, Python and other libraries")
    assert all(
        "/json/" in text
        for text in folded.locator(".frame .where").all_text_contents()  # hidden, still there
    )
    assert folded.locator(".frame").count() >= 2
    assert page.locator(".user-frames").bounding_box()["y"] < folded.bounding_box()["y"]


def test_an_interrupted_run_shows_how_long_it_really_ran(
    page: Any, server: WaldoServer, journal: Journal
) -> None:
    detail = journal.history.run_detail("killed")
    assert detail.summary.status == "interrupted"
    assert detail.summary.duration_s == 100  # until its last node event, not its heartbeat
    open_run(page, server, "killed")
    assert page.locator("#run-duration").inner_text() == "1m40s"
    triage = page.locator("#triage").inner_text()
    assert triage.startswith("Interrupted after 1m40s (last seen alive at ")
    assert "while running extract, transform" in triage
    bar = page.locator("#timeline .tl-row[data-node='transform'] .tl-bar")
    assert "s-interrupted" in bar.get_attribute("class")
    page.goto(server.url)  # the run list and its chart say the same
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#runs tr[data-run='killed'] td").nth(5).inner_text() == "1m40s"
    point = page.locator("figure.duration-trend tr[data-run='killed'] td").nth(3)
    assert point.text_content() == "1m40s"


def test_a_nodes_panel_charts_its_last_runs(page: Any, server: WaldoServer) -> None:
    open_run(page, server, "run-4")
    page.fill(".find", "node_0005")
    page.press(".find", "Enter")
    chart = page.locator("#node-panel figure.node-history")
    chart.wait_for()
    rows = chart.locator("table.chart-data tbody tr")
    rows.first.wait_for()  # filled once the node's history arrives
    assert rows.count() == len(DURATIONS)
    durations = [rows.nth(i).locator("td").nth(3).text_content() for i in range(rows.count())]
    assert durations == ["500 ms", "700 ms", "600 ms", "1.5 s", "800 ms"]
    assert "current" in (rows.nth(4).get_attribute("class") or "")
    assert chart.locator("canvas").count() >= 1
    badge = page.locator(".graph-svg g.v[data-name='node_0005'] .badges").text_content()
    assert badge == "800 ms"


def test_the_static_report_opens_from_a_file_with_its_history(
    browser: Any, journal: Journal, tmp_path: Path
) -> None:
    path = write_report(journal.history, "run-3", tmp_path / "run.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-drawn='1']")
    assert page.locator(".graph-svg g.v-node").count() == len(NODES)
    assert page.locator(".graph-svg g.v.s-complete").count() == len(NODES)
    assert [r for r in requests if not r.startswith(("data:", "blob:"))] == [path.as_uri()]
    assert page.locator("a[href^='/']").count() == 0  # no links to a server
    page.fill(".find", "node_0005")
    page.press(".find", "Enter")
    rows = page.locator("#node-panel figure.node-history table.chart-data tbody tr")
    rows.first.wait_for()
    assert rows.count() == 4  # the runs up to run-3, embedded in the file
    page.close()
