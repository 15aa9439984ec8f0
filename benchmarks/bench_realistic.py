"""Waldo's cost on a pipeline that looks like use: pandas work, parquet and memory data.

Writes a Kedro project in a temporary folder: CHAINS chains of LENGTH nodes (200 by
default). Each chain starts from a generated frame of ROWS rows (numbers, categories,
dates); every further node does 5-50 ms of real pandas work on the previous node's
output (a group-by joined back, a rolling mean, a sort, string and date columns, a
pivot), in turn. Every other dataset is a parquet file in the catalog, the others are
Kedro's default MemoryDatasets.

Each measurement is a whole ``kedro run`` in a new process, timed from start to exit
(wall time) and by the CPU time the process used (``RUSAGE_CHILDREN``, user + system),
in two modes:

- ``on``: the plugin as installed, recording into the backend;
- ``off``: ``DISABLE_HOOKS_FOR_PLUGINS = ("waldo",)`` in ``settings.py``, Kedro's own
  way to leave a plugin's hooks out: the baseline.

After one warm-up of each mode, the rounds alternate ON and OFF, each round starting
with the other mode than the round before. The ratio is the median of the per-round
ratios ON/OFF (paired), with a 90 % bootstrap interval; the target (ON/OFF <= 1.03) is
met when the whole interval is under it.

    python benchmarks/bench_realistic.py [--chains 20] [--length 10] [--rows 20000]
                                         [--repeat 5] [--backends sqlite,postgresql]

Writes JSON to ``benchmarks/results/bench_realistic.json``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import fresh_pg_database, median, table, write_results

from waldo.kedro._project import kedro_env, write_project

TARGET = 1.03
MODES = ("on", "off")

NODES_PY = '''
"""Pandas work of 5-50 ms each on frames of about 20,000 rows."""
import numpy as np
import pandas as pd


def generate(seed: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "key": rng.integers(0, 500, rows),
            "group": pd.Categorical(rng.choice(list("abcdefgh"), rows)),
            "x": rng.normal(size=rows),
            "y": rng.normal(size=rows),
            "n": rng.integers(0, 1000, rows),
            "when": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 86400 * 365, rows), unit="s"),
        }
    )


def _tidy(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    """Back to the chain's columns and size, so that every step works alike."""
    keep = frame[["key", "group", "x", "y", "n", "when"]].head(rows)
    return keep.reset_index(drop=True)


def by_group(frame: pd.DataFrame) -> pd.DataFrame:
    stats = frame.groupby(["key", "group"], observed=True)[["x", "y"]].agg(
        ["mean", "std", "median", "min", "max"]
    )
    stats.columns = ["_".join(c) for c in stats.columns]
    joined = frame.merge(stats.reset_index(), on=["key", "group"], how="left")
    joined["x"] = (joined["x"] - joined["x_mean"]) / joined["x_std"].fillna(1.0).replace(0, 1.0)
    return _tidy(joined, len(frame))


def rolling(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.sort_values("when").copy()
    out["y"] = out["y"].rolling(50, min_periods=1).mean() + out["x"].ewm(span=20).mean()
    out["x"] = out["x"].rolling(200, min_periods=1).std().fillna(0.0)
    by_group = out.groupby("group", observed=True)["y"].rolling(30, min_periods=1).mean()
    out["y"] = out["y"] - by_group.reset_index(level=0, drop=True)
    out["n"] = out["n"].cumsum() % 1000
    return _tidy(out, len(frame))


def text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    labels = out["group"].astype(str) + "-" + out["key"].astype(str) + "-" + out["n"].astype(str)
    out["n"] = labels.str.upper().str.replace("-", "").str.len() + labels.str.count("1")
    out["x"] = out["x"].where(labels.str.contains("a"), -out["x"])
    return _tidy(out, len(frame))


def dates(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    month = out["when"].dt.strftime("%Y-%m")
    counts = out.groupby(month)["n"].transform("count")
    out["n"] = (counts + out["when"].dt.dayofweek) % 1000
    return _tidy(out, len(frame))


def pivot(frame: pd.DataFrame) -> pd.DataFrame:
    table = frame.pivot_table(
        index="key", columns="group", values="x", aggfunc=["sum", "mean"], observed=True
    )["sum"]
    ranks = table.rank(axis=1).stack().rename("r").reset_index()
    out = frame.merge(ranks, on=["key", "group"], how="left")
    out["y"] = out["y"] + out["r"].fillna(0)
    return _tidy(out, len(frame))


STEPS = [by_group, rolling, text, dates, pivot]
'''

REGISTRY_PY = """
from kedro.pipeline import Pipeline, node, pipeline

from realistic_proj.nodes import STEPS, generate

CHAINS, LENGTH = {chains}, {length}


def register_pipelines() -> dict[str, Pipeline]:
    nodes = []
    for c in range(CHAINS):
        seed = [f"params:seed_{{c}}", "params:rows"]
        nodes.append(node(generate, seed, f"c{{c}}_0", name=f"c{{c}}_0"))
        for i in range(1, LENGTH):
            step = STEPS[(c + i) % len(STEPS)]
            nodes.append(node(step, f"c{{c}}_{{i - 1}}", f"c{{c}}_{{i}}", name=f"c{{c}}_{{i}}"))
    return {{"__default__": pipeline(nodes)}}
"""

SETTINGS_PY = '''
"""Project settings: the benchmark turns the Waldo plugin off through Kedro itself."""
import os

if os.environ.get("BENCH_WALDO_OFF"):
    DISABLE_HOOKS_FOR_PLUGINS = ("waldo",)
'''


def make_project(root: Path, chains: int, length: int, rows: int) -> Path:
    catalog = "".join(
        f"c{c}_{i}:\n  type: pandas.ParquetDataset\n  filepath: data/c{c}_{i}.parquet\n"
        for c in range(chains)
        for i in range(length)
        if i % 2 == 1
    )
    params = f"rows: {rows}\n" + "".join(f"seed_{c}: {c}\n" for c in range(chains))
    write_project(
        root,
        "realistic_proj",
        nodes_py=NODES_PY,
        registry_py=REGISTRY_PY.format(chains=chains, length=length),
        catalog_yml=catalog,
        parameters_yml=params,
        settings_py=SETTINGS_PY,
    )
    (root / "data").mkdir(exist_ok=True)
    return root


def kedro_command() -> list[str]:
    script = Path(sys.executable).with_name("kedro")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kedro"]


def run_once(root: Path, mode: str, store_url: str) -> tuple[float, float]:
    """One ``kedro run`` in a new process: its wall and CPU seconds."""
    env = kedro_env()
    for name in ("BENCH_WALDO_OFF", "WALDO_DISABLE", "WALDO_RUN_CONTEXT"):
        env.pop(name, None)
    env["WALDO_DB_URL"] = store_url
    if mode == "off":
        env["BENCH_WALDO_OFF"] = "1"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [*kedro_command(), "run"], cwd=root, env=env, capture_output=True, text=True, timeout=900
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"kedro run failed ({mode}):\n{proc.stdout}\n{proc.stderr}")
    if "waldo:" in " ".join((proc.stdout + proc.stderr).split()):
        raise SystemExit(f"waldo warned ({mode}):\n{proc.stdout}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def paired(on: list[float], off: list[float], draws: int = 2000) -> tuple[float, float, float]:
    """Median of the per-round ratios and its 90 % bootstrap interval (fixed seed)."""
    ratios = [a / b for a, b in zip(on, off, strict=True)]
    rng = random.Random(0)
    medians = sorted(median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    return median(ratios), medians[int(0.05 * draws)], medians[int(0.95 * draws) - 1]


def bench_backend(root: Path, store_url: str, repeat: int) -> dict[str, Any]:
    times: dict[str, dict[str, list[float]]] = {m: {"wall": [], "cpu": []} for m in MODES}
    for mode in MODES:  # warm-up: tables, page cache, .pyc files
        run_once(root, mode, store_url)
    for round_ in range(repeat):
        order = MODES if round_ % 2 == 0 else MODES[::-1]
        for mode in order:
            wall, cpu = run_once(root, mode, store_url)
            times[mode]["wall"].append(wall)
            times[mode]["cpu"].append(cpu)
        print(
            f"  round {round_ + 1}: "
            + ", ".join(
                f"{m} {times[m]['wall'][-1]:.2f} s ({times[m]['cpu'][-1]:.2f} cpu)" for m in MODES
            ),
            flush=True,
        )
    return {
        "times": times,
        **{
            measure: paired(times["on"][measure], times["off"][measure])
            for measure in ("wall", "cpu")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=20)
    parser.add_argument("--length", type=int, default=10)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    nodes = args.chains * args.length
    results: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="waldo-bench-realistic-"))
    try:
        root = make_project(work / "project", args.chains, args.length, args.rows)
        for backend in args.backends.split(","):
            print(f"{backend}: {nodes} nodes, {args.repeat} rounds", flush=True)
            if backend == "sqlite":
                results[backend] = bench_backend(root, f"sqlite:///{work / 'j.db'}", args.repeat)
            else:
                with fresh_pg_database("waldo_bench_realistic") as url:
                    results[backend] = bench_backend(root, url, args.repeat)
            shutil.rmtree(root / ".waldo", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = []
    for backend, r in results.items():
        for measure in ("wall", "cpu"):
            ratio, low, high = r[measure]
            met = "yes" if high <= TARGET else "NO" if low > TARGET else "undecided"
            rows.append(
                (
                    f"{backend}, {measure}",
                    f"{median(r['times']['off'][measure]):.2f}",
                    f"{median(r['times']['on'][measure]):.2f}",
                    f"{ratio:.3f}",
                    f"{low:.3f}-{high:.3f}",
                    met,
                )
            )
    print(f"\n{nodes} nodes, {args.rows} rows, median seconds of {args.repeat} rounds")
    headers = ("backend, time", "off", "on", "paired", "90 % interval", f"<= {TARGET}")
    print(table(headers, rows))
    path = write_results(
        "bench_realistic", {"args": vars(args), "cpus": os.cpu_count(), "results": results}
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
