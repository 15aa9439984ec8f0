"""Saving a 1,000,000-row DataFrame: a Dolt table (doltlite) vs ``pandas.to_sql`` into SQLite.

The frame has ROWS rows and four columns (int64 ``id`` primary key, two float64, one
short string). Timed in the same run, each into a fresh database file, REPEAT rounds
interleaved:

- baseline: ``frame.to_sql(..., if_exists="replace", index=False)`` on a plain
  ``sqlite3`` connection (pandas' own path, no primary key);
- ``DoltTableDataset.save``: what a Kedro node's save costs, end to end: Parquet
  handoff to the Dolt worker process, ``CREATE TABLE`` with the primary key,
  ``executemany`` inside one transaction;
- ``dolt_commit``: the commit Waldo's hooks make after the run (worker process).

    python benchmarks/bench_dolt.py [--rows 1000000] [--repeat 3]

Prints medians and the ratio to the baseline as a table; writes
``benchmarks/results/bench_dolt.json``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, median, table, write_results

from waldo.kedro._dolt_client import call
from waldo.kedro.dolt import DoltTableDataset


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


def to_sql_seconds(frame: pd.DataFrame, folder: Path) -> float:
    conn = sqlite3.connect(folder / "plain.db")
    start = time.perf_counter()
    frame.to_sql("t", conn, if_exists="replace", index=False)
    conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def dolt_seconds(frame: pd.DataFrame, folder: Path) -> tuple[float, float]:
    database = str(folder / "warehouse.db")
    data = DoltTableDataset(table_name="t", primary_key="id", database=database)
    start = time.perf_counter()
    data.save(frame)
    saved = time.perf_counter() - start
    start = time.perf_counter()
    result = call("commit", database=database, message="bench")
    committed = time.perf_counter() - start
    assert result["commit"], result
    return saved, committed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = make_frame(args.rows)
    base: list[float] = []
    save: list[float] = []
    commit: list[float] = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-dolt-") as tmp:
            base.append(to_sql_seconds(frame, Path(tmp)))
            s, c = dolt_seconds(frame, Path(tmp))
            save.append(s)
            commit.append(c)
    b = median(base)
    rows = [
        ["pandas.to_sql -> SQLite (baseline)", f"{b:.2f}", "1.00x"],
        ["DoltTableDataset.save -> Dolt", f"{median(save):.2f}", f"{median(save) / b:.2f}x"],
        ["dolt_commit after the save", f"{median(commit):.2f}", f"{median(commit) / b:.2f}x"],
        [
            "save + commit",
            f"{median(save) + median(commit):.2f}",
            f"{(median(save) + median(commit)) / b:.2f}x",
        ],
    ]
    print(f"{args.rows:,} rows x 4 columns, median of {args.repeat}")
    print(table(["operation", "seconds", "vs baseline"], rows))
    write_results(
        "bench_dolt",
        {
            "rows": args.rows,
            "repeat": args.repeat,
            "to_sql_s": base,
            "dolt_save_s": save,
            "dolt_commit_s": commit,
            "ratio_save": median(save) / b,
            "ratio_save_commit": (median(save) + median(commit)) / b,
            "machine": machine(),
        },
    )


if __name__ == "__main__":
    main()
