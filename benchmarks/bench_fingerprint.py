"""Fingerprint speed: data (a numeric DataFrame of >= 500 MB) and code (500 nodes).

``data`` (the default) builds a DataFrame of COLUMNS float64 columns x ROWS rows
(default 8 x 8,000,000: 512 MB of values, random numbers so no hash can take a
shortcut) and times, in the same process and interleaved round by round:

- ``waldo.fingerprint.data_fingerprint(df)``: xxh3-128 over each column's buffer, plus
  column names, dtypes, shape and the index;
- ``pandas.util.hash_pandas_object(df)``: pandas' own row hashing (one uint64 per row,
  index included), the usual way to "hash a DataFrame";
- ``hashlib.md5`` over the same bytes: the raw column buffers (``df[c].to_numpy()``),
  fed one column after the other.

    python benchmarks/bench_fingerprint.py [data] [--rows 8000000] [--columns 8] [--repeat 5]

Prints median GB/s (of the 8-byte values, GB = 10**9 bytes) and the ratio to each
baseline (target: Waldo >= 5 GB/s); writes ``benchmarks/results/bench_fingerprint.json``.

``code`` writes a Kedro project of NODES nodes (default 500) in ten modules, each node
calling two of forty helpers that read module-level constants (a dict, a regex), and
records one ``kedro run``; then, interleaved round by round, it times the commands a
user runs on it, as subprocesses: ``kedro registry list`` (the baseline: Kedro loading
the project and its pipelines) and ``waldo status`` (the same, plus every node's code
fingerprint, the journal's last runs and the input files), and in a driver process the
code fingerprints of all nodes alone, with no stat cache (a first ``waldo status``) and
with the stat cache the previous pass left (every later one).

    python benchmarks/bench_fingerprint.py code [--nodes 500] [--repeat 5]

Prints median seconds and ``waldo status`` / ``kedro registry list`` (target <= 1.3);
writes ``benchmarks/results/bench_fingerprint_code.json``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import median, table, write_results

from waldo.fingerprint import data_fingerprint
from waldo.kedro._project import kedro_env, write_project

TARGET_GBPS = 5.0
TARGET_STATUS_RATIO = 1.3


def make_frame(rows: int, columns: int) -> pd.DataFrame:
    rng = np.random.default_rng(20261123)
    return pd.DataFrame({f"c{i}": rng.random(rows) for i in range(columns)})


def waldo_case(df: pd.DataFrame) -> Any:
    fingerprint = data_fingerprint(df)
    assert fingerprint.known, fingerprint
    return fingerprint.digest


def pandas_case(df: pd.DataFrame) -> Any:
    return pd.util.hash_pandas_object(df)


def md5_case(df: pd.DataFrame) -> Any:
    h = hashlib.md5()
    for name in df.columns:
        h.update(memoryview(np.ascontiguousarray(df[name].to_numpy())).cast("B"))
    return h.hexdigest()


CASES: dict[str, tuple[str, Callable[[pd.DataFrame], Any]]] = {
    "waldo": ("waldo data_fingerprint (xxh3-128)", waldo_case),
    "pandas": ("pandas.util.hash_pandas_object", pandas_case),
    "md5": ("hashlib.md5 over the column buffers", md5_case),
}


def data_main(args: argparse.Namespace) -> None:
    df = make_frame(args.rows, args.columns)
    nbytes = sum(df[c].to_numpy().nbytes for c in df.columns)
    print(f"DataFrame {args.columns} x {args.rows:,} float64: {nbytes / 1e6:,.0f} MB", flush=True)

    # Same data, same digest: a copy (new buffers) must fingerprint equally.
    first = waldo_case(df)
    assert waldo_case(df.copy()) == first, "equal data gave different fingerprints"
    for _, func in CASES.values():  # warm-up: imports, page faults
        func(df)

    times: dict[str, list[float]] = {key: [] for key in CASES}
    for round_ in range(args.repeat):
        for key, (_, func) in CASES.items():
            start = time.perf_counter()
            func(df)
            times[key].append(time.perf_counter() - start)
        print(
            f"  round {round_ + 1}: " + ", ".join(f"{key} {times[key][-1]:.3f} s" for key in CASES),
            flush=True,
        )

    medians = {key: median(values) for key, values in times.items()}
    gbps = {key: nbytes / seconds / 1e9 for key, seconds in medians.items()}
    rows = []
    for key, (label, _) in CASES.items():
        verdict = ""
        if key == "waldo":
            verdict = f">= {TARGET_GBPS:g} GB/s: {'yes' if gbps[key] >= TARGET_GBPS else 'NO'}"
        rows.append(
            (
                label,
                f"{medians[key]:.3f}",
                f"{gbps[key]:.2f}",
                f"{gbps['waldo'] / gbps[key]:.1f}x",
                verdict,
            )
        )
    print(f"\n{nbytes / 1e6:,.0f} MB, median of {args.repeat} interleaved rounds")
    print(table(("case", "seconds", "GB/s", "waldo is", "target"), rows))
    path = write_results(
        "bench_fingerprint",
        {
            "args": vars(args),
            "bytes": nbytes,
            "times": times,
            "medians": medians,
            "gbps": gbps,
            "target_gbps": TARGET_GBPS,
            "waldo_digest": first,
        },
    )
    print(f"results: {path}")


# -- code: waldo status on a 500-node project -----------------------------------------
HELPERS = """
import re

LIMITS = {"low": 1, "high": [5, 9], "names": ["a", "b", "c"]}
PATTERN = re.compile(r"[0-9]+")
LABEL = "v"
"""

HELPER = """

def helper_{i}(df):
    out = df.assign({label}=df["v"] * {i} + LIMITS["low"])
    return out if len(out) < LIMITS["high"][1] * 1000 else helper_{j}(out)
"""

NODE = """

def node_{k}(df, factor={k}):
    \"\"\"Node {k}.\"\"\"
    out = helpers.helper_{a}(df)
    out["s"] = [PATTERN.sub(LABEL, str(v)) for v in out["v"]]
    return helper_{b}(out).assign(f=factor)
"""

REGISTRY = """
from kedro.pipeline import Pipeline, node, pipeline

from fp_proj import {modules}


def register_pipelines() -> dict[str, Pipeline]:
    nodes = []
    for module in [{modules}]:
        for name in sorted(n for n in vars(module) if n.startswith("node_")):
            nodes.append(node(getattr(module, name), "raw", f"out_{{name}}", name=name))
    return {{"__default__": pipeline(nodes)}}
"""

DRIVER = """
import json, logging, os, sys, time
from pathlib import Path

logging.disable(logging.WARNING)
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project

from waldo.fingerprint import CodeFingerprinter, StatCache

root, cache_path = Path(sys.argv[1]), sys.argv[2]
bootstrap_project(root)
funcs = [n.func for n in pipelines["__default__"].nodes]
start = time.perf_counter()
with StatCache(cache_path) as cache:
    coder = CodeFingerprinter(["fp_proj"], cache=cache)
    digests = [coder.manifest(f).digest for f in funcs]
print(json.dumps({"seconds": time.perf_counter() - start, "nodes": len(digests)}))
"""


def code_project(root: Path, nodes: int) -> Path:
    helpers = HELPERS + "".join(
        HELPER.format(i=i, j=(i + 1) % 40, label=f"h{i}") for i in range(40)
    )
    modules = [f"nodes_{m}" for m in range(10)]
    sources = {"src/fp_proj/helpers.py": helpers, "driver.py": DRIVER}
    for m, module in enumerate(modules):
        body = "from fp_proj import helpers\nfrom fp_proj.helpers import *  # noqa: F403\n"
        for k in range(m, nodes, len(modules)):
            body += NODE.format(k=k, a=k % 40, b=(k * 7) % 40)
        sources[f"src/fp_proj/{module}.py"] = body
    write_project(
        root,
        "fp_proj",
        nodes_py="",
        registry_py=REGISTRY.format(modules=", ".join(modules)),
        catalog_yml="raw: {type: pandas.CSVDataset, filepath: data/raw.csv}\n",
        local_files={"data/raw.csv": "v\n1\n2\n3\n", **sources},
    )
    old = time.time() - 3600  # sources written just now are "racy": not cached
    for path in (root / "src").rglob("*.py"):
        os.utime(path, (old, old))
    return root


def timed(command: list[str], root: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        command, cwd=root, env=kedro_env(), capture_output=True, text=True, timeout=900
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{command} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds, proc.stdout


def code_round(root: Path, nodes: int) -> dict[str, float]:
    registry, _ = timed([sys.executable, "-m", "kedro", "registry", "list"], root)
    status_cmd = [sys.executable, "-m", "waldo.cli", "status", "--format", "json"]
    status, out = timed(status_cmd, root)
    assert json.loads(out)["to_run"] == 0, out[:2000]
    cold_cache = root / ".waldo" / "cold-statcache.db"
    cold_cache.unlink(missing_ok=True)
    driver = [sys.executable, str(root / "driver.py"), str(root)]
    cold = json.loads(timed([*driver, str(cold_cache)], root)[1])
    warm = json.loads(timed([*driver, str(cold_cache)], root)[1])
    assert cold["nodes"] == warm["nodes"] == nodes
    return {
        "registry": registry,
        "status": status,
        "code_cold": cold["seconds"],
        "code_warm": warm["seconds"],
    }


CODE_CASES = {
    "registry": "`kedro registry list` (baseline)",
    "status": "`waldo status`",
    "code_cold": "code fingerprints of all nodes, no stat cache",
    "code_warm": "code fingerprints of all nodes, stat cache warm",
}


def code_main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench_code_"))
    try:
        root = code_project(folder / "fp_proj", args.nodes)
        timed([sys.executable, "-m", "kedro", "run"], root)  # record every node once
        times: dict[str, list[float]] = {key: [] for key in CODE_CASES}
        for round_ in range(args.repeat):
            for key, seconds in code_round(root, args.nodes).items():
                times[key].append(seconds)
            print(
                f"  round {round_ + 1}: "
                + ", ".join(f"{key} {times[key][-1]:.3f} s" for key in CODE_CASES),
                flush=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    medians = {key: median(values) for key, values in times.items()}
    ratio = medians["status"] / medians["registry"]
    rows = [
        (label, f"{medians[key]:.3f}", f"{medians[key] / medians['registry']:.2f}")
        for key, label in CODE_CASES.items()
    ]
    print(f"\n{args.nodes} nodes, median of {args.repeat} interleaved rounds")
    print(table(("case", "seconds", "/ registry list"), rows))
    verdict = "yes" if ratio <= TARGET_STATUS_RATIO else "NO"
    print(f"waldo status / kedro registry list = {ratio:.2f} (<= {TARGET_STATUS_RATIO}: {verdict})")
    path = write_results(
        "bench_fingerprint_code",
        {"args": vars(args), "times": times, "medians": medians, "status_ratio": ratio},
    )
    print(f"results: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=("data", "code"), default="data")
    parser.add_argument("--rows", type=int, default=8_000_000)
    parser.add_argument("--columns", type=int, default=8)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.what == "code":
        code_main(args)
    else:
        data_main(args)


if __name__ == "__main__":
    main()
