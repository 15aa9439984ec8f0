"""Incremental run vs full run: a 100-node Kedro pipeline with one changed leaf.

Writes a Kedro project by hand in a temporary folder: NODES nodes in a chain, each with
its own function in ``nodes.py`` (so editing one function changes one node) doing a
little real work: read the previous node's CSV (``pandas.CSVDataset``, 1,000 rows, so
every output persists), a pandas operation, and ``time.sleep(WORK)`` (default 20 ms) to
stand for the node's own computation. Node 0 reads ``data/01_raw/raw.csv``.

Each round edits the *last* node's function (a new constant in its logic, so its code
fingerprint changes) before every measured run, then measures, interleaved:

- **full** (the baseline): ``kedro run``: the Waldo plugin on, recording into the
  project's SQLite journal, Kedro's ``SequentialRunner``; every node runs;
- **incremental**: ``kedro run --runner=waldo.kedro.IncrementalRunner``: same project
  state (all outputs present, journal filled by the previous runs, one node edited);
  the runner plans (fingerprints code, parameters and input files of all nodes) and
  runs only the edited leaf.

Each is measured two ways: the wall time of the whole ``kedro run`` subprocess
(interpreter start-up and imports included), and the in-process ``session.run()``
time of a small driver (``bootstrap_project`` + ``KedroSession.create()``, as in
``bench_plugin_overhead.py``; INFO logging off in the driver only). After every run the
journal is checked: a full run has NODES successful nodes, an incremental run 1
successful and NODES - 1 skipped.

    python benchmarks/bench_incremental.py [--nodes 100] [--work 0.02] [--repeat 3]

Prints median seconds and the ratio incremental / full (target: <= 0.10 for the run,
``session.run()``; the whole command's ratio is printed with the process start-up it
includes, the same fixed cost in both modes); writes
``benchmarks/results/bench_incremental.json``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import median, table, write_results

from waldo.kedro._project import kedro_env, write_project

TARGET = 0.10
RUNNER = "waldo.kedro.IncrementalRunner"
MODES = ("cli_full", "cli_incremental", "driver_full", "driver_incremental")

NODE_FUNC = '''
def step_{i}(df):
    """Node {i}: a little pandas work, and a sleep standing for the rest."""
    time.sleep(WORK)
    out = df.assign(x=df["x"] * 1.0001 + {k}, y=df["y"].rolling(5, min_periods=1).mean())
    return out
'''

REGISTRY_PY = """
from kedro.pipeline import Pipeline, node, pipeline

from incr_proj import nodes

NODES = {nodes}


def register_pipelines() -> dict[str, Pipeline]:
    chain = [node(nodes.step_0, "raw", "d0", name="n0")]
    chain += [
        node(getattr(nodes, f"step_{{i}}"), f"d{{i - 1}}", f"d{{i}}", name=f"n{{i}}")
        for i in range(1, NODES)
    ]
    return {{"__default__": pipeline(chain)}}
"""

CATALOG_ENTRY = """
{name}:
  type: pandas.CSVDataset
  filepath: data/{folder}/{name}.csv
"""


def catalog_yml(nodes: int) -> str:
    # One entry per dataset, as in a real project (a catch-all "{name}" pattern would
    # make Kedro log one warning per dataset, in both modes).
    entries = [CATALOG_ENTRY.format(name="raw", folder="01_raw")]
    entries += [CATALOG_ENTRY.format(name=f"d{i}", folder="02_intermediate") for i in range(nodes)]
    return "".join(entries)


DRIVER = """
import json, logging, sys, time
from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

logging.disable(logging.INFO)
root = Path(sys.argv[1])
incremental = sys.argv[2] == "incremental"
bootstrap_project(root)
with KedroSession.create(project_path=root) as session:
    runner = None
    if incremental:
        from waldo.kedro import IncrementalRunner

        runner = IncrementalRunner()
    start = time.perf_counter()
    session.run(runner=runner)
    elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed}))
"""


def nodes_py(nodes: int, work: float, edit: int) -> str:
    funcs = [NODE_FUNC.format(i=i, k=0) for i in range(nodes - 1)]
    funcs.append(NODE_FUNC.format(i=nodes - 1, k=edit))  # only the last node changes
    return f"import time\n\nimport pandas as pd  # noqa: F401\n\nWORK = {work!r}\n" + "".join(funcs)


def make_project(root: Path, nodes: int, work: float) -> Path:
    rows = "\n".join(f"{i},{i * 0.5}" for i in range(1000))
    write_project(
        root,
        "incr_proj",
        nodes_py=nodes_py(nodes, work, 0),
        registry_py=REGISTRY_PY.format(nodes=nodes),
        catalog_yml=catalog_yml(nodes),
        local_files={"data/01_raw/raw.csv": f"x,y\n{rows}\n"},
    )
    (root / "driver.py").write_text(DRIVER)
    return root


def edit_last_node(root: Path, nodes: int, work: float, edit: int) -> None:
    (root / "src" / "incr_proj" / "nodes.py").write_text(nodes_py(nodes, work, edit))


def last_run(root: Path) -> dict[str, int]:
    db = sqlite3.connect(root / ".waldo" / "waldo.db")
    try:
        run_id, status = db.execute(
            "SELECT run_id, status FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        assert status == "success", (run_id, status)
        return dict(
            db.execute(
                "SELECT status, count(*) FROM node_runs WHERE run_id = ? GROUP BY status",
                (run_id,),
            ).fetchall()
        )
    finally:
        db.close()


def run_once(root: Path, mode: str) -> float:
    env = kedro_env()
    for name in ("WALDO_DB_URL", "WALDO_DISABLE", "WALDO_RUN_CONTEXT"):
        env.pop(name, None)
    incremental = mode.endswith("incremental")
    if mode.startswith("cli"):
        command = [sys.executable, "-m", "kedro", "run"]
        if incremental:
            command.append(f"--runner={RUNNER}")
    else:
        command = [sys.executable, str(root / "driver.py"), str(root), mode.split("_")[1]]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stdout}\n{proc.stderr}")
    if "waldo:" in proc.stderr and "WARNING" in proc.stderr:
        raise SystemExit(f"waldo warned ({mode}):\n{proc.stderr}")
    if mode == "cli_incremental":
        assert "1 of" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return (
        wall
        if mode.startswith("cli")
        else float(json.loads(proc.stdout.splitlines()[-1])["seconds"])
    )


def check(root: Path, mode: str, nodes: int) -> None:
    counts = last_run(root)
    if mode.endswith("incremental"):
        expected = {"success": 1, "skipped": nodes - 1}
    else:
        expected = {"success": nodes}
    assert counts == expected, (mode, counts, expected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--work", type=float, default=0.02, help="seconds of sleep per node")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    work = Path(tempfile.mkdtemp(prefix="waldo-bench-incremental-"))
    edit = 0
    try:
        root = make_project(work / "project", args.nodes, args.work)
        for round_ in range(args.repeat + 1):  # round 0 is a warm-up (first run: journal)
            for mode in MODES:
                edit += 1
                edit_last_node(root, args.nodes, args.work, edit)
                seconds = run_once(root, mode)
                check(root, mode, args.nodes)
                if round_:
                    times[mode].append(seconds)
            if round_:
                print(
                    f"  round {round_}: "
                    + ", ".join(f"{mode} {times[mode][-1]:.3f} s" for mode in MODES),
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    medians = {mode: median(values) for mode, values in times.items()}
    ratios = {
        "cli": medians["cli_incremental"] / medians["cli_full"],
        "driver": medians["driver_incremental"] / medians["driver_full"],
    }
    labels = {
        "cli": "`kedro run` subprocess wall time",
        "driver": "in-process session.run()",
    }
    # The target is about the run; a `kedro run` process also starts Python, imports
    # Kedro, pandas and Waldo and bootstraps the project before the run begins, the
    # same in both modes: shown for reference, with that start-up measured.
    startup = median(
        [
            cli - driver
            for kind in ("full", "incremental")
            for cli, driver in zip(times[f"cli_{kind}"], times[f"driver_{kind}"], strict=True)
        ]
    )
    rows: list[tuple[str, ...]] = []
    for key, label in labels.items():
        full, incr = medians[f"{key}_full"], medians[f"{key}_incremental"]
        verdict = f"<= {TARGET:g}: {'yes' if ratios[key] <= TARGET else 'NO'}"
        if key == "cli":
            verdict += f" (with {startup:.1f} s of start-up)"
        rows.append((f"{label}: full run ({args.nodes} nodes)", f"{full:.3f}", "1.000", ""))
        rows.append(
            (f"{label}: incremental (1 node)", f"{incr:.3f}", f"{ratios[key]:.3f}", verdict)
        )
    print(
        f"\n{args.nodes} nodes ({args.work * 1000:g} ms of work each), one leaf edited, "
        f"median of {args.repeat} interleaved rounds"
    )
    print(table(("case", "seconds", "vs full", "target"), rows))
    name = "bench_incremental"
    if args.work != parser.get_default("work"):
        name += f"_work{args.work * 1000:g}ms"
    path = write_results(
        name,
        {
            "args": vars(args),
            "times": times,
            "medians": medians,
            "ratios": ratios,
            "startup_seconds": startup,
            "target": TARGET,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
