"""Saving 1,000,000 scores: ``ScoresDataset`` (binary COPY) vs ``pandas.to_sql``.

The frame is what a detector node returns: ``sample_id`` (int64), ``score`` (float64)
and ``prediction`` (bool). Timed in the same run, each into a fresh database, REPEAT
rounds interleaved:

- baseline: ``frame.to_sql("outlier_score_plain", engine, if_exists="append",
  index=False)``, pandas' default path (an ``executemany`` of INSERTs through
  SQLAlchemy), into a table of the same columns;
- ``ScoresDataset.save``: what a Kedro node's save costs end to end: a context row and
  the scores in one transaction, with binary ``COPY`` on PostgreSQL (``executemany`` on
  SQLite, for comparison).

    python benchmarks/bench_results.py [--rows 1000000] [--repeat 3] [--no-sqlite]

Prints medians and the ratio to the baseline as a table; writes
``benchmarks/results/bench_results.json``. Not part of the tests.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from _common import fresh_pg_database, median, table, write_results

from waldo.kedro.results import ScoresDataset


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    score = rng.random(rows)
    return pd.DataFrame(
        {"sample_id": np.arange(rows, dtype=np.int64), "score": score, "prediction": score > 0.95}
    )


def to_sql_seconds(frame: pd.DataFrame, url: str) -> float:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    start = time.perf_counter()
    frame.to_sql("outlier_score_plain", engine, if_exists="append", index=False)
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
    frame: pd.DataFrame, fresh_url: Callable[[], object], repeat: int
) -> tuple[list[float], list[float]]:
    base: list[float] = []
    copy: list[float] = []
    for _ in range(repeat):
        with fresh_url() as url:  # type: ignore[attr-defined]
            base.append(to_sql_seconds(frame, url))
        with fresh_url() as url:  # type: ignore[attr-defined]
            copy.append(dataset_seconds(frame, url))
    return base, copy


class _SqliteFile:
    def __enter__(self) -> str:
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-results-")
        return f"sqlite:///{Path(self._tmp.name) / 'results.db'}"

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    frame = make_frame(args.rows)
    results: dict[str, object] = {"rows": args.rows, "repeat": args.repeat}
    rows = []
    pg_base, pg_copy = measure(frame, lambda: fresh_pg_database("bench_results"), args.repeat)
    b, c = median(pg_base), median(pg_copy)
    rows.append(["PostgreSQL: pandas.to_sql (baseline)", f"{b:.2f}", f"{args.rows / b:,.0f}", ""])
    rows.append(
        [
            "PostgreSQL: ScoresDataset.save (COPY)",
            f"{c:.2f}",
            f"{args.rows / c:,.0f}",
            f"{b / c:.1f}x",
        ]
    )
    results.update(pg_to_sql_s=pg_base, pg_copy_s=pg_copy, pg_speedup=b / c)
    if not args.no_sqlite:
        lite_base, lite_save = measure(frame, _SqliteFile, args.repeat)
        b, c = median(lite_base), median(lite_save)
        rows.append(["SQLite: pandas.to_sql (baseline)", f"{b:.2f}", f"{args.rows / b:,.0f}", ""])
        rows.append(
            ["SQLite: ScoresDataset.save", f"{c:.2f}", f"{args.rows / c:,.0f}", f"{b / c:.1f}x"]
        )
        results.update(sqlite_to_sql_s=lite_base, sqlite_save_s=lite_save, sqlite_speedup=b / c)
    print(f"{args.rows:,} scores (sample_id, score, prediction), median of {args.repeat}")
    print(table(["save", "seconds", "rows/s", "faster than baseline"], rows))
    write_results("bench_results", results)


if __name__ == "__main__":
    main()
