"""The Kedro plugin's overhead counted, not timed: instructions and cache misses.

Wall-clock ratios on a shared two-CPU VM move by one to two percent from one run of
``bench_plugin_overhead.py`` to the next, as much as most changes to the hooks. This
script runs the same 1,000-node project once per mode under Valgrind's cachegrind
(simulated L1 caches, one thread at a time) and prints what the pipeline's process
executed: instructions, L1 data and instruction misses, and a cycle estimate
(instructions / 2.4 + 14 per L1 miss, the figures that matched the wall-clock
overhead on this VM). A count moves by 10 to 30 million instructions between two
runs of the same code, so compare versions in the same invocation (``--baseline-src``)
and trust differences of 50 million or more.

One distortion: the run takes about 25 times longer under Valgrind, so the journal
writer's half-second timer fires about 80 times instead of three, and each wake-up
costs a little (a heartbeat check, the live rows of running nodes, a small batch).
``on`` is counted somewhat higher than it runs.

What it does not see: anything outside the pipeline's process (the writer's helper and
the database server run natively, untraced), and what their CPU costs the pipeline on
a machine where both CPUs share a core. Use ``bench_plugin_overhead.py`` for that.

    python benchmarks/count_plugin_overhead.py [--nodes 1000] [--modes off,on]
                                               [--baseline-src DIR]

``OPENBLAS_NUM_THREADS=1`` is set in every mode: numpy's OpenBLAS otherwise starts a
thread that spins for about 100 ms after import, and cachegrind counts its
instructions with the pipeline's. Needs ``valgrind`` (about three minutes a mode).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _common import table, write_results
from bench_plugin_overhead import make_project, mode_env

COUNTERS = {"instructions": "I   refs", "d1_misses": "D1  misses", "i1_misses": "I1  misses"}


def count_once(root: Path, mode: str, store_url: str, baseline_src: str | None) -> dict[str, int]:
    env = {**mode_env(mode, store_url, baseline_src), "OPENBLAS_NUM_THREADS": "1"}
    log = root.parent / f"cachegrind-{mode}.log"
    proc = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=yes",
            f"--log-file={log}",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            str(root / "driver.py"),
            str(root),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode != 0:
        raise SystemExit(f"driver failed under valgrind ({mode}):\n{proc.stderr[-2000:]}")
    text = log.read_text()
    counts: dict[str, int] = {}
    for key, label in COUNTERS.items():
        found = re.search(rf"{re.escape(label)}:\s+([\d,]+)", text)
        if found is None:
            raise SystemExit(f"no '{label}' in {log}")
        counts[key] = int(found.group(1).replace(",", ""))
    return counts


def cycles(counts: dict[str, int]) -> float:
    return counts["instructions"] / 2.4 + 14 * (counts["d1_misses"] + counts["i1_misses"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--modes", default="off,waldo_disable,on")
    parser.add_argument("--baseline-src", default=None, help="adds the mode on_baseline")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    modes = [m for m in args.modes.split(",") if m]
    if args.baseline_src:
        modes.append("on_baseline")
    if "off" not in modes:
        modes.insert(0, "off")

    work = Path(tempfile.mkdtemp(prefix="waldo-count-overhead-"))
    try:
        root = make_project(work / "project", args.nodes)
        url = f"sqlite:///{work / 'journal.db'}"
        # A first recording run creates the tables, so that no mode counts a migration.
        subprocess.run(
            [sys.executable, str(root / "driver.py"), str(root)],
            cwd=root,
            env=mode_env("on", url),
            capture_output=True,
            check=True,
        )
        with ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 1))) as pool:
            futures = {m: pool.submit(count_once, root, m, url, args.baseline_src) for m in modes}
            counts = {mode: future.result() for mode, future in futures.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    off = counts["off"]
    rows = []
    for mode, c in counts.items():
        rows.append(
            (
                mode,
                f"{c['instructions'] / 1e6:,.0f}",
                f"{(c['instructions'] - off['instructions']) / 1e6:+,.0f}",
                f"{(c['d1_misses'] - off['d1_misses']) / 1e6:+.2f}",
                f"{(c['i1_misses'] - off['i1_misses']) / 1e6:+.2f}",
                f"{(cycles(c) - cycles(off)) / 2.6e6:+.1f}",
                f"{cycles(c) / cycles(off):.4f}",
            )
        )
    print(f"\n{args.nodes} nodes, whole driver process under cachegrind (millions)")
    headers = ("mode", "instructions", "vs off", "D1 misses vs off", "I1 misses vs off")
    print(table((*headers, "est. ms vs off at 2.6 GHz", "est. cycles / off"), rows))
    print("(the cycle ratio is of the whole process, start-up included: not the run's ratio)")
    results: dict[str, Any] = {"args": vars(args), "counts": counts}
    print(f"results: {write_results('count_plugin_overhead', results)}")


if __name__ == "__main__":
    main()
