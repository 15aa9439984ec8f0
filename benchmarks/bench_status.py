"""``waldo status`` against ``kedro registry list`` on a 500-node Kedro project.

Writes a Kedro project by hand in a temporary folder: NODES nodes in a chain, each its
own function in ``nodes.py`` (which imports pandas, as a project of pandas datasets
does), reading the previous node's CSV (``pandas.CSVDataset``,
one entry per dataset written out in ``catalog.yml``, so every output persists) and
``params:factor``. One ``kedro run`` fills the journal (SQLite in the project, or a
fresh PostgreSQL database with ``--backends postgresql``), so that ``waldo status``
has a last run for every node to compare with, and finds them all up to date.

Timed, as a user types them in the project folder, each a fresh process, wall time:

- **baseline**: ``kedro registry list``: Kedro's start-up (its command line and plugins,
  Waldo's ``kedro waldo`` commands among them), the project's bootstrap and its
  pipeline registry (importing the nodes, building the 500-node pipeline);
- **status**: ``waldo status``: the same bootstrap and registry, plus reading the
  configuration and building the catalog as ``kedro run`` does, the journal query, the
  code, parameter and file fingerprints of every node (stat cache warm, as on any
  second call) and the decision.

Rounds alternate which command goes first, after one warm-up of each. Prints median
seconds and the median of the per-round ratios (*paired*) with a 90 % bootstrap
interval of it, for the wall time and, steadier on a shared machine, for the CPU time
of each process (user + system, from ``getrusage``); the target (status / baseline
<= 1.3, wall time) is met when all of the interval is under it.

    python benchmarks/bench_status.py [--nodes 500] [--repeat 15] [--backends sqlite]

Writes ``benchmarks/results/bench_status.json``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _common import fresh_pg_database, median, table, write_results

from waldo.kedro._project import kedro_env, write_project

TARGET = 1.3
COMMANDS = {
    "baseline": [sys.executable, "-m", "kedro", "registry", "list"],
    "status": [sys.executable, "-m", "waldo.cli", "status"],
}

NODE_FUNC = """
def step_{i}(df: pd.DataFrame, factor: float) -> pd.DataFrame:
    out = df.copy()
    out["value"] = out["value"] * factor + {i}
    return out
"""

REGISTRY_PY = """
from kedro.pipeline import Pipeline, node, pipeline

from status_proj import nodes


def register_pipelines() -> dict[str, Pipeline]:
    chain = [
        node(getattr(nodes, f"step_{{i}}"), ["seed" if i == 0 else f"d{{i - 1}}", "params:factor"],
             f"d{{i}}", name=f"n{{i}}")
        for i in range({nodes})
    ]
    return {{"__default__": pipeline(chain)}}
"""


def make_project(root: Path, nodes: int, store_url: str | None) -> Path:
    funcs = "".join(NODE_FUNC.format(i=i) for i in range(nodes))
    catalog = "seed: {type: pandas.CSVDataset, filepath: data/seed.csv}\n" + "".join(
        f"d{i}: {{type: pandas.CSVDataset, filepath: data/d{i}.csv}}\n" for i in range(nodes)
    )
    files = {"data/seed.csv": "id,value\n1,1.0\n2,2.0\n"}
    if store_url:
        files["conf/base/waldo.yml"] = f"store: {store_url}\n"
    return write_project(
        root,
        "status_proj",
        nodes_py=f'"""{nodes} nodes."""\n\nimport pandas as pd\n' + funcs,
        registry_py=REGISTRY_PY.format(nodes=nodes),
        catalog_yml=catalog,
        parameters_yml="factor: 1.0\n",
        local_files=files,
    )


def timed(command: list[str], root: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process, its stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=root, env=kedro_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[1:])} failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, done.stdout


def paired_interval(ratios: list[float], draws: int = 2000) -> tuple[float, float]:
    """A 90 % bootstrap interval of the median per-round ratio (fixed seed)."""
    rng = random.Random(0)
    medians = sorted(median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    return medians[int(0.05 * draws)], medians[int(0.95 * draws) - 1]


def verdict(low: float, high: float) -> str:
    if high <= TARGET:
        return "yes"
    return "NO" if low > TARGET else "undecided: more rounds"


@contextlib.contextmanager
def journal(backend: str, work: Path) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None  # the project's own .waldo/waldo.db
        return
    with fresh_pg_database("waldo_bench_status") as url:
        yield url


def bench_backend(backend: str, nodes: int, repeat: int, work: Path) -> dict[str, list[float]]:
    with journal(backend, work) as url:
        root = make_project(work / backend / "status_proj", nodes, url)
        subprocess.run(
            [sys.executable, "-m", "kedro", "run"],
            cwd=root,
            env=kedro_env(),
            capture_output=True,
            check=True,
        )
        *_, said = timed(COMMANDS["status"], root)  # warm-up: the stat cache is written
        assert f"all {nodes} nodes up to date" in said, said
        timed(COMMANDS["baseline"], root)
        times: dict[str, list[float]] = {f"{n}{k}": [] for n in COMMANDS for k in ("", "_cpu")}
        for round_ in range(repeat):
            order = list(COMMANDS) if round_ % 2 == 0 else list(reversed(COMMANDS))
            for name in order:
                wall, cpu, _ = timed(COMMANDS[name], root)
                times[name].append(wall)
                times[f"{name}_cpu"].append(cpu)
            ratio = times["status"][-1] / times["baseline"][-1]
            print(
                f"  {backend} round {round_ + 1}: baseline {times['baseline'][-1]:.2f} s, "
                f"status {times['status'][-1]:.2f} s, ratio {ratio:.2f}",
                flush=True,
            )
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="waldo-bench-status-"))
    results: dict[str, dict[str, list[float]]] = {}
    rows = []
    try:
        for backend in args.backends.split(","):
            times = results[backend] = bench_backend(backend, args.nodes, args.repeat, work)
            for kind in ("", "_cpu"):
                base, status = times[f"baseline{kind}"], times[f"status{kind}"]
                ratios = [s / b for s, b in zip(status, base, strict=True)]
                low, high = paired_interval(ratios)
                what = "CPU" if kind else "wall"
                rows.append(
                    (f"{backend}, {what}: kedro registry list", f"{median(base):.2f}", "", "")
                )
                rows.append(
                    (
                        f"{backend}, {what}: waldo status",
                        f"{median(status):.2f}",
                        f"{median(ratios):.2f} ({low:.2f}-{high:.2f})",
                        f"<= {TARGET}: {verdict(low, high)}" if not kind else "",
                    )
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.nodes} nodes, median of {args.repeat} interleaved rounds")
    print(table(("command", "seconds", "paired ratio (90 %)", "target"), rows))
    path = write_results("bench_status", {"args": vars(args), "times": results, "target": TARGET})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
