"""Saving 1,000,000 scores: ``ScoresDataset`` vs the best ``pandas.to_sql`` by hand.

The frame is what a detector node returns: ``sample_id`` (int64), ``score`` (float64)
and ``prediction`` (bool). Each side saves it into a fresh database per round, after
the same warm-up (engine connected, table created), rounds interleaved with the order
alternating:

- baseline, as a user would write it by hand: on PostgreSQL ``frame.to_sql(...,
  method=copy_insert)``, the ``COPY`` callable pandas documents under "Insertion
  method" (here with psycopg 3's ``cursor.copy``); on SQLite pandas' default
  ``to_sql`` (an ``executemany``, the fastest of pandas' methods there);
- ``ScoresDataset.save``: what a Kedro node's save costs end to end: a context row and
  the scores in one transaction, with binary ``COPY`` on PostgreSQL and
  ``executemany`` on SQLite.

    python benchmarks/bench_results.py [--rows 1000000] [--repeat 5] [--no-sqlite]

Prints medians and the ratio to the baseline as a table; writes
``benchmarks/results/bench_results.json``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from _common import fresh_pg_database, median, table, write_results

from waldo.kedro.results import ScoresDataset

TABLE = "outlier_score_plain"


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    score = rng.random(rows)
    return pd.DataFrame(
        {"sample_id": np.arange(rows, dtype=np.int64), "score": score, "prediction": score > 0.95}
    )


def copy_insert(table: Any, conn: Any, keys: list[str], data_iter: Iterable[Any]) -> int:
    """pandas' documented ``method=`` callable for PostgreSQL: the rows as CSV into COPY."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(data_iter)
    buffer.seek(0)
    columns = ", ".join(f'"{k}"' for k in keys)
    name = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
    with conn.connection.cursor() as cursor:
        with cursor.copy(f"COPY {name} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        return int(cursor.rowcount)


def to_sql_seconds(frame: pd.DataFrame, url: str) -> float:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    postgres = engine.dialect.name == "postgresql"
    method = copy_insert if postgres else None
    frame.head(0).to_sql(TABLE, engine, if_exists="append", index=False)  # warm-up
    start = time.perf_counter()
    frame.to_sql(TABLE, engine, if_exists="append", index=False, method=method)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def dataset_seconds(frame: pd.DataFrame, url: str) -> float:
    data = ScoresDataset(algorithm="bench", credentials={"con": url})
    data.save(frame.head(1))  # connected and migrated, as in a run: time the save alone
    start = time.perf_counter()
    data.save(frame)
    return time.perf_counter() - start


def measure(
    frame: pd.DataFrame, fresh_url: Callable[[], AbstractContextManager[str]], repeat: int
) -> tuple[list[float], list[float]]:
    """Paired rounds, interleaved; each round alternates which side goes first."""
    base: list[float] = []
    waldo: list[float] = []
    for round_ in range(repeat):
        sides = [(to_sql_seconds, base), (dataset_seconds, waldo)]
        for timed, into in sides if round_ % 2 == 0 else reversed(sides):
            with fresh_url() as url:
                into.append(timed(frame, url))
    return base, waldo


def _sqlite_file() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-results-") as folder:
        yield f"sqlite:///{Path(folder) / 'results.db'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    frame = make_frame(args.rows)
    results: dict[str, object] = {"rows": args.rows, "repeat": args.repeat}
    rows = []
    pg_base, pg_copy = measure(frame, lambda: fresh_pg_database("bench_results"), args.repeat)
    b, c = median(pg_base), median(pg_copy)
    rows.append(
        [
            "PostgreSQL: pandas.to_sql, COPY method (baseline)",
            f"{b:.2f}",
            f"{args.rows / b:,.0f}",
            "",
        ]
    )
    rows.append(
        [
            "PostgreSQL: ScoresDataset.save (COPY)",
            f"{c:.2f}",
            f"{args.rows / c:,.0f}",
            f"{b / c:.2f}x",
        ]
    )
    results.update(pg_to_sql_s=pg_base, pg_copy_s=pg_copy, pg_speedup=b / c)
    if not args.no_sqlite:
        lite_base, lite_save = measure(frame, contextmanager(_sqlite_file), args.repeat)
        b, c = median(lite_base), median(lite_save)
        rows.append(["SQLite: pandas.to_sql (baseline)", f"{b:.2f}", f"{args.rows / b:,.0f}", ""])
        rows.append(
            ["SQLite: ScoresDataset.save", f"{c:.2f}", f"{args.rows / c:,.0f}", f"{b / c:.2f}x"]
        )
        results.update(sqlite_to_sql_s=lite_base, sqlite_save_s=lite_save, sqlite_speedup=b / c)
    print(f"{args.rows:,} scores (sample_id, score, prediction), median of {args.repeat}")
    print(table(["save", "seconds", "rows/s", "faster than baseline"], rows))
    write_results("bench_results", results)


if __name__ == "__main__":
    main()
