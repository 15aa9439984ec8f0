"""The web page on a large journal: 10,000 runs in the list, a 1,000-node DAG.

Fills a SQLite journal through the Recorder API with RUNS runs (two pipelines, three
nodes each) and one run of a NODES-node pipeline (a pipeline snapshot and a node run per
node: 20 layers of 50 nodes, each reading two outputs of the layer above), serves it
with ``waldo serve``'s server in this process, and loads pages in headless Chromium
(Debian's, through Playwright). Times are measured by the browser itself
(``performance`` API, from the start of navigation):

- baseline: ``/health``, a page of three bytes, until its load event;
- run list, first page, a page deep in the list, filtered by pipeline: until load;
- run page of the 1,000-node run: until the first frame after the DAG, timeline and
  node table are drawn (``window.waldoReadyAt``), and the script's own drawing time;
- the same page as a static report opened from file://.

Also the server side alone (Python) for the big run: the whole page (queries, layout,
payload, HTML) and one poll of its live state (what the page asks every second).

    python benchmarks/bench_web.py [--runs 10000] [--nodes 1000] [--repeat 5]

Prints medians and ratios to the baseline; writes ``benchmarks/results/bench_web.json``.
Target: the 1,000-node run page drawn in under a second. Not part of the tests.
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
from waldo.journal import Journal, Recorder, RunInfo, resolve_settings
from waldo.web import make_server, report_html

TARGET_MS = 1000.0
BIG_RUN = "big-run"


def fill(root: Path, runs: int, nodes: int) -> Journal:
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
    width = 50
    spec = []
    for i in range(nodes):
        layer, pos = divmod(i, width)
        inputs = (
            [f"d{(layer - 1) * width + (pos + k) % width}" for k in (0, 7)] if layer else ["raw"]
        )
        spec.append(
            {"name": f"node_{i:04d}", "func": "m.f", "inputs": inputs, "outputs": [f"d{i}"]}
        )
    pipeline_hash = recorder.snapshot("pipelines", {"nodes": spec}, name="big")
    recorder.start_run(
        RunInfo(
            run_id=BIG_RUN, pipeline_names=["big"], project="bench", pipeline_hash=pipeline_hash
        )
    )
    start = time.time() - nodes * 0.01 - 1  # every node started in the past
    for i, node in enumerate(spec):
        recorder.node_started(BIG_RUN, node["name"], "m.f", start + i * 0.01)
        recorder.node_finished(
            BIG_RUN, node["name"], "success", start + i * 0.01, inputs={}, outputs={}
        )
    recorder.end_run(BIG_RUN, "success")
    recorder.flush()
    return Journal(settings)


def load_ms(page: Any, url: str) -> float:
    page.goto(url, wait_until="load")
    return float(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))


def drawn_ms(page: Any, url: str) -> tuple[float, float]:
    page.goto(url)
    page.wait_for_selector("body[data-drawn='1']")
    return float(page.evaluate("window.waldoReadyAt")), float(page.evaluate("window.waldoDrawMs"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="waldo-bench-web-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        journal = fill(root, args.runs, args.nodes)
        print(
            f"filled {args.runs:,} runs + a {args.nodes}-node run in "
            f"{time.perf_counter() - started:.1f} s"
        )
        server = make_server(journal.history, port=0)
        server.start_in_thread()
        report = root / "report.html"
        report.write_text(report_html(journal.history, BIG_RUN))
        base = server.url
        cases: dict[str, list[float]] = {
            k: []
            for k in (
                "baseline: /health",
                "run list, page 1",
                "run list, page 150",
                "run list, pipeline filter",
                "run page, 1000 nodes (drawn)",
                "  of which drawing (JS)",
                "static report, 1000 nodes (drawn)",
                "server: run page HTML (Python)",
                "server: live state JSON, one poll (Python)",
            )
        }
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for _ in range(args.repeat + 1):  # the first round warms up, not counted
                row = {
                    "baseline: /health": load_ms(page, base + "health"),
                    "run list, page 1": load_ms(page, base),
                    "run list, page 150": load_ms(page, base + "?page=150"),
                    "run list, pipeline filter": load_ms(page, base + "?pipeline=report"),
                }
                drawn, draw = drawn_ms(page, base + f"runs/{BIG_RUN}")
                row["run page, 1000 nodes (drawn)"] = drawn
                row["  of which drawing (JS)"] = draw
                row["static report, 1000 nodes (drawn)"] = drawn_ms(page, report.as_uri())[0]
                t = time.perf_counter()
                server.app.route(f"/runs/{BIG_RUN}", {})
                row["server: run page HTML (Python)"] = (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                server.app.route(f"/api/runs/{BIG_RUN}/live", {})
                row["server: live state JSON, one poll (Python)"] = (time.perf_counter() - t) * 1000
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
    big = median(cases["run page, 1000 nodes (drawn)"])
    verdict = "meets" if big < TARGET_MS else "misses"
    print(f"1,000-node run page drawn in {big:.0f} ms: {verdict} the {TARGET_MS:.0f} ms target")
    path = write_results(
        "bench_web",
        {
            "runs": args.runs,
            "nodes": args.nodes,
            "repeat": args.repeat,
            "median_ms": {k: median(v) for k, v in cases.items()},
            "samples_ms": cases,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
