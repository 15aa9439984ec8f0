"""The diff page in headless Chromium: only changes by default, slower and failed nodes
coloured in the table and on the graph, git shas linked to their commit."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import CHROMIUM
from tests.helpers.journal import end_node, settings_for, start_node
from tests.web._page import served
from tests.web._pipelines import generated_pipeline
from waldo.journal import Journal, Recorder, RunInfo
from waldo.web import WaldoServer

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

NODES = generated_pipeline(10, width=4, seed=2)
SLOWER = NODES[1]["name"]  # 0.2 s -> 1.0 s
A_BIT_SLOWER = NODES[2]["name"]  # 0.2 s -> 0.22 s: not worth a colour
FAILS = NODES[8]["name"]
ADDED = "report"
SHA_A, SHA_B = "a" * 40, "b" * 40


def record(
    recorder: Recorder,
    run_id: str,
    repo: Path,
    sha: str,
    durations: dict[str, float],
    fail: str | None = None,
    extra: str | None = None,
) -> None:
    names = [n["name"] for n in NODES] + ([extra] if extra else [])
    recorder.start_run(
        RunInfo(
            run_id=run_id,
            project="shop",
            project_path=str(repo),
            pipeline_names=["__default__"],
            git_sha=sha,
            runtime_params={"min_amount": 10 if sha == SHA_A else 20},
        )
    )
    error = None
    for name in names:
        started = time.time() - durations.get(name, 0.2)
        record = start_node(recorder, run_id, name, "shop.nodes.work", started)
        if name == fail:
            error = RuntimeError(f"{name} ran out of memory")
            end_node(recorder, record, error=error, took=durations.get(name, 0.2))
            continue
        end_node(recorder, record, took=durations.get(name, 0.2))
    recorder.end_run(run_id, "failed" if error else "success", error)
    recorder.flush()


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journal]:
    root = tmp_path_factory.mktemp("diff-page")
    repo = root / "shop"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "remote", "add", "origin", "git@github.com:acme/shop.git"],
        check=True,
    )
    settings = settings_for(f"sqlite:///{root / 'waldo.db'}", root)
    recorder = Recorder(settings)
    record(recorder, "before", repo, SHA_A, {})
    record(
        recorder,
        "after",
        repo,
        SHA_B,
        {SLOWER: 1.0, A_BIT_SLOWER: 0.22},
        fail=FAILS,
        extra=ADDED,
    )
    journal = Journal(settings)
    yield journal
    journal.store.dispose()


@pytest.fixture(scope="module")
def server(journal: Journal) -> Iterator[WaldoServer]:
    with served(journal.history) as srv:
        yield srv


@pytest.fixture(scope="module")
def page(browser: Any, server: WaldoServer) -> Iterator[Any]:
    tab = browser.new_page(viewport={"width": 1440, "height": 900})
    tab.goto(server.url + "diff?a=before&b=after")
    tab.wait_for_selector("body[data-drawn='1']")
    yield tab
    tab.close()


def rows(page: Any) -> dict[str, str]:
    """Node -> the classes of its row in the node table."""
    found = page.eval_on_selector_all(
        "#node-diff tbody tr", "rows => rows.map(r => [r.dataset.node, r.className])"
    )
    return dict(found)


def test_only_changes_show_until_asked_for_all(page: Any) -> None:
    page.uncheck("#show-all")
    assert sorted(rows(page)) == sorted([SLOWER, FAILS, ADDED])
    page.check("#show-all")
    assert len(rows(page)) == len(NODES) + 1
    page.uncheck("#show-all")
    summary = page.inner_text("#diff-summary")
    assert "1 failed" in summary and "1 > 20% slower" in summary and "1 added" in summary


def test_slower_and_failed_nodes_are_coloured(page: Any) -> None:
    page.uncheck("#show-all")
    found = rows(page)
    assert "slower" in found[SLOWER].split() and "c-slower" in found[SLOWER].split()
    assert "c-failed" in found[FAILS].split()
    assert "c-added" in found[ADDED].split()
    delta = page.locator(f"#node-diff tr[data-node='{SLOWER}'] .delta")
    assert delta.inner_text().startswith("+") and "slower" in delta.get_attribute("class")
    assert page.evaluate(
        "el => getComputedStyle(el).color", delta.element_handle()
    ) != page.evaluate(
        "el => getComputedStyle(el).color",
        page.locator(f"#node-diff tr[data-node='{SLOWER}'] td").first.element_handle(),
    )


def test_the_graph_is_coloured_by_change(page: Any) -> None:
    states = dict(
        page.eval_on_selector_all(
            ".graph-svg g.v-node", "els => els.map(e => [e.dataset.name, e.dataset.status])"
        )
    )
    assert states[SLOWER] == "slower"
    assert states[FAILS] == "failed"
    assert states[ADDED] == "added"
    assert states[A_BIT_SLOWER] == "same"
    assert {s for n, s in states.items() if n not in (SLOWER, FAILS, ADDED)} == {"same"}


def test_git_shas_link_to_their_commits(page: Any) -> None:
    links = page.eval_on_selector_all(
        "#facts tr[data-name='git_sha'] a.git-sha", "links => links.map(a => a.href)"
    )
    assert links == [
        f"https://github.com/acme/shop/commit/{SHA_A}",
        f"https://github.com/acme/shop/commit/{SHA_B}",
    ]
    params = page.locator("#params tr[data-name='min_amount'] td").all_inner_texts()
    assert params == ["min_amount", "10", "20"]
