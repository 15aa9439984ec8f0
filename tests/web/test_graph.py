"""The pipeline graph in headless Chromium: routing, zoom and pan, toggles, namespaces,
highlighting, badges.

Runs are recorded through the Recorder API from generated pipelines (``_pipelines``):
a flat 200-node one for the geometry, a 40-node one in four namespaces with a failure,
a flat 400-node one with a failure (big enough to open folded into bands of layers).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import CHROMIUM
from tests.helpers.journal import settings_for
from tests.web._page import served
from tests.web._pipelines import generated_pipeline, record_pipeline_run
from waldo.journal import Journal, Recorder
from waldo.web import WaldoServer
from waldo.web._html import page as html_page
from waldo.web._payload import run_payload

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

BIG = generated_pipeline(200, width=14, seed=11)
NAMESPACED = generated_pipeline(40, width=6, seed=3, namespaces=4)
FAILING = NAMESPACED[14]["name"]  # in ns_1
SLOW = NAMESPACED[2]["name"]  # in ns_0
WIDE = generated_pipeline(400, width=20, seed=5)
WIDE_FAILING = WIDE[250]["name"]

GEOMETRY = """() => {
  const boxes = [...document.querySelectorAll('.graph-svg g.v')].map((g) => {
    const m = /translate\\(([-\\d.]+),([-\\d.]+)\\)/.exec(g.getAttribute('transform'));
    const r = g.querySelector('rect');
    return {id: g.dataset.id, x: +m[1], y: +m[2],
            w: +r.getAttribute('width'), h: +r.getAttribute('height')};
  });
  const edges = [...document.querySelectorAll('.graph-svg path.edge')].map((p) => (
    {from: p.dataset.from, to: p.dataset.to, d: p.getAttribute('d')}));
  return {boxes, edges};
}"""


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journal]:
    root = tmp_path_factory.mktemp("graph")
    settings = settings_for(f"sqlite:///{root / 'waldo.db'}", root)
    recorder = Recorder(settings)
    record_pipeline_run(recorder, "big", BIG)
    record_pipeline_run(
        recorder, "namespaced", NAMESPACED, project="ns", fail=FAILING, durations={SLOW: 2.5}
    )
    record_pipeline_run(recorder, "wide", WIDE, project="wide", fail=WIDE_FAILING)
    journal = Journal(settings)
    yield journal
    journal.store.dispose()


@pytest.fixture(scope="module")
def server(journal: Journal) -> Iterator[WaldoServer]:
    with served(journal.history) as srv:
        yield srv


@pytest.fixture
def run_page(browser: Any, server: WaldoServer) -> Iterator[Any]:
    """Open a run page and wait until its graph is drawn; the test fails on any script
    error in it."""
    pages: list[Any] = []
    errors: list[str] = []

    def open_run(run_id: str, width: int = 1440, height: int = 900) -> Any:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.on("pageerror", lambda error: errors.append(str(error)))
        pages.append(page)
        page.goto(server.url + f"runs/{run_id}")
        page.wait_for_selector(".graph-svg[data-drawn='1']")
        return page

    yield open_run
    for page in pages:
        page.close()
    assert errors == []  # no script error on the way


def _points(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"([-\d.]+),([-\d.]+)", d)]


def _crosses(a: tuple[float, float], b: tuple[float, float], box: dict[str, float]) -> bool:
    """Whether an axis-parallel segment enters a box's inside (touching its border is not)."""
    inset = 0.5
    left, right = box["x"] + inset, box["x"] + box["w"] - inset
    top, bottom = box["y"] + inset, box["y"] + box["h"] - inset
    x1, x2 = sorted((a[0], b[0]))
    y1, y2 = sorted((a[1], b[1]))
    return x1 < right and x2 > left and y1 < bottom and y2 > top


def assert_routed_around_boxes(geometry: dict[str, Any]) -> int:
    """Every edge is made of horizontal and vertical runs, starts on its source's border,
    ends on its target's, and enters no box; no two boxes overlap. Returns the edges."""
    boxes = {b["id"]: b for b in geometry["boxes"]}
    ordered = sorted(boxes.values(), key=lambda b: (b["y"], b["x"]))
    for i, one in enumerate(ordered):
        for other in ordered[i + 1 :]:
            if other["y"] >= one["y"] + one["h"]:
                break
            overlap_x = one["x"] < other["x"] + other["w"] and other["x"] < one["x"] + one["w"]
            assert not overlap_x, (one["id"], other["id"])
    for edge in geometry["edges"]:
        points = _points(edge["d"])
        source, target = boxes[edge["from"]], boxes[edge["to"]]
        start, end = points[0], points[-1]
        assert source["x"] <= start[0] <= source["x"] + source["w"], edge
        assert min(abs(start[1] - source["y"]), abs(start[1] - source["y"] - source["h"])) < 1
        assert target["x"] <= end[0] <= target["x"] + target["w"], edge
        assert min(abs(end[1] - target["y"]), abs(end[1] - target["y"] - target["h"])) < 1
        for a, b in itertools.pairwise(points):
            assert a[0] == b[0] or a[1] == b[1], (edge, a, b)
            for box in boxes.values():
                assert not _crosses(a, b, box), (edge["from"], edge["to"], box["id"], a, b)
    return len(geometry["edges"])


def test_no_edge_crosses_a_box_on_a_200_node_pipeline(run_page: Any) -> None:
    page = run_page("big")
    assert page.locator(".graph-svg g.v-node").count() == 200
    edges = assert_routed_around_boxes(page.evaluate(GEOMETRY))
    assert edges > 250  # node to node, through datasets, many spanning several layers
    page.check("input[name=datasets]")
    page.wait_for_function("document.querySelectorAll('.graph-svg g.v-dataset').length > 0")
    page.check("input[name=params]")
    page.wait_for_function("document.querySelectorAll('.graph-svg g.v-param').length > 0")
    assert assert_routed_around_boxes(page.evaluate(GEOMETRY)) > edges


def test_dataset_and_parameter_boxes_toggle(run_page: Any) -> None:
    page = run_page("big")
    datasets = {d for n in BIG for d in n["inputs"] + n["outputs"] if not d.startswith("params:")}
    params = {d for n in BIG for d in n["inputs"] if d.startswith("params:")}
    assert page.locator(".graph-svg g.v-dataset").count() == 0
    page.check("input[name=datasets]")
    page.wait_for_function(
        f"document.querySelectorAll('.graph-svg g.v-dataset').length === {len(datasets)}"
    )
    page.check("input[name=params]")
    page.wait_for_function(
        f"document.querySelectorAll('.graph-svg g.v-param').length === {len(params)}"
    )
    page.uncheck("input[name=datasets]")
    page.wait_for_function("document.querySelectorAll('.graph-svg g.v-dataset').length === 0")
    assert page.locator(".graph-svg g.v-param").count() == len(params)


def _transform(page: Any) -> tuple[float, float, float]:
    text = page.get_attribute(".graph-svg .viewport", "transform")
    x, y, k = re.match(r"translate\(([-\d.e]+),([-\d.e]+)\) scale\(([-\d.e]+)\)", text).groups()
    return float(x), float(y), float(k)


def test_zoom_pan_and_fit(run_page: Any) -> None:
    page = run_page("big")
    _, _, first = _transform(page)
    page.click(".zoom-in")
    page.wait_for_function(f"+document.querySelector('.graph-svg').dataset.scale > {first:.3f}")
    assert _transform(page)[2] == pytest.approx(first * 1.4, rel=0.01)
    box = page.locator(".graph-svg").bounding_box()
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    x0, y0, k0 = _transform(page)
    page.mouse.move(*middle)
    page.mouse.down()
    page.mouse.move(middle[0] + 120, middle[1] + 40, steps=5)
    page.mouse.up()
    x1, y1, k1 = _transform(page)
    assert (x1 - x0, y1 - y0, k1) == (pytest.approx(120, abs=2), pytest.approx(40, abs=2), k0)
    page.mouse.wheel(0, -300)
    page.wait_for_function(f"+document.querySelector('.graph-svg').dataset.scale > {k1:.3f}")
    page.click(".fit")
    page.wait_for_timeout(50)  # the fit is applied at once (no transition)
    drawn = page.locator(".graph-svg .viewport").bounding_box()
    for start, size in (("x", "width"), ("y", "height")):
        assert box[start] - 1 <= drawn[start]
        assert drawn[start] + drawn[size] <= box[start] + box[size] + 1


def _node_graph(nodes: list[dict[str, Any]]) -> dict[str, set[str]]:
    producer = {o: n["name"] for n in nodes for o in n["outputs"]}
    children: dict[str, set[str]] = {n["name"]: set() for n in nodes}
    for n in nodes:
        for i in n["inputs"]:
            if i in producer:
                children[producer[i]].add(n["name"])
    return children


def _reach(children: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for nxt in children[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def test_clicking_a_node_lights_up_its_upstream_and_downstream(run_page: Any) -> None:
    page = run_page("big")
    children = _node_graph(BIG)
    parents: dict[str, set[str]] = {n: set() for n in children}
    for a, kids in children.items():
        for b in kids:
            parents[b].add(a)
    chosen = BIG[100]["name"]
    page.fill(".find", chosen)
    page.press(".find", "Enter")
    page.wait_for_selector(f".graph-svg g.v.sel[data-name='{chosen}']")

    def names(role: str) -> set[str]:
        return set(
            page.eval_on_selector_all(
                f".graph-svg g.v-node.{role}", "els => els.map(e => e.dataset.name)"
            )
        )

    assert names("up") == _reach(parents, chosen)
    assert names("down") == _reach(children, chosen)
    assert len(names("dim")) == 200 - 1 - len(names("up")) - len(names("down"))
    assert page.locator("#node-panel h3").inner_text() == chosen
    page.click(".graph-svg", position={"x": 5, "y": 5})  # the background clears it
    page.wait_for_function("!document.querySelector('.graph-svg g.v.sel')")
    assert page.locator(".graph-svg g.v.dim").count() == 0


def test_namespaces_fold_into_one_box_with_an_aggregated_state(run_page: Any) -> None:
    page = run_page("namespaced")
    groups = page.eval_on_selector_all(
        ".graph-svg g.v-group", "els => els.map(e => [e.dataset.id, e.dataset.status])"
    )
    assert dict(groups) == {
        "ns:ns_0": "complete",
        "ns:ns_1": "error",  # one failed node among completed ones
        "ns:ns_2": "not run",
        "ns:ns_3": "not run",
    }
    first = page.locator(".graph-svg g.v-group[data-id='ns:ns_0']")
    assert "10 nodes" in first.locator(".badges").text_content()
    assert page.locator(".graph-svg g.v-node").count() == 0
    first.click()  # expands
    page.wait_for_selector(".graph-svg g.v-node")
    members = page.eval_on_selector_all(
        ".graph-svg g.v-node", "els => els.map(e => e.dataset.name)"
    )
    assert sorted(members) == sorted(n["name"] for n in NAMESPACED if n["namespace"] == "ns_0")
    assert page.locator(".graph-svg g.v-group").count() == 3
    assert_routed_around_boxes(page.evaluate(GEOMETRY))
    page.click("text=collapse all")
    page.wait_for_function("document.querySelectorAll('.graph-svg g.v-group').length === 4")
    folded = NAMESPACED[25]["name"]  # in ns_2: finding it unfolds its namespace
    page.fill(".find", folded)
    page.press(".find", "Enter")
    page.wait_for_selector(f".graph-svg g.v-node.sel[data-name='{folded}']")
    assert page.locator(".graph-svg g.v-group").count() == 3
    assert page.locator("#node-panel h3").inner_text() == folded


def test_badges_show_duration_and_the_failed_node_is_shown_first(run_page: Any) -> None:
    page = run_page("namespaced")
    # The failed node's namespace is focused and selected: its panel is open.
    assert page.locator("#node-panel h3").inner_text() == FAILING
    assert page.locator(".graph-svg g.v-group.sel").get_attribute("data-id") == "ns:ns_1"
    page.click("text=expand all")
    slow = page.locator(f".graph-svg g.v-node[data-name='{SLOW}'] .badges")
    slow.wait_for()
    assert slow.text_content() == "2.5 s"


def test_failed_data_checks_are_marked(journal: Journal, browser: Any, tmp_path: Path) -> None:
    """Nodes whose data checks failed (``checks_failed``, added by the data checks) get a
    mark, and their panel lists the checks."""
    detail = journal.history.run_detail("big")
    data = run_payload(journal.history, detail)
    checked = data["nodes"][5]
    checked["checks_failed"] = 2
    checked["checks"] = [
        {"dataset": "out_5", "expectation": "rows > 0", "success": False, "observed": 0},
        {"dataset": "out_5", "expectation": "no nulls in id", "success": False, "observed": 3},
        {"dataset": "out_5", "expectation": "id unique", "success": True, "observed": True},
    ]
    path = tmp_path / "checks.html"
    path.write_text(html_page("checks", data, static=True))
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_selector(".graph-svg[data-drawn='1']")
    marked = page.locator(".graph-svg g.v[data-checks]")
    assert marked.count() == 1 and marked.get_attribute("data-name") == checked["name"]
    assert marked.locator(".checks-mark text").text_content() == "!2"
    page.fill(".find", checked["name"])
    page.press(".find", "Enter")
    rows = page.locator("#node-panel table.checks tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).inner_text().split("\t")[1:3] == ["rows > 0", "failed"]
    page.close()


def _layers(nodes: list[dict[str, Any]]) -> dict[str, int]:
    """Each node's layer, counted from 1: one more than the deepest node it reads from."""
    producer = {o: n["name"] for n in nodes for o in n["outputs"]}
    layer: dict[str, int] = {}
    for n in nodes:  # generated pipelines list every node after the nodes it reads from
        above = [layer[producer[i]] for i in n["inputs"] if i in producer]
        layer[n["name"]] = max(above, default=0) + 1
    return layer


def _band_layers(group_id: str) -> range:
    """The layers of a band from its box's id ("ns:layers 3\u20134", "ns:layer 7")."""
    numbers = [int(x) for x in re.findall(r"\d+", group_id)]
    return range(numbers[0], numbers[-1] + 1)


def test_a_big_flat_pipeline_opens_as_bands_of_layers(run_page: Any) -> None:
    page = run_page("wide")
    layer = _layers(WIDE)
    bands = page.eval_on_selector_all(
        ".graph-svg g.v-group",
        "els => els.map(e => [e.dataset.id, e.dataset.status, "
        "e.querySelector('.badges').textContent])",
    )
    assert page.locator(".graph-svg g.v-node").count() == 0
    assert "400 nodes grouped by layer" in page.locator(".graph .toolbar").inner_text()
    # The bands hold whole consecutive layers, every node in exactly one.
    spans = sorted(((_band_layers(b), b) for b, _, _ in bands), key=lambda s: s[0].start)
    covered = [n for span, _ in spans for n in span]
    assert covered == list(range(1, max(layer.values()) + 1))
    sizes = {band_id: int(text.split(" nodes")[0]) for band_id, _, text in bands}
    for span, band_id in spans:
        assert sizes[band_id] == sum(1 for n in WIDE if layer[n["name"]] in span)
    # Drawn as a chain, top to bottom; the failed node's band is in error and selected.
    edges = page.eval_on_selector_all(
        ".graph-svg path.edge", "els => els.map(e => [e.dataset.from, e.dataset.to])"
    )
    ids = [band_id for _, band_id in spans]
    assert sorted(map(tuple, edges)) == sorted(itertools.pairwise(ids))
    failing_band = next(b for s, b in spans if layer[WIDE_FAILING] in s)
    assert page.locator(".graph-svg g.v-group.sel").get_attribute("data-id") == failing_band
    assert {b: status for b, status, _ in bands}[failing_band] == "error"
    assert page.locator("#node-panel h3").inner_text() == WIDE_FAILING
    # A click opens a band: its nodes are drawn, routed around every box.
    span, opened = spans[2]
    page.click(".graph .toolbar .fit")  # the page opens readable, on the failed band
    page.locator(f".graph-svg g.v-group[data-id='{opened}']").click()
    page.wait_for_selector(".graph-svg g.v-node")
    members = page.eval_on_selector_all(
        ".graph-svg g.v-node", "els => els.map(e => e.dataset.name)"
    )
    assert sorted(members) == sorted(n["name"] for n in WIDE if layer[n["name"]] in span)
    assert page.locator(".graph-svg g.v-group").count() == len(spans) - 1
    assert_routed_around_boxes(page.evaluate(GEOMETRY))
    # Datasets: those of the opened nodes; the ones between folded bands stay hidden.
    touching = {
        d
        for n in WIDE
        if n["name"] in members
        for d in n["inputs"] + n["outputs"]
        if not d.startswith("params:")
    }
    page.check("input[name=datasets]")
    page.wait_for_function(
        f"document.querySelectorAll('.graph-svg g.v-dataset').length === {len(touching)}"
    )
    page.uncheck("input[name=datasets]")
    # Finding a node in a folded band opens that band too.
    found = next(n["name"] for n in WIDE if layer[n["name"]] in spans[-1][0])
    page.fill(".find", found)
    page.press(".find", "Enter")
    page.wait_for_selector(f".graph-svg g.v-node.sel[data-name='{found}']")
    assert page.locator(".graph-svg g.v-group").count() == len(spans) - 2
    # Choices made while a layout is being made: the drawing ends on the last one.
    page.click("text=expand all")
    page.click("text=collapse all")
    first_span, first = spans[0]
    page.locator(f".graph-svg g.v-group[data-id='{first}']").dispatch_event("click")
    page.wait_for_selector(".graph-svg[data-drawn='1']:not([data-pending])")
    drawn = page.eval_on_selector_all(".graph-svg g.v-node", "els => els.map(e => e.dataset.name)")
    assert sorted(drawn) == sorted(n["name"] for n in WIDE if layer[n["name"]] in first_span)
    page.click("text=expand all")
    page.wait_for_function("document.querySelectorAll('.graph-svg g.v-node').length === 400")
    assert page.locator(".graph-svg g.v-group").count() == 0
    assert page.locator(".bands-note").count() == 0  # nothing left folded
