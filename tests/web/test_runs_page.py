"""The run list in headless Chromium: filters, the kind column, the duration chart,
picking runs to compare, narrow windows, dark mode, and following a running run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.browser import CHROMIUM
from tests.helpers.journal import record_run, settings_for
from tests.web._page import served
from waldo.journal import Journal, Recorder, RunInfo
from waldo.web import WaldoServer, make_server

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journal]:
    root = tmp_path_factory.mktemp("runs-page")
    settings = settings_for(f"sqlite:///{root / 'waldo.db'}", root)
    recorder = Recorder(settings)
    for i in range(4):
        record_run(recorder, f"train-{i}", pipeline="train", params={"lr": i / 10, "depth": 3})
    record_run(recorder, "train-bad", pipeline="train", fail_at="clean", params={"lr": 0.9})
    for run_id, kind in (("etl-1", "dpo"), ("gh-1", "collected")):
        recorder.start_run(RunInfo(run_id=run_id, kind=kind, project="demo"))
        recorder.end_run(run_id, "success")
    recorder.start_run(RunInfo(run_id="nightly", run_params={"tags": ["nightly"]}))
    recorder.end_run("nightly", "success")
    recorder.flush()
    journal = Journal(settings)
    yield journal
    journal.store.dispose()


@pytest.fixture(scope="module")
def server(journal: Journal) -> Iterator[WaldoServer]:
    with served(journal.history) as srv:
        yield srv


def listed(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#runs tbody tr", "rows => rows.map(r => r.dataset.run)"))


def open_list(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")


def test_filters_by_kind_status_tag_and_parameter(page: Any, server: WaldoServer) -> None:
    open_list(page, server.url)
    assert len(listed(page)) == 8
    kinds = page.eval_on_selector_all("#runs tbody td.kind", "cells => cells.map(c => c.innerText)")
    assert sorted(set(kinds)) == ["collected", "dpo", "kedro"]
    page.select_option("select[name=kind]", "dpo")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/?*kind=dpo*")
    page.wait_for_selector("body[data-ready='1']")
    assert listed(page) == ["etl-1"]
    open_list(page, server.url)
    page.fill("input[name=param]", "lr=0.2")
    page.press("input[name=param]", "Enter")
    page.wait_for_url("**param=lr%3D0.2*")
    page.wait_for_selector("body[data-ready='1']")
    assert listed(page) == ["train-2"]
    assert page.input_value("input[name=param]") == "lr=0.2"  # the form keeps the filter
    open_list(page, server.url + "?tag=nightly")
    assert listed(page) == ["nightly"]
    open_list(page, server.url + "?status=failed")
    assert listed(page) == ["train-bad"]


def test_the_duration_chart_places_runs_in_time_by_status(page: Any, server: WaldoServer) -> None:
    open_list(page, server.url)
    chart = page.locator("figure.duration-trend")
    assert chart.locator("canvas").count() >= 1
    points = page.eval_on_selector_all(
        "figure.duration-trend table.chart-data tbody tr",
        "rows => rows.map(r => [r.dataset.run, r.dataset.status, +r.dataset.t])",
    )
    assert len(points) == 8
    times = [t for _, _, t in points]
    assert times == sorted(times) and times[0] < times[-1]  # real start times, oldest first
    assert dict((run, status) for run, status, _ in points)["train-bad"] == "failed"


def test_picking_runs_compares_their_parameters_or_diffs_two(
    page: Any, server: WaldoServer
) -> None:
    open_list(page, server.url + "?pipeline=train")
    assert page.locator("#compare-picked").get_attribute("aria-disabled") == "true"
    for run_id in ("train-0", "train-2", "train-bad"):
        page.check(f"#runs tr[data-run='{run_id}'] input[type=checkbox]")
    assert page.locator("#diff-picked").get_attribute("aria-disabled") == "true"  # three
    page.click("#compare-picked")
    page.wait_for_selector("#compare")
    heads = page.eval_on_selector_all("#compare th[data-run]", "t => t.map(h => h.dataset.run)")
    assert heads == ["train-0", "train-2", "train-bad"]  # oldest first
    lr = page.locator("#compare tr[data-param='lr']")
    assert lr.locator("td").all_inner_texts() == ["lr", "0", "0.2", "0.9"]
    assert "differs" in lr.get_attribute("class")
    depth = page.locator("#compare tr[data-param='depth']")
    assert depth.locator("td").all_inner_texts() == ["depth", "3", "3", "-"]
    page.check("#only-differing")
    assert page.locator("#compare tr[data-param]").count() == 2
    page.go_back()
    page.wait_for_selector("body[data-ready='1']")
    for run_id in ("train-1", "train-3"):
        page.check(f"#runs tr[data-run='{run_id}'] input[type=checkbox]")
    page.click("#diff-picked")
    page.wait_for_selector("#diff-summary")
    assert "a=train-1&b=train-3" in page.url


def test_readable_at_1280_and_usable_at_800_without_sideways_scrolling(
    browser: Any, server: WaldoServer
) -> None:
    for width, columns in ((1280, 11), (800, 6)):
        tab = browser.new_page(viewport={"width": width, "height": 900})
        for path in ("", "runs/train-bad", "diff?a=train-0&b=train-bad"):
            tab.goto(server.url + path)
            tab.wait_for_selector("body[data-drawn='1']")
            overflow = tab.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (width, path)
        tab.goto(server.url)
        tab.wait_for_selector("body[data-ready='1']")
        shown = tab.eval_on_selector_all(
            "#runs thead th", "ths => ths.filter(t => t.offsetParent !== null).length"
        )
        assert shown == columns, width
        tab.close()


def _background(page: Any) -> tuple[int, ...]:
    color = page.evaluate("getComputedStyle(document.body).backgroundColor")
    return tuple(int(part) for part in color[color.index("(") + 1 : -1].split(","))


def test_dark_mode_follows_the_systems_setting(browser: Any, server: WaldoServer) -> None:
    for scheme, dark in (("dark", True), ("light", False)):
        tab = browser.new_page(color_scheme=scheme)
        tab.goto(server.url + "runs/train-bad")
        tab.wait_for_selector("body[data-drawn='1']")
        assert (sum(_background(tab)) < 150) is dark, scheme
        tab.close()


def test_the_page_has_an_icon(page: Any, server: WaldoServer) -> None:
    open_list(page, server.url)
    href = page.get_attribute("link[rel=icon]", "href")
    assert href.startswith("data:image/svg+xml,")
    assert page.evaluate(
        """href => new Promise(ok => { const i = new Image(); i.onload = () => ok(i.width > 0);
        i.onerror = () => ok(false); i.src = href; })""",
        href,
    )


def test_the_list_follows_a_running_run(browser: Any, tmp_path: Any) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'waldo.db'}", tmp_path)
    recorder = Recorder(settings)
    record_run(recorder, "before", pipeline="train")
    recorder.start_run(RunInfo(run_id="going", project="demo", pipeline_names=["train"]))
    recorder.flush()
    journal = Journal(settings)
    srv = make_server(journal.history, port=0)
    srv.start_in_thread()
    tab = browser.new_page()
    try:
        open_list(tab, srv.url)
        first = tab.locator("#runs tbody tr").first
        assert first.get_attribute("data-run") == "going"
        assert first.locator(".badge").inner_text() == "running"
        tab.evaluate("window.notReloaded = true")
        recorder.end_run("going", "success")
        recorder.flush()
        tab.wait_for_function(
            "document.querySelector('#runs tbody tr .badge').textContent === 'success'",
            timeout=30_000,
        )
        assert tab.evaluate("window.notReloaded") is True
    finally:
        tab.close()
        srv.shutdown()
        srv.server_close()
        journal.store.dispose()
