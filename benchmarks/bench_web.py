"""The web page on a large journal: 10,000 runs, two 1,000-node runs, a 5,000-node run.

Fills a SQLite journal through the Recorder API with RUNS runs (two pipelines, three
nodes each), one run of a 1,000-node pipeline (20 layers of 50 nodes, each reading two
outputs of the layer above: 1,950 edges, no namespaces), one of a 1,000-node pipeline
without namespaces whose edges span many layers (``tests/web/_pipelines.
generated_pipeline``, layers of 50) and one of a 5,000-node pipeline in 50 namespaces
(``generated_pipeline`` too), serves it with
``waldo serve``'s server in this process and loads pages in headless Chromium (Debian's,
through Playwright). Times are measured by the browser itself (``performance`` API, from
the start of navigation), each case once per round, rounds interleaved:

- baseline: ``/health``, a page of three bytes, until its load event;
- run list, first page and a page deep in the list: until the page is drawn;
- run page of the 1,000-node run: until it is *interactive* (the first frame after the
  page is drawn; the graph is laid out in a worker meanwhile) and until the graph is
  drawn (its nodes grouped into bands of layers, folded); then, from a click on "expand
  all", until all 1,000 nodes are drawn;
- run page of the 1,000-node run with long edges: until the graph is drawn;
- run page of the 5,000-node run, namespaces folded (the default): until the graph is
  drawn;
- the 1,000-node run as a static report (``waldo report``) opened from file://.

Also the server side alone (Python) of both run pages and of one live poll, and the
size of the 1,000-node report file.

    python benchmarks/bench_web.py [--runs 10000] [--nodes 1000] [--big 5000] [--repeat 5]

Prints medians and ratios to the baseline; writes ``benchmarks/results/bench_web.json``.
Targets: the 1,000-node page interactive within 1 s and the graph of either 1,000-node
run drawn within 1.5 s, the 5,000-node page drawn within 2 s, the report at most 1.5 MB.
Not part of the tests.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import median, table, write_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.browser import chromium
from tests.web._pipelines import generated_pipeline, record_pipeline_run
from waldo.journal import Journal, Recorder, RunInfo, resolve_settings
from waldo.web import make_server, report_html

WIDE_RUN = "run-1000"
FAR_RUN = "run-1000-far"
BIG_RUN = "run-5000"
TARGETS = {
    "run page, 1,000 nodes: interactive": 1000.0,
    "run page, 1,000 nodes: graph drawn": 1500.0,
    "run page, 1,000 nodes with long edges: graph drawn": 1500.0,
    "run page, 5,000 nodes in 50 namespaces: graph drawn": 2000.0,
}
REPORT_LIMIT = 1_500_000


def layered_pipeline(nodes: int, width: int = 50) -> list[dict[str, Any]]:
    """Layers of ``width`` nodes, each reading two outputs of the layer above."""
    spec = []
    for i in range(nodes):
        layer, pos = divmod(i, width)
        inputs = (
            [f"d{(layer - 1) * width + (pos + k) % width}" for k in (0, 7)] if layer else ["raw"]
        )
        spec.append(
            {"name": f"node_{i:04d}", "func": "m.f", "inputs": inputs, "outputs": [f"d{i}"]}
        )
    return spec


def fill(root: Path, runs: int, nodes: int, big: int) -> Journal:
    url = f"sqlite:///{root / 'waldo.db'}"
    settings = resolve_settings(root, {"store": url}, environ={})
    recorder = Recorder(settings)
    now = time.time() - runs * 60
    for i in range(runs):
        run_id = f"run-{i:05d}"
        pipeline = "train" if i % 3 else "report"
        recorder.start_run(RunInfo(run_id=run_id, pipeline_names=[pipeline], project="bench"))
        start = now + i * 60
        recorder.update_run(run_id, started_at=start)
        for n, name in enumerate(("load", "clean", "fit")):
            recorder.node_started(run_id, name, f"nodes.{name}", start + n)
            recorder.node_finished(run_id, name, "success", start + n)
        recorder.end_run(run_id, "failed" if i % 17 == 0 else "success")
        recorder.update_run(run_id, finished_at=start + 5 + (i % 50))
        if i % 2000 == 1999:
            recorder.flush()
    record_pipeline_run(recorder, WIDE_RUN, layered_pipeline(nodes), project="wide")
    far = generated_pipeline(nodes, width=50, seed=1)
    record_pipeline_run(recorder, FAR_RUN, far, project="far")
    namespaced = generated_pipeline(big, width=50, namespaces=50, seed=1)
    record_pipeline_run(recorder, BIG_RUN, namespaced, project="big")
    recorder.flush()
    return Journal(settings)


def load_ms(page: Any, url: str) -> float:
    page.goto(url, wait_until="load")
    return float(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))


def ready_ms(page: Any, url: str) -> float:
    """Until the first frame after the page is drawn (it then answers input)."""
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
    return float(page.evaluate("window.waldoReadyAt"))


def page_ms(page: Any, url: str) -> tuple[float, float]:
    """(interactive, graph drawn) of a run page."""
    page.goto(url)
    page.wait_for_selector("body[data-drawn='1']", timeout=120_000)
    page.evaluate("new Promise(requestAnimationFrame)")  # the graph's frame is painted
    return float(page.evaluate("window.waldoReadyAt")), float(page.evaluate("window.waldoGraphAt"))


def expand_all_ms(page: Any, nodes: int) -> float:
    """From a click on "expand all" on a drawn run page until every node is drawn."""
    started = float(page.evaluate("performance.now()"))
    page.click("text=expand all")
    page.wait_for_selector(f".graph-svg[data-vertices='{nodes}']", timeout=120_000)
    page.evaluate("new Promise(requestAnimationFrame)")
    return float(page.evaluate("window.waldoGraphAt")) - started


def server_ms(server: Any, path: str) -> float:
    started = time.perf_counter()
    status, _, _ = server.app.route(path, {})
    assert status == 200, path
    return (time.perf_counter() - started) * 1000


CASES = (
    "baseline: /health",
    "run list, page 1",
    "run list, page 150",
    "run page, 1,000 nodes: interactive",
    "run page, 1,000 nodes: graph drawn",
    "run page, 1,000 nodes: all groups expanded (from the click)",
    "run page, 1,000 nodes with long edges: graph drawn",
    "run page, 5,000 nodes in 50 namespaces: interactive",
    "run page, 5,000 nodes in 50 namespaces: graph drawn",
    "static report, 1,000 nodes: graph drawn",
    "server: run page, 1,000 nodes (Python)",
    "server: run page, 5,000 nodes (Python)",
    "server: live state, one poll of the 1,000-node run (Python)",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--big", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="waldo-bench-web-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        journal = fill(root, args.runs, args.nodes, args.big)
        print(
            f"filled {args.runs:,} runs, two {args.nodes:,}-node runs and a {args.big:,}-node run "
            f"in {time.perf_counter() - started:.1f} s"
        )
        server = make_server(journal.history, port=0)
        server.start_in_thread()
        report = root / "report.html"
        report.write_text(report_html(journal.history, WIDE_RUN))
        report_bytes = report.stat().st_size
        base = server.url
        cases: dict[str, list[float]] = {k: [] for k in CASES}
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            for _ in range(args.repeat + 1):  # the first round warms up, not counted
                row = {
                    "baseline: /health": load_ms(page, base + "health"),
                    "run list, page 1": ready_ms(page, base),
                    "run list, page 150": ready_ms(page, base + "?page=150"),
                }
                ready, drawn = page_ms(page, base + f"runs/{WIDE_RUN}")
                row["run page, 1,000 nodes: interactive"] = ready
                row["run page, 1,000 nodes: graph drawn"] = drawn
                row["run page, 1,000 nodes: all groups expanded (from the click)"] = expand_all_ms(
                    page, args.nodes
                )
                row["run page, 1,000 nodes with long edges: graph drawn"] = page_ms(
                    page, base + f"runs/{FAR_RUN}"
                )[1]
                ready, drawn = page_ms(page, base + f"runs/{BIG_RUN}")
                row["run page, 5,000 nodes in 50 namespaces: interactive"] = ready
                row["run page, 5,000 nodes in 50 namespaces: graph drawn"] = drawn
                row["static report, 1,000 nodes: graph drawn"] = page_ms(page, report.as_uri())[1]
                row["server: run page, 1,000 nodes (Python)"] = server_ms(
                    server, f"/runs/{WIDE_RUN}"
                )
                row["server: run page, 5,000 nodes (Python)"] = server_ms(
                    server, f"/runs/{BIG_RUN}"
                )
                row["server: live state, one poll of the 1,000-node run (Python)"] = server_ms(
                    server, f"/api/runs/{WIDE_RUN}/live"
                )
                for key, value in row.items():
                    cases[key].append(value)
            for key in cases:
                cases[key] = cases[key][1:]
        server.shutdown()
        server.server_close()
    baseline = median(cases["baseline: /health"])
    rows = [
        [name, f"{median(values):.0f}", f"{median(values) / baseline:.1f}x"]
        for name, values in cases.items()
    ]
    print(table(["case", "ms (median)", "vs baseline"], rows))
    for name, limit in TARGETS.items():
        got = median(cases[name])
        verdict = "meets" if got <= limit else "misses"
        print(f"{name}: {got:.0f} ms, {verdict} the {limit:.0f} ms target")
    verdict = "meets" if report_bytes <= REPORT_LIMIT else "misses"
    print(f"report of the 1,000-node run: {report_bytes:,} bytes, {verdict} the 1.5 MB target")
    path = write_results(
        "bench_web",
        {
            "runs": args.runs,
            "nodes": args.nodes,
            "big": args.big,
            "repeat": args.repeat,
            "report_bytes": report_bytes,
            "median_ms": {k: median(v) for k, v in cases.items()},
            "samples_ms": cases,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
