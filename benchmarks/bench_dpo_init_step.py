"""``init-step`` over many model files: Waldo against the seed's sha256-of-every-file.

Creates FILES files of SIZE bytes (default 10,000 x 100 KB = 1 GB) in a temporary
folder, then times, in this process and against a SQLite journal:

- baseline, the seed's way: glob the patterns, read each file whole and SHA-256 it
  (it does the same work on every execution);
- Waldo ``init-step``, first time: no stat cache yet, every file is read and hashed
  (xxh3-128, streamed), and the step and its 10,000 model rows are written;
- Waldo ``init-step``, second time with the files unchanged: the stat cache answers,
  no file is read; the step and its rows are still written.

The files were just written, so they are in the page cache: "first time" measures
hashing, not the disk (a cold disk makes the reading part, and so the baseline and
Waldo's first time, slower, and the stat cache's advantage larger). Before timing, the
script waits out the stat cache's racy window (files modified within 2 s of being
hashed are re-read on the next run, as git does), as model files are normally edited
well before a pipeline runs.

    python benchmarks/bench_dpo_init_step.py [--files N] [--size BYTES] [--repeat R]

Prints a table with each time and its ratio to the baseline; writes JSON to
``benchmarks/results/bench_dpo_init_step.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from waldo.fingerprint._files import RACY_SECONDS
from waldo.journal import Executions
from waldo.store import Store

PATTERNS = ("**/*.sql", "**/*.csv")
RESULTS = Path(__file__).with_name("results") / "bench_dpo_init_step.json"


def make_models(base: Path, files: int, size: int) -> None:
    """FILES files of SIZE random bytes, 100 per folder, half .sql and half .csv."""
    block = os.urandom(size)
    for index in range(files):
        folder = base / f"group{index // 100:03d}"
        if index % 100 == 0:
            folder.mkdir(parents=True)
        suffix = "sql" if index % 2 else "csv"
        # unique content per file: the index in the first bytes
        (folder / f"model_{index:05d}.{suffix}").write_bytes(
            index.to_bytes(8, "little") + block[8:]
        )


def seed_baseline(base: Path) -> int:
    """The seed: glob, then sha256 of each file's whole content."""
    checksums: dict[str, str] = {}
    for pattern in PATTERNS:
        for path in glob.glob(str(base / pattern), recursive=True):
            with open(path, "rb") as handle:
                checksums[Path(path).stem] = hashlib.sha256(handle.read()).hexdigest()
    return len(checksums)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=100 * 1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="waldo-bench-dpo-"))
    try:
        models = work / "models"
        started = time.perf_counter()
        make_models(models, args.files, args.size)
        print(
            f"{args.files} files of {args.size // 1024} KB written in "
            f"{time.perf_counter() - started:.1f} s; waiting out the racy window"
        )
        time.sleep(RACY_SECONDS + 0.5)
        store = Store(f"sqlite:///{work / 'journal.db'}")
        dpo = Executions(store)
        store.ensure_schema()

        baseline: list[float] = []
        first: list[float] = []
        second: list[float] = []
        for round_ in range(args.repeat):
            assert seed_baseline(models) == args.files
            baseline.append(timed(lambda: seed_baseline(models)))

            cache = work / f"statcache-{round_}.db"
            execution = dpo.init_execution()
            start = time.perf_counter()
            dpo.init_step(execution, "FIRST", models, PATTERNS, cache_path=cache)
            first.append(time.perf_counter() - start)
            start = time.perf_counter()
            step = dpo.init_step(execution, "SECOND", models, PATTERNS, cache_path=cache)
            second.append(time.perf_counter() - start)
            assert step.cache_hits == args.files, "the stat cache missed"
            dpo.complete_execution(execution)

        rows = [
            ("seed: glob + sha256 of every file", statistics.median(baseline)),
            ("waldo init-step, first time (reads all)", statistics.median(first)),
            ("waldo init-step, unchanged (stat cache)", statistics.median(second)),
        ]
        base_time = rows[0][1]
        print()
        size = f"{args.size // 1024} KB"
        print(f"init-step over {args.files} files x {size}, median of {args.repeat}")
        print(f"{'case':<44} {'seconds':>9} {'files/s':>10} {'vs seed':>9}")
        for name, seconds in rows:
            print(
                f"{name:<44} {seconds:>9.3f} {args.files / seconds:>10.0f} "
                f"{base_time / seconds:>8.1f}x"
            )
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            json.dumps(
                {
                    "benchmark": "bench_dpo_init_step",
                    "files": args.files,
                    "file_size": args.size,
                    "repeat": args.repeat,
                    "python": platform.python_version(),
                    "machine": platform.machine(),
                    "cpus": os.cpu_count(),
                    "seconds": {
                        "seed_sha256": baseline,
                        "waldo_first": first,
                        "waldo_unchanged": second,
                    },
                    "median_seconds": {name: seconds for name, seconds in rows},
                    "speedup_vs_seed": {name: base_time / seconds for name, seconds in rows},
                },
                indent=2,
            )
            + "\n"
        )
        print(f"\nresults: {RESULTS}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
