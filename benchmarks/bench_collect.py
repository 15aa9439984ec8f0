"""Collector throughput: extract + convert of 100,000 raw records against per-row ORM inserts.

For each backend (SQLite file in a temporary folder, and a fresh PostgreSQL database
created on the server and dropped afterwards), in this process:

- Waldo: RECORDS raw records (GitHub-like workflow runs, JSON as collected) are first
  written to the stream's raw table (not timed); then the clock runs over
  ``Runner.extract`` (raw JSON -> tool model -> ``_tool_bench_runs``, one transaction,
  batched upserts) and ``Runner.convert`` (tool rows -> ``cicd_pipelines``, one
  transaction, batched upserts), exactly what ``waldo collect PLUGIN run`` does after
  collecting;
- baseline, the plain ORM loop a plugin would write by hand: for each raw record,
  parse the JSON, build the same tool model and the same domain row as SQLModel
  objects, ``session.add`` both and ``session.commit()``; over BASELINE_RECORDS records;
- baseline, kinder: the same loop with one commit at the end (the ORM's unit of work
  then batches the INSERTs itself).

    python benchmarks/bench_collect.py [--records N] [--baseline-records N] [--repeat R]
                                       [--backends sqlite,postgresql]

Prints records/s (median of R rounds) and the ratio to the per-row baseline; writes
JSON to ``benchmarks/results/bench_collect.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from _common import fresh_pg_database, median, table, write_results
from sqlmodel import Field, Session, SQLModel, create_engine

from waldo.collect import Context, DomainModel, Plugin, Stream, ToolModel
from waldo.collect._runner import Runner
from waldo.collect.domain_layer import devops
from waldo.collect.stream import Records
from waldo.journal import CollectorJournal
from waldo.store import Store, parse_store_url


class RunColumns(SQLModel):
    """A workflow run's columns, shared by Waldo's tool model and the baseline's row."""

    id: int = Field(primary_key=True)
    name: str | None = None
    status: str | None = None
    conclusion: str | None = None
    head_sha: str | None = None
    html_url: str | None = None
    created_at: datetime | None = None
    run_started_at: datetime | None = None
    updated_at: datetime | None = None


class BenchRun(ToolModel, RunColumns, table=True):
    __tablename__ = "_tool_bench_runs"


class BaselinePipeline(SQLModel, table=True):
    """The baseline's domain row: the columns Waldo's conversion fills."""

    __tablename__ = "baseline_pipelines"

    id: str = Field(primary_key=True)
    name: str | None = None
    result: str | None = None
    status: str | None = None
    original_result: str | None = None
    original_status: str | None = None
    url: str | None = None
    created_date: datetime | None = None
    started_date: datetime | None = None
    finished_date: datetime | None = None
    duration_sec: float | None = None
    cicd_scope_id: str | None = None


class BaselineRun(RunColumns, table=True):
    """The baseline's tool row (its own table, same columns as BenchRun)."""

    __tablename__ = "baseline_runs"


RESULTS = {"success": devops.SUCCESS, "failure": devops.FAILURE, "cancelled": devops.ABORT}


def pipeline_fields(run: Any) -> dict[str, Any]:
    """The conversion both sides do: a workflow run as a cicd_pipelines row."""
    finished = run.updated_at if run.status == "completed" else None
    started = run.run_started_at
    return {
        "id": f"bench:BenchRun:1:{run.id}",
        "name": run.name,
        "result": RESULTS.get(run.conclusion or ""),
        "status": devops.DONE if run.status == "completed" else devops.IN_PROGRESS,
        "original_result": run.conclusion,
        "original_status": run.status,
        "url": run.html_url,
        "created_date": run.created_at,
        "started_date": started,
        "finished_date": finished,
        "duration_sec": (finished - started).total_seconds() if finished and started else None,
        "cicd_scope_id": "bench:Repo:1:octo/hello",
    }


class Runs(Stream):
    tool_model = BenchRun

    def collect(self, state: dict[str, Any], context: Context) -> Records:
        return iter(())

    def convert(self, run: BenchRun, context: Context) -> Iterable[DomainModel]:
        yield devops.CICDPipeline(**pipeline_fields(run))


class Bench(Plugin):
    name = "bench"

    @property
    def streams(self) -> list[type[Stream]]:
        return [Runs]


def make_raw(count: int) -> list[dict[str, Any]]:
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    conclusions = ("success", "failure", "cancelled", None)
    out = []
    for i in range(count):
        created = start + timedelta(seconds=i * 60)
        conclusion = conclusions[i % 4]
        out.append(
            {
                "id": i,
                "name": f"CI {i % 7}",
                "status": "completed" if conclusion else "in_progress",
                "conclusion": conclusion,
                "head_sha": f"{i:040x}",
                "html_url": f"https://github.com/octo/hello/actions/runs/{i}",
                "created_at": created.isoformat().replace("+00:00", "Z"),
                "run_started_at": (created + timedelta(seconds=20)).isoformat(),
                "updated_at": (created + timedelta(seconds=300)).isoformat(),
                "event": "push",
                "pull_requests": [],
            }
        )
    return out


def waldo_round(url: str, raw: list[dict[str, Any]]) -> float:
    plugin = Bench()
    context = Context.parse({"db_url": url, "connection": {}})
    runner = Runner(plugin, context, CollectorJournal(Store(url)))
    runner.prepare()
    stream = plugin.get_stream("runs")
    key = runner.state_key(stream)
    texts = [(json.dumps(r), None, None) for r in raw]
    journal = runner.journal
    journal.start_full(key, runner.raw_table(stream), runner.params)
    for i in range(0, len(texts), 10_000):
        journal.commit_raw(key, runner.raw_table(stream), runner.params, texts[i : i + 10_000], {})
    started = time.perf_counter()
    extracted = runner.extract(stream).records
    converted = runner.convert(stream).records
    elapsed = time.perf_counter() - started
    assert extracted == converted == len(raw), (extracted, converted)
    journal.store.dispose()
    return elapsed


def baseline_round(url: str, raw: list[dict[str, Any]], commit_each: bool) -> float:
    engine = create_engine(parse_store_url(url))
    tables = [BaselineRun.__table__, BaselinePipeline.__table__]  # type: ignore[attr-defined]
    SQLModel.metadata.drop_all(engine, tables=tables)
    SQLModel.metadata.create_all(engine, tables=tables)
    texts = [json.dumps(r) for r in raw]
    started = time.perf_counter()
    with Session(engine) as session:
        for text in texts:
            tool = BaselineRun.model_validate(json.loads(text))
            session.add(tool)
            session.add(BaselinePipeline(**pipeline_fields(tool)))
            if commit_each:
                session.commit()
        session.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def measure(url: str, records: int, baseline_records: int, repeat: int) -> dict[str, list[float]]:
    raw = make_raw(records)
    small = raw[:baseline_records]
    rounds: dict[str, list[float]] = {"waldo": [], "orm_commit_each": [], "orm_one_commit": []}
    cases: list[tuple[str, Callable[[], float], int]] = [
        ("waldo", lambda: waldo_round(url, raw), records),
        ("orm_commit_each", lambda: baseline_round(url, small, True), baseline_records),
        ("orm_one_commit", lambda: baseline_round(url, raw, False), records),
    ]
    for _ in range(repeat):  # interleaved rounds
        for name, action, count in cases:
            rounds[name].append(count / action())
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--baseline-records", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()

    rows = []
    results: dict[str, Any] = {"records": args.records, "baseline_records": args.baseline_records}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="waldo-bench-collect-"))
            try:
                rates = measure(
                    f"sqlite:///{folder / 'w.db'}", args.records, args.baseline_records, args.repeat
                )
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        else:
            with fresh_pg_database("waldo_bench_collect") as url:
                rates = measure(url, args.records, args.baseline_records, args.repeat)
        results[backend] = rates
        base = median(rates["orm_commit_each"])
        labels = {
            "orm_commit_each": f"plain ORM loop, commit per record ({args.baseline_records:,})",
            "orm_one_commit": f"plain ORM loop, one commit ({args.records:,})",
            "waldo": f"waldo extract + convert ({args.records:,})",
        }
        for name in ("orm_commit_each", "orm_one_commit", "waldo"):
            rate = median(rates[name])
            rows.append((f"{backend}: {labels[name]}", f"{rate:,.0f}", f"{rate / base:.1f}x"))
    print(table(["case", "records/s", "vs per-row ORM"], rows))
    print(f"results: {write_results('bench_collect', results)}")


if __name__ == "__main__":
    main()
