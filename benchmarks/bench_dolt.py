"""A Dolt table's save and load against ``pandas`` into plain SQLite, paired and interleaved.

The frame has ROWS rows and four columns (int64 ``id`` primary key, two float64, one
short string). Each round, in this process and in this order:

- baseline save: ``sqlite3.connect`` a plain SQLite file, ``frame.to_sql(...,
  if_exists="replace", index=False)``, commit, close (what ``pandas.SQLTableDataset``
  does per save, minus SQLAlchemy);
- ``DoltTableDataset.save(frame)`` into a Dolt database (doltlite) whose table exists
  already, as in the second run of a pipeline (``if_exists: replace``);
- baseline load: connect, ``pandas.read_sql("SELECT * FROM t", conn)``, close;
- ``DoltTableDataset.load()``;
- the commit Waldo's hooks make after a run (``dolt_commit``), after a save that
  changed one value;
- a save that is the first Dolt operation of its process: the Dolt worker is stopped
  first, so this save starts it (a ``kedro run`` pays this once).

One warm-up round first (both sides' imports and first connections). Each Dolt
operation's ratio is taken against the baseline of its own round; the table shows the
median milliseconds and the median ratio.

    python benchmarks/bench_dolt.py [--rows 1000 100000] [--repeat 21]

Writes ``benchmarks/results/bench_dolt.json``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import median, table, write_results

from waldo.kedro._dolt_client import call, stop_worker
from waldo.kedro.dolt import DoltTableDataset

TARGET_MS = 50.0  # for a save and a load of TARGET_ROWS rows (issue 24)
TARGET_ROWS = 1000


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "a": rng.random(rows),
            "b": rng.normal(size=rows),
            "name": [f"item{i % 1000}" for i in range(rows)],
        }
    )


def seconds(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def plain_save(frame: pd.DataFrame, path: Path) -> None:
    conn = sqlite3.connect(path)
    frame.to_sql("t", conn, if_exists="replace", index=False)
    conn.commit()
    conn.close()


def plain_load(path: Path) -> pd.DataFrame:
    conn = sqlite3.connect(path)
    frame = pd.read_sql("SELECT * FROM t", conn)
    conn.close()
    return frame


def one_round(frame: pd.DataFrame, folder: Path, n: int) -> dict[str, float]:
    plain, database = folder / "plain.db", str(folder / "warehouse.db")
    data = DoltTableDataset(table_name="t", primary_key="id", database=database)
    times = {
        "base_save": seconds(lambda: plain_save(frame, plain)),
        "save": seconds(lambda: data.save(frame)),
        "base_load": seconds(lambda: plain_load(plain)),
        "load": seconds(data.load),
    }
    changed = frame.copy()
    changed.loc[0, "a"] = float(n)  # a commit needs a change
    data.save(changed)
    times["commit"] = seconds(lambda: call("commit", database=database, message=f"r{n}"))
    stop_worker()
    times["first_save"] = seconds(lambda: data.save(frame))
    return times


def measure(rows: int, repeat: int) -> dict[str, list[float]]:
    frame = make_frame(rows)
    runs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-dolt-") as tmp:
        one_round(frame, Path(tmp), 0)  # warm-up
        pd.testing.assert_frame_equal(
            DoltTableDataset(table_name="t", primary_key="id", database=f"{tmp}/warehouse.db")
            .load()
            .sort_values("id", ignore_index=True),
            frame,  # each round ends with a save of the frame itself
        )
        for n in range(1, repeat + 1):
            for key, value in one_round(frame, Path(tmp), n).items():
                runs.setdefault(key, []).append(value)
    return runs


def ratio(runs: dict[str, list[float]], key: str, base: str) -> float:
    return median([a / b for a, b in zip(runs[key], runs[base], strict=True)])


OPERATIONS = [  # (label, measurement, its baseline)
    ("`to_sql` -> SQLite (baseline)", "base_save", "base_save"),
    ("`DoltTableDataset.save`", "save", "base_save"),
    ("`DoltTableDataset.save`, first in its process", "first_save", "base_save"),
    ("`read_sql` <- SQLite (baseline)", "base_load", "base_load"),
    ("`DoltTableDataset.load`", "load", "base_load"),
    ("`dolt_commit` after a save", "commit", "base_save"),
]


def rows_of_table(rows: int, runs: dict[str, list[float]]) -> list[list[str]]:
    return [
        [f"{rows:,}", label, f"{1000 * median(runs[key]):.1f}", f"{ratio(runs, key, base):.2f}x"]
        for label, key, base in OPERATIONS
    ]


def verdict(runs: dict[str, list[float]]) -> str:
    slowest = max(1000 * median(runs["save"]), 1000 * median(runs["load"]))
    met = "met" if slowest <= TARGET_MS else "NOT met"
    return (
        f"{TARGET_ROWS:,} rows: the slower of save and load takes {slowest:.1f} ms; "
        f"target {TARGET_MS:.0f} ms {met}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    lines: list[list[str]] = []
    verdicts: list[str] = []
    results: dict[str, Any] = {"repeat": args.repeat, "target_ms": TARGET_MS, "sizes": {}}
    for rows in args.rows:
        runs = measure(rows, args.repeat)
        lines += rows_of_table(rows, runs)
        if rows == TARGET_ROWS:
            verdicts.append(verdict(runs))
        results["sizes"][str(rows)] = runs
    print(f"median of {args.repeat} interleaved rounds (ratio: each round against its baseline)")
    print(table(["rows", "operation", "ms", "vs baseline"], lines))
    print("\n".join(verdicts))
    write_results("bench_dolt", results)


if __name__ == "__main__":
    main()
