"""Writer throughput: events through ``BatchWriter`` against one INSERT + COMMIT per event.

For each backend (SQLite file in a temporary folder, and a fresh PostgreSQL database
created on the server and dropped afterwards), in this process:

- Waldo: EVENTS rows for ``events`` (tuples in ``writable_columns("events")`` order, as
  ``Recorder.event`` makes them) go through ``BatchWriter.put``; the clock runs from the
  first ``put`` to the return of ``flush``, so it covers enqueueing, the background
  thread's batches (binary COPY through a temporary table on PostgreSQL, executemany on
  SQLite) and their exactly-once markers;
- baseline, the seed plugin's way: one ``INSERT`` and one ``COMMIT`` per event, on the
  same database with the same connection settings (SQLite in WAL mode with
  ``synchronous=NORMAL``, as Waldo opens it), with the raw driver (no ORM cost, so the
  kindest version of the seed).

Both write the same number of events per round, after the same untimed warm-up
(1,000 events each), and the rounds alternate which goes first.

    python benchmarks/bench_writer.py [--events N] [--repeat R] [--backends sqlite,postgresql]

Prints events/s (median of R rounds) and the ratio to the baseline; writes JSON to
``benchmarks/results/bench_writer.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import fresh_pg_database, median, table, write_results

from waldo.store import BatchWriter, Spool, Store, schema

TARGETS = {"postgresql": 150_000, "sqlite": 300_000}
COLUMNS = schema.writable_columns("events")


def make_events(count: int, run_id: str) -> list[tuple[Any, ...]]:
    """Rows like a Kedro run's: hook name, 8-char id, dataset/node name, epoch, duration."""
    kinds = ("before_dataset_loaded", "after_dataset_loaded", "before_node_run")
    now = time.time()
    return [
        (
            run_id,
            kinds[i % 3],
            f"{i % 100_000:08x}",
            f"dataset_{i % 1000}",
            now + i * 1e-6,
            0.001 if i % 3 == 1 else None,
        )
        for i in range(count)
    ]


def count_events(store: Store, run_id: str) -> int:
    with store.engine.connect() as conn:
        sql = "SELECT count(*) FROM events WHERE run_id = ?"
        if store.dialect == "postgresql":
            sql = "SELECT count(*) FROM waldo.events WHERE run_id = %s"
        return int(conn.exec_driver_sql(sql, (run_id,)).scalar_one())


def waldo_writer(store: Store, spool_dir: Path, rows: list[tuple[Any, ...]]) -> float:
    writer = BatchWriter(store.write, Spool(spool_dir))
    put = writer.put
    start = time.perf_counter()
    for row in rows:
        put("events", row)
    result = writer.flush(timeout=600)
    elapsed = time.perf_counter() - start
    writer.close()
    assert result.written == len(rows), result
    return elapsed


def seed_sqlite(path: Path, rows: list[tuple[Any, ...]]) -> float:
    conn = sqlite3.connect(path, timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    sql = f"INSERT INTO events ({cols}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    start = time.perf_counter()
    for row in rows:
        conn.execute(sql, row)
        conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def seed_postgres(url: str, rows: list[tuple[Any, ...]]) -> float:
    import psycopg

    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    sql = f"INSERT INTO waldo.events ({cols}) VALUES (%s, %s, %s, %s, to_timestamp(%s), %s)"
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        for row in rows:
            conn.execute(sql, row)
            conn.commit()
        return time.perf_counter() - start


def bench_backend(backend: str, url: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    store = Store(url)
    store.ensure_schema()
    waldo_rates: list[float] = []
    seed_rates: list[float] = []
    baseline: Callable[[list[tuple[Any, ...]]], float]
    if backend == "sqlite":
        db_path = Path(url.removeprefix("sqlite:///"))
        baseline = lambda rows: seed_sqlite(db_path, rows)  # noqa: E731
    else:
        baseline = lambda rows: seed_postgres(url, rows)  # noqa: E731
    waldo_writer(store, work / f"spool-{backend}-warm-up", make_events(1000, "warm-up"))
    baseline(make_events(1000, "warm-up-seed"))

    def waldo_round(round_: int) -> None:
        run_id = uuid.uuid4().hex
        seconds = waldo_writer(
            store, work / f"spool-{backend}-{round_}", make_events(args.events, run_id)
        )
        assert count_events(store, run_id) == args.events
        waldo_rates.append(args.events / seconds)

    def seed_round(round_: int) -> None:
        run_id = uuid.uuid4().hex
        seconds = baseline(make_events(args.events, run_id))
        assert count_events(store, run_id) == args.events
        seed_rates.append(args.events / seconds)

    for round_ in range(args.repeat):
        order = (waldo_round, seed_round) if round_ % 2 == 0 else (seed_round, waldo_round)
        for one in order:
            one(round_)
        print(
            f"  {backend} round {round_ + 1}: waldo {waldo_rates[-1]:,.0f} ev/s, "
            f"seed {seed_rates[-1]:,.0f} ev/s",
            flush=True,
        )
    store.dispose()
    return {
        "events": args.events,
        "waldo_rates": waldo_rates,
        "seed_rates": seed_rates,
        "waldo_median": median(waldo_rates),
        "seed_median": median(seed_rates),
        "ratio": median(waldo_rates) / median(seed_rates),
        "target": TARGETS[backend],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()

    results: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="waldo-bench-writer-"))
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                results[backend] = bench_backend(
                    backend, f"sqlite:///{work / 'journal.db'}", work, args
                )
            else:
                with fresh_pg_database("waldo_bench_writer") as url:
                    results[backend] = bench_backend(backend, url, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = []
    for backend, r in results.items():
        rows.append(
            (
                f"{backend}: seed, INSERT + COMMIT per event ({r['events']:,})",
                f"{r['seed_median']:,.0f}",
                "1.0x",
                "",
            )
        )
        ok = "yes" if r["waldo_median"] >= r["target"] else "NO"
        rows.append(
            (
                f"{backend}: waldo BatchWriter put + flush ({r['events']:,})",
                f"{r['waldo_median']:,.0f}",
                f"{r['ratio']:,.0f}x",
                f">= {r['target']:,}: {ok}",
            )
        )
    print(f"\nmedian of {args.repeat} rounds")
    print(table(("case", "events/s", "vs seed", "target"), rows))
    path = write_results("bench_writer", {"args": vars(args), "results": results})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
