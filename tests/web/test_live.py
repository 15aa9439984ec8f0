"""The run page in headless Chromium against a real ``kedro run`` in progress.

One Kedro project, run twice: a first run that completes, then a second that waits in
``step_1`` until the test creates the file ``release``. The page, opened while the node
runs, must turn it from running to complete without a reload; the diff page and the
static report (from file://) are checked in the same browser, and screenshots are saved
to ``tests/artifacts/``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import CHROMIUM, chromium, screenshot
from tests.helpers.journal import record_run
from tests.helpers.postgres import wait_for
from tests.helpers.projects import chain_project
from tests.kedro._e2e import journal_at, kedro_argv, run_kedro, subprocess_env
from waldo.journal import Journal
from waldo.web import WaldoServer, make_server, write_report

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]

NODES = 4
WAIT_NODE = 1


def _running_at(journal: Journal, node: str) -> bool:
    try:
        detail = journal.history.run_detail("latest")
    except Exception:
        return False
    return detail.summary.status == "running" and any(
        n.node_name == node and n.status == "running" for n in detail.nodes
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = chain_project(
        tmp_path_factory.mktemp("web") / "proj",
        nodes=NODES,
        sleep_node=WAIT_NODE,
        sleep_seconds=300,
    )
    (root / "release").write_text("")  # the first run does not wait
    first = run_kedro(root, "run")
    assert first.returncode == 0, first.stderr
    (root / "release").unlink()
    return root


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[WaldoServer]:
    srv = make_server(journal_at(project).history, port=0)
    srv.start_in_thread()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def test_a_running_node_turns_complete_without_reload(
    project: Path, server: WaldoServer, browser: Any
) -> None:
    journal = journal_at(project)
    log_path = project.parent / "kedro-live.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            kedro_argv("run"), cwd=project, env=subprocess_env(), stdout=log, stderr=log
        )
    try:
        assert wait_for(lambda: _running_at(journal, f"step_{WAIT_NODE}"), timeout=180), (
            log_path.read_text()
        )
        run_id = journal.history.resolve_run_id("latest")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.url + f"runs/{run_id}")
        page.wait_for_selector("body[data-drawn='1']")
        node = page.locator(f"#dag g.node:has(title:text-matches('^step_{WAIT_NODE} '))")
        assert node.get_attribute("data-status") == "running"
        later = page.locator(f"#dag g.node:has(title:text-matches('^step_{NODES - 1} '))")
        assert later.get_attribute("data-status") == "queued"
        assert page.locator("#run-status").inner_text() == "running"
        page.evaluate("window.notReloaded = true")
        screenshot(page, "run-page-running")
        runs = browser.new_page()
        runs.goto(server.url)
        assert runs.locator("#runs tbody tr:first-child .badge").inner_text() == "running"

        (project / "release").write_text("")
        page.wait_for_function(
            f"document.querySelector(\"#dag g.node[data-i='{WAIT_NODE}']\")"
            ".getAttribute('data-status') === 'complete'",
            timeout=60_000,
        )
        page.wait_for_function(
            "document.getElementById('run-status').textContent === 'success'", timeout=60_000
        )
        assert page.evaluate("window.notReloaded") is True  # the same document all along
        statuses = page.eval_on_selector_all(
            "#dag g.node", "els => els.map(e => e.getAttribute('data-status'))"
        )
        assert statuses == ["complete"] * NODES
        assert page.locator("#timeline g.bar").count() == NODES
        screenshot(page, "run-page-complete")
        page.close()
        runs.wait_for_function(  # the run list follows too
            "document.querySelector('#runs tbody tr:first-child .badge').textContent === 'success'",
            timeout=30_000,
        )
        runs.close()
    finally:
        (project / "release").write_text("")
        proc.wait(timeout=120)
    assert proc.returncode == 0, log_path.read_text()


def test_diff_page_says_why_nodes_were_skipped(
    server: WaldoServer, browser: Any, project: Path
) -> None:
    """An incremental run after the live one skips every node; the diff says why."""
    third = run_kedro(project, "run", "--runner=waldo.kedro.IncrementalRunner")
    assert third.returncode == 0, third.stderr
    runs = journal_at(project).history.runs(limit=3)
    assert len(runs) == 3
    newer, older = runs[0].run_id, runs[1].run_id
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url)
    assert page.locator("#runs tbody tr").count() == 3
    assert page.locator(".trend rect").count() == 3
    screenshot(page, "run-list")
    page.click("#runs tbody tr:first-child a:text('diff')")
    page.wait_for_selector("#node-diff")
    assert older in page.title() and newer in page.title()
    rows = page.locator("#node-diff tbody tr")
    assert rows.count() == NODES
    for i in range(NODES):
        cells = rows.nth(i).locator("td")
        assert cells.nth(1).inner_text() == "changed"
        assert "status success -> skipped" in cells.nth(5).inner_text()
        assert cells.nth(6).inner_text().startswith("up to date (same code, parameters")
    screenshot(page, "diff-page")
    page.close()


def test_static_report_opens_from_a_file(project: Path, browser: Any, tmp_path: Path) -> None:
    history = journal_at(project).history
    first = history.runs(limit=10)[-1].run_id  # a run whose nodes all ran
    path = write_report(history, first, tmp_path / "run.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-drawn='1']")
    assert page.locator("#dag g.node").count() == NODES
    assert page.locator("#dag g.s-complete").count() == NODES
    assert requests == [path.as_uri()]  # data, style and script all inlined
    # what each save wrote (issue 8's statistics): 3 rows x 2 columns, no nulls, a size
    row = page.locator("#datasets-table tr[data-dataset='d1'] td")
    assert [row.nth(i).inner_text() for i in (1, 2, 3, 4)] == ["step_1", "3", "2", "0"]
    assert row.nth(5).inner_text().endswith(" B")
    assert "value float64" in row.nth(7).inner_text()
    page.fill("#find", f"step_{NODES - 1}")  # finding a node selects it
    assert page.locator("#node-detail h3").inner_text() == f"step_{NODES - 1}"
    screenshot(page, "static-report")
    page.close()


def test_errors_show_with_their_tracebacks(
    project: Path, server: WaldoServer, browser: Any
) -> None:
    journal = journal_at(project)
    record_run(journal.recorder, "failed-run", fail_at="clean")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url + "runs/failed-run")
    page.wait_for_selector("body[data-drawn='1']")
    statuses = page.eval_on_selector_all(
        "#dag g.node", "els => els.map(e => e.getAttribute('data-status'))"
    )
    assert statuses == ["complete", "error"]
    errors = page.inner_text("#errors")
    assert "clean failed on purpose" in errors and "Traceback" in errors
    page.click("#dag g.node[data-i='1']")
    assert "clean failed on purpose" in page.inner_text("#node-detail")
    screenshot(page, "run-page-error")
    page.close()


def test_kedro_waldo_report(project: Path, tmp_path: Path) -> None:
    """The same commands inside a Kedro project: ``kedro waldo report``."""
    out = tmp_path / "kedro-report.html"
    result = run_kedro(project, "waldo", "report", "latest", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "waldo-data" in out.read_text()
