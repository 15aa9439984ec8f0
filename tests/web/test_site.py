"""The static site (``waldo report --site``, ``static_site:``): an index of the latest
runs and a self-contained page per run, opened from disk in Chromium; old pages go."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.helpers.browser import chromium, screenshot
from tests.helpers.journal import record_run, settings_for
from waldo._errors import ConfigError
from waldo.cli import app
from waldo.journal import CheckResult, Journal, Recorder
from waldo.web import site_options, write_site
from waldo.web._site import page_name


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """Three runs, the last with two failed checks on its ``clean`` node."""
    settings = settings_for(f"sqlite:///{tmp_path / 'waldo.db'}", tmp_path)
    recorder = Recorder(settings)
    for run_id in ("run-1", "run-2", "run-3"):
        record_run(recorder, run_id, flush=False)
    failed = {"success": False, "unexpected_count": 1, "unexpected_values": [7]}
    recorder.record_checks(
        [
            CheckResult(
                "run-3", "clean", "clean_out", "expect_column_to_exist", {"column": "a"}, True
            ),
            CheckResult("run-3", "clean", "clean_out", "expect_x", {"column": "b"}, **failed),  # type: ignore[arg-type]
            CheckResult("run-3", "clean", "clean_out", "expect_y", {"column": "c"}, **failed),  # type: ignore[arg-type]
        ]
    )
    assert not recorder.flush().spooled
    journal = Journal(settings)
    yield journal
    journal.store.dispose()


def test_the_site_keeps_the_latest_runs(journal: Journal, tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = write_site(journal.history, site, keep=3)
    assert sorted(first.written) == ["run-1", "run-2", "run-3"]
    again = write_site(journal.history, site, keep=3)
    assert again.written == []  # finished runs' pages are not written twice
    record_run(journal.recorder, "run-4")
    kept = write_site(journal.history, site, keep=3, refresh=["run-4"])
    assert (kept.written, kept.removed) == (["run-4"], 1)
    pages = sorted(p.name for p in (site / "runs").iterdir())
    assert pages == [page_name(r) for r in ("run-2", "run-3", "run-4")]
    index = (site / "index.html").read_text()
    assert "run-1" not in index and index.count("href='runs/") == 3


def test_the_site_opens_from_disk(journal: Journal, tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site(journal.history, site, keep=5)
    index = site / "index.html"
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        # blob: and data: URLs are made by the page itself (its layout worker), not fetched
        page.on("request", lambda r: r.url.startswith(("blob:", "data:")) or requests.append(r.url))
        page.goto(index.as_uri())
        rows = page.locator("#runs tbody tr")
        assert rows.count() == 3
        assert rows.nth(0).locator("td").nth(0).inner_text() == "run-3"
        assert rows.nth(0).locator("td.checks-failed").inner_text() == "2"
        assert rows.nth(1).locator("td.checks-failed").inner_text() == "-"
        screenshot(page, "static-site-index")
        page.click("text=run-3")
        page.wait_for_selector(".graph-svg[data-drawn='1']")
        assert page.url == (site / "runs" / page_name("run-3")).as_uri()
        assert page.locator(".graph-svg g.v-node").count() == 3
        payload = page.evaluate("JSON.parse(document.getElementById('waldo-data').textContent)")
        clean = next(n for n in payload["nodes"] if n["name"] == "clean")
        assert clean["checks_failed"] == 2
        assert [c["expectation"] for c in clean["checks"]][1] == "expect_x(column=b)"
        # pages and index are self-contained: nothing but the two files was requested
        assert requests == [index.as_uri(), page.url]
        screenshot(page, "static-site-run")
        page.close()


def test_report_site_command(journal: Journal, tmp_path: Path) -> None:
    site = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["--db", journal.settings.store_url, "report", "--site", str(site), "--keep", "2"],
        env={"WALDO_DB_URL": None},
    )
    assert result.exit_code == 0, result.output
    assert (
        result.output.strip()
        == f"Wrote {site / 'index.html'} and 2 run page(s) (0 old page(s) removed)."
    )
    assert sorted(p.name for p in (site / "runs").iterdir()) == [
        page_name("run-2"),
        page_name("run-3"),
    ]
    both = CliRunner().invoke(
        app, ["--db", journal.settings.store_url, "report", "latest", "--site", str(site)]
    )
    assert both.exit_code == 2 and "give no RUN_ID" in both.output


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"keep": 3}, "`static_site:` in waldo.yml needs a folder"),
        ({"path": "s", "keep": 0}, "`static_site.keep` in waldo.yml is 0"),
        ({"path": "s", "kept": 1}, "unknown key(s) kept"),
    ],
)
def test_static_site_options(raw: Any, message: str, tmp_path: Path) -> None:
    assert site_options({"path": "site/", "keep": 4}, tmp_path).path == tmp_path / "site"
    assert site_options("public", tmp_path).keep == 20
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        site_options(raw, tmp_path)
