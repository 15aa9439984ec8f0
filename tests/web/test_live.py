"""The pages in headless Chromium against real ``kedro run``s of a 26-node project.

The shop project (``_shop.py``: namespaces, parameters, CSV and memory datasets) runs
twice first; tests then run it the ways a team does: one that is watched while it
goes, one writing far fewer rows, one failing inside pandas, one killed, and one
after a parameter changed (the status page). Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import CHROMIUM, screenshot
from tests.helpers.postgres import wait_for
from tests.kedro._e2e import journal_at, kedro_argv, run_kedro, subprocess_env
from tests.web._page import served
from tests.web._shop import shop_project
from waldo.cli._web import kedro_status_source
from waldo.journal import Journal
from waldo.web import WaldoServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]

NODES = 26
HOLD = "ingest.hold"


def _running_at(journal: Journal, node: str) -> bool:
    try:
        detail = journal.history.run_detail("latest")
    except Exception:
        return False
    return detail.summary.status == "running" and any(
        n.node_name == node and n.status == "running" for n in detail.nodes
    )


def run_ok(project: Path, *args: str) -> str:
    """``kedro run ARGS`` that must succeed; returns its run id."""
    result = run_kedro(project, "run", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return journal_at(project).history.resolve_run_id("latest")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = shop_project(tmp_path_factory.mktemp("web") / "shop")
    run_ok(root)
    run_ok(root, "--params", "orders.rows=220")
    return root


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[WaldoServer]:
    with served(journal_at(project).history, status=kedro_status_source(project, None)) as srv:
        yield srv


def open_page(page: Any, url: str) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}"))
    page.goto(url)
    # Generous: the status page loads the Kedro project first, slow on a busy machine.
    try:
        page.wait_for_selector("body[data-drawn='1']", timeout=120_000)
    except Exception as exc:  # say what the page showed: it has failed this way in CI
        state = page.evaluate(
            "() => ({ready: document.body.dataset.ready, graphs:"
            " document.querySelectorAll('.graph-svg').length,"
            " text: document.body.innerText.slice(0, 1500)})"
        )
        raise AssertionError(f"{url} never drawn: {state} {problems}") from exc


def _held_run(project: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """Start ``kedro run`` holding in ``ingest.hold``; wait until the node is running."""
    (project / "hold").write_text("")
    (project / "release").unlink(missing_ok=True)
    log_path = project.parent / "kedro-held.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            kedro_argv("run"), cwd=project, env=subprocess_env(), stdout=log, stderr=log
        )
    ok = wait_for(lambda: _running_at(journal_at(project), HOLD), timeout=180)
    assert ok, log_path.read_text()[-3000:]
    return proc, log_path


@pytest.fixture(scope="module")
def dropped_run(project: Path) -> str:
    """A run writing 40 orders (usually 200 or 220), with a new column half empty."""
    return run_ok(project, "--params", "orders.rows=40,orders.with_note=true")


@pytest.fixture(scope="module")
def failed_run(project: Path) -> str:
    (project / "fail").write_text("")
    try:
        result = run_kedro(project, "run")
    finally:
        (project / "fail").unlink()
    assert result.returncode != 0
    return journal_at(project).history.resolve_run_id("latest")


@pytest.fixture(scope="module")
def killed_run(project: Path) -> str:
    proc, _ = _held_run(project)
    run_id = journal_at(project).history.resolve_run_id("latest")
    proc.kill()
    proc.wait(timeout=60)
    (project / "hold").unlink()
    return run_id


def test_a_running_node_turns_complete_without_reload(
    project: Path, server: WaldoServer, browser: Any
) -> None:
    proc, log_path = _held_run(project)
    try:
        run_id = journal_at(project).history.resolve_run_id("latest")
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        open_page(page, server.url + f"runs/{run_id}")
        assert page.locator("#run-status").inner_text() == "running"
        assert page.locator(".live").is_visible()
        groups = dict(
            page.eval_on_selector_all(
                ".graph-svg g.v-group", "els => els.map(e => [e.dataset.id, e.dataset.status])"
            )
        )
        assert groups == {"ns:ingest": "running", "ns:regions": "queued", "ns:report": "queued"}
        page.click("text=expand all")
        hold = page.locator(f".graph-svg g.v-node[data-name='{HOLD}']")
        hold.wait_for()
        assert hold.get_attribute("data-status") == "running"
        later = page.locator(".graph-svg g.v-node[data-name='report.publish']")
        assert later.get_attribute("data-status") == "queued"
        page.evaluate("window.notReloaded = true")
        screenshot(page, "run-page-running")
        runs = browser.new_page()
        open_page(runs, server.url)
        assert runs.locator("#runs tbody tr:first-child .badge").inner_text() == "running"

        (project / "release").write_text("")
        page.wait_for_function(
            "document.getElementById('run-status').textContent === 'success'", timeout=120_000
        )
        assert page.evaluate("window.notReloaded") is True  # the same document all along
        page.wait_for_function(
            "[...document.querySelectorAll('.graph-svg g.v-node')]"
            ".every(g => g.dataset.status === 'complete')"
        )
        assert page.locator(".graph-svg g.v-node").count() == NODES
        assert page.locator("#timeline .tl-row[data-node]").count() == NODES
        assert not page.locator(".live").is_visible()
        screenshot(page, "run-page-complete")
        page.close()
        runs.wait_for_function(
            "document.querySelector('#runs tbody tr:first-child .badge').textContent === 'success'",
            timeout=30_000,
        )
        runs.close()
    finally:
        (project / "release").write_text("")
        proc.wait(timeout=180)
        (project / "hold").unlink(missing_ok=True)
    assert proc.returncode == 0, log_path.read_text()[-3000:]


def test_a_run_writing_far_fewer_rows_is_marked(
    page: Any, server: WaldoServer, dropped_run: str
) -> None:
    open_page(page, server.url + f"runs/{dropped_run}")
    row = page.locator("#datasets-table tr[data-dataset='raw_orders']")
    assert "drop" in row.get_attribute("class")
    assert row.locator(".chip.drop").inner_text() == "drop"
    assert page.locator("#datasets-table tr[data-dataset='report.report'].drop").count() == 0
    row.click()
    chart = page.locator("#dataset-chart figure.dataset-rows")
    chart.wait_for()
    saves = chart.locator("table.chart-data tbody tr")
    saves.first.wait_for()  # the chart's table is filled once the dataset's history arrives
    rows = [saves.nth(i).locator("td").nth(2).text_content() for i in range(saves.count())]
    assert rows[-1] == "40" and {"200", "220"} <= set(rows[:-1])
    assert all(
        "drop" not in (saves.nth(i).get_attribute("class") or "") for i in range(len(rows) - 1)
    )
    assert "circled: 1 drop below half the usual" in chart.locator("figcaption").inner_text()
    badge = page.locator(".graph-svg g.v-group[data-id='ns:ingest'] .badges").text_content()
    assert re.search(r"5 nodes · [\d.]+ m?s · [\d,]+ rows", badge or "")
    page.fill(".find", "ingest.make_orders")  # its panel charts rows written, run by run
    page.press(".find", "Enter")
    page.locator("#node-panel figure.node-history").wait_for()
    history = page.locator("#node-panel figure.node-history table.chart-data tbody tr")
    history.first.wait_for()
    written = [history.nth(i).locator("td").nth(4).text_content() for i in range(history.count())]
    assert written[-1] == "40" and {"200", "220"} <= set(written[:-1])
    screenshot(page, "run-page-drop")


def test_the_diff_shows_rows_nulls_and_schema_per_dataset(
    page: Any, server: WaldoServer, project: Path, dropped_run: str
) -> None:
    runs = journal_at(project).history.runs(limit=50)
    before = next(r.run_id for r in runs if r.runtime_params.get("orders", {}).get("rows") == 220)
    open_page(page, server.url + f"diff?a={before}&b={dropped_run}")
    raw = page.locator("#dataset-diff tr[data-dataset='raw_orders']")
    assert raw.locator("td.rows").inner_text() == "220 → 40 -180 (-82%)"
    assert raw.locator("td.nulls").inner_text() == "0 → 26"
    assert raw.locator("td.schema").inner_text() == "+note"
    assert page.locator("#params tr[data-name='orders.rows'] td").all_inner_texts() == [
        "orders.rows",
        "220",
        "40",
    ]
    screenshot(page, "diff-page")


def test_a_failed_run_puts_the_users_frame_first_and_folds_kedros(
    page: Any, server: WaldoServer, failed_run: str
) -> None:
    open_page(page, server.url + f"runs/{failed_run}")
    assert page.locator("#triage").inner_text() == (
        "Failed in node report.check_report: ValueError: Unable to parse string '4 regions'"
        " at position 0"
    )
    trace = page.locator("#node-panel .traceback")
    mine = trace.locator(".user-frames .frame .where").all_inner_texts()
    assert len(mine) == 1 and mine[0].endswith("in check_report")
    assert "/shop/nodes.py:" in mine[0]
    folded = trace.locator("details.library-frames")
    assert folded.get_attribute("open") is None
    libraries = folded.locator(".frame .where").all_text_contents()
    assert any("/kedro/" in f for f in libraries) and any("/pandas/" in f for f in libraries)
    group = page.locator(".graph-svg g.v-group[data-id='ns:report']")
    assert group.get_attribute("data-status") == "error"
    screenshot(page, "run-page-error")


def _seconds(text: str) -> float:
    """A duration as the page prints it ("317 ms", "2.5 s", "1m05s") in seconds."""
    if text.endswith(" ms"):
        return float(text[:-3]) / 1000
    if text.endswith(" s"):
        return float(text[:-2])
    minutes, seconds = re.fullmatch(r"(\d+)m(\d+)s", text).groups()  # type: ignore[union-attr]
    return int(minutes) * 60 + int(seconds)


def test_a_killed_run_shows_how_long_it_ran(
    page: Any, server: WaldoServer, project: Path, killed_run: str
) -> None:
    history = journal_at(project).history
    assert wait_for(
        lambda: history.run_detail(killed_run).summary.status == "interrupted", timeout=60
    )
    detail = history.run_detail(killed_run)
    started = detail.summary.started_at
    assert started is not None
    # It ran at least until its last node started, and not past now.
    last_node = max(t for n in detail.nodes for t in (n.started_at, n.finished_at) if t)
    ran_at_least = (last_node - started).total_seconds()
    ran_at_most = time.time() - started.timestamp()
    open_page(page, server.url + f"runs/{killed_run}")
    shown = page.locator("#run-duration").inner_text()
    assert ran_at_least - 0.001 <= _seconds(shown) <= ran_at_most, shown
    triage = page.locator("#triage").inner_text()
    assert triage.startswith(f"Interrupted after {shown}") and f"while running {HOLD}" in triage
    screenshot(page, "run-page-interrupted")


def test_the_status_page_says_what_would_run_and_why(page: Any, project: Path) -> None:
    """On ``waldo serve`` in its own process, as users run it (the page loads the
    Kedro project, whose settings are process-wide)."""
    run_ok(project)  # every node's last run has today's parameters, whatever ran before
    parameters = project / "conf" / "base" / "parameters.yml"
    original = parameters.read_text()
    parameters.write_text(original.replace("min_amount: 5", "min_amount: 7"))
    try:
        with waldo_serve(project) as url:
            open_page(page, url + "status")
            check_status_page(page)
    finally:
        parameters.write_text(original)


def check_status_page(page: Any) -> None:
    summary = page.locator("#status-summary").inner_text()
    to_run = int(summary.split(" ")[0])
    assert 0 < to_run < NODES and "nodes of __default__ would run" in summary
    clean = page.locator("#status-table tr[data-node='ingest.clean']")
    assert "parameter min_amount changed" in clean.inner_text()
    assert "st-stale" in clean.get_attribute("class")
    fresh = page.locator("#status-table tr[data-node='ingest.make_orders']")
    assert fresh.locator("td").nth(1).inner_text() == "no"
    stale = page.eval_on_selector_all("#status-table tr.st-stale", "rows => rows.length")
    assert stale == to_run
    groups = dict(
        page.eval_on_selector_all(
            ".graph-svg g.v-group", "els => els.map(e => [e.dataset.id, e.dataset.status])"
        )
    )
    assert groups["ns:ingest"] == "stale"
    page.click("text=expand all")
    node = page.locator(".graph-svg g.v-node[data-name='ingest.make_orders']")
    node.wait_for()
    assert node.get_attribute("data-status") == "up to date"
    screenshot(page, "status-page")


@contextmanager
def waldo_serve(project: Path) -> Iterator[str]:
    """``waldo serve`` started in the project, as a user starts it: its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "waldo.cli", "serve", "--port", "0"],
        cwd=project,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"at (http://127\.0\.0\.1:\d+/) ", line)
        assert found, line + (proc.stderr.read() if proc.poll() is not None else "")
        yield found.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_waldo_serve_in_the_project_has_its_status(project: Path) -> None:
    """``waldo serve`` started in a Kedro project checks that project on /status."""
    with (
        waldo_serve(project) as url,
        urllib.request.urlopen(url + "api/status", timeout=120) as response,
    ):
        status = json.loads(response.read())
    assert status["available"] is True and status["pipeline"] == "__default__"
    assert len(status["nodes"]) == NODES


def test_kedro_waldo_report(project: Path, tmp_path: Path) -> None:
    """The same commands inside a Kedro project: ``kedro waldo report``."""
    out = tmp_path / "kedro-report.html"
    result = run_kedro(project, "waldo", "report", "latest", "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "waldo-data" in text and len(text.encode()) < 1_500_000
