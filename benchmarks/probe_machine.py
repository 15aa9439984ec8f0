"""How far this machine can be trusted for a few-percent wall-clock comparison.

``bench_plugin_overhead.py`` compares runs of about three seconds. Two things decide
what such a comparison can tell on a VM, and this script measures both in about a
minute:

- **drift**: the same fixed pure-Python loop (about 0.1 s), timed again and again on
  one CPU. On a quiet machine its spread is a percent or two; on a shared host it can
  swing between two speeds (seen here: 0.10 s and 0.20 s in consecutive runs), and
  only many interleaved rounds average that out.
- **interference**: the loop's time while the other CPU works, over its time while
  the other CPU sleeps, the two measured a few milliseconds apart (so both see the
  same host speed), 300 pairs each for a spinning Python loop and for SQLite inserts
  (what a journal writer does). If the CPUs share a core, or caches, a ratio above 1
  is what every millisecond of work on the other CPU costs the pipeline.

    python benchmarks/probe_machine.py [--pairs 300]

Needs two CPUs (Linux: it pins itself to CPU 0 and the worker to CPU 1). Writes JSON to
``benchmarks/results/probe_machine.json``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import table, write_results

IDLE, BUSY, STOP = 0, 1, 2


def python_loop(iterations: int) -> float:
    """Seconds for a fixed dictionary-heavy loop (what an interpreter mostly does)."""
    start = time.perf_counter()
    d: dict[int, int] = {}
    for i in range(iterations):
        d[i % 100] = i
    return time.perf_counter() - start


def worker(flag: Any, kind: str, db_path: str) -> None:
    """On CPU 1: work while ``flag`` is BUSY, sleep half a millisecond while IDLE."""
    os.sched_setaffinity(0, {1})
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)")
    db.execute("CREATE INDEX IF NOT EXISTS ix_t_a ON t (a)")
    while (state := flag.value) != STOP:
        if state == IDLE:
            time.sleep(0.0005)
        elif kind == "spin":
            python_loop(20_000)
        else:
            rows = [(str(random.random()), "x" * 40) for _ in range(300)]
            db.executemany("INSERT INTO t (a, b) VALUES (?, ?)", rows)
            db.commit()
    db.close()


def interference(kind: str, pairs: int, db_path: str) -> list[float]:
    """Busy-over-idle ratios of the loop on CPU 0, each pair measured back to back."""
    flag = mp.Value("i", IDLE, lock=False)
    process = mp.Process(target=worker, args=(flag, kind, db_path))
    process.start()
    time.sleep(0.5)
    ratios = []
    try:
        for _ in range(pairs):
            flag.value = BUSY
            time.sleep(0.003)
            busy = python_loop(60_000)
            flag.value = IDLE
            time.sleep(0.003)
            ratios.append(busy / python_loop(60_000))
    finally:
        flag.value = STOP
        process.join()
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    args = parser.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("needs two CPUs: it pins the loop to CPU 0 and a worker to CPU 1")
    os.sched_setaffinity(0, {0})

    drift = [python_loop(1_500_000) for _ in range(30)]
    results: dict[str, Any] = {"drift_seconds": drift}
    rows = [
        (
            "drift: the same 1.5 M-iteration loop, 30 times",
            f"{min(drift):.3f} s",
            f"{statistics.median(drift):.3f} s",
            f"{max(drift):.3f} s",
            f"{max(drift) / min(drift):.2f}",
        )
    ]
    with tempfile.TemporaryDirectory(prefix="waldo-probe-") as folder:
        for kind in ("spin", "sqlite"):
            ratios = sorted(interference(kind, args.pairs, str(Path(folder) / "probe.db")))
            results[f"interference_{kind}"] = ratios
            quarter = len(ratios) // 4
            rows.append(
                (
                    f"interference: CPU 1 {'spinning' if kind == 'spin' else 'inserting'} / idle",
                    f"{ratios[quarter]:.3f}",
                    f"{statistics.median(ratios):.3f}",
                    f"{ratios[-quarter - 1]:.3f}",
                    "",
                )
            )
    print(table(("what", "min / q25", "median", "max / q75", "max / min"), rows))
    print(f"results: {write_results('probe_machine', results)}")


if __name__ == "__main__":
    main()
