"""The collectors' journal: what a collection writes, and which writes commit together.

Collector plugins (``waldo.collect``) never see SQL. They hand this class raw records
with the state that covers them, a function that extracts a raw record into a tool row,
and a function that converts a tool row into domain rows; this class decides the
transactions:

- raw rows and the stream state that covers them commit together, so a crash never
  leaves the state ahead of the data (a resumed collection has no gap), nor the data
  ahead of the state (it has no duplicate);
- an extraction (or a conversion) of a scope replaces the scope's previous tool (or
  domain) rows in one transaction, so a reader sees the old rows or the new, never half.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from waldo.journal._model import RunSummary
from waldo.store import RawRow, StateKey, Store

__all__ = ["CollectorJournal", "RawRow", "StateKey", "raw_params"]
from waldo.store import collectors as sql

#: Rows read per query while extracting and converting.
READ_BATCH = 5_000

Extractor = Callable[[RawRow], dict[str, Any] | None]
Converter = Callable[[dict[str, Any]], Iterable[tuple[str, dict[str, Any]]]]


def raw_params(connection_id: str, scope_id: str) -> str:
    """DevLake's ``_raw_data_params``: which connection and scope a raw row belongs to."""
    return json.dumps({"ConnectionId": connection_id, "ScopeId": scope_id}, sort_keys=True)


#: DevLake's (result, status) -> Waldo's run status.
_RESULT_STATUS = {"SUCCESS": "success", "FAILURE": "failed", "ABORT": "interrupted"}


def collected_summary(row: dict[str, Any]) -> RunSummary:
    """A collected pipeline (``cicd_pipelines`` row) as a run of kind ``collected``."""
    result, status = row.get("result"), row.get("status")
    started = row.get("started_date") or row.get("created_date")
    finished = row.get("finished_date")
    return RunSummary(
        run_id=str(row["id"]),
        kind="collected",
        status=_RESULT_STATUS.get(result or "", "running" if status == "IN_PROGRESS" else "other"),
        started_at=started,
        finished_at=finished,
        duration_s=row.get("duration_sec"),
        pipeline_names=[str(row["name"])] if row.get("name") else [],
        env=row.get("environment"),
        nodes_ok=int(row.get("ok") or 0),
        nodes_failed=int(row.get("failed") or 0),
        nodes_skipped=0,
        git_sha=None,
        git_dirty=None,
        user_name=None,
        host=None,
        runner=str(row["id"]).split(":", 1)[0],  # the plugin that collected it
    )


class CollectorJournal:
    """Reads and writes of the collectors' raw, tool, domain and state tables."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    def for_url(cls, url: str) -> CollectorJournal:
        return cls(Store(url))

    @staticmethod
    def raw_table(name: str) -> sa.Table:
        """The raw table ``name`` (``_raw_<plugin>_<stream>``), created by ``prepare``."""
        return sql.raw_table(name)

    @staticmethod
    def tool_table(name: str, model_table: sa.Table) -> sa.Table:
        """The tool table ``name`` for a tool model's table, created by ``prepare``."""
        return sql.tool_table(name, model_table)

    def prepare(self, tables: Sequence[sa.Table]) -> None:
        """Migrate the store and create the plugin's runtime tables."""
        with self.store.connect() as conn:
            sql.ensure_tables(conn, tables)

    def load_state(self, key: StateKey) -> dict[str, Any]:
        with self.store.connect() as conn:
            return sql.load_state(conn, key) or {}

    def was_collected(self, key: StateKey) -> bool:
        """Whether a collection of the stream ever committed (even with no records)."""
        with self.store.connect() as conn:
            return sql.load_state(conn, key) is not None

    def start_full(self, key: StateKey, raw: sa.Table, params: str) -> int:
        """Forget the state and the raw rows of a scope before collecting from scratch."""
        with self.store.connect() as conn:
            sql.reset_state(conn, key)
            return sql.delete_raw(conn, raw, params)

    def commit_raw(
        self,
        key: StateKey,
        raw: sa.Table,
        params: str,
        rows: Sequence[tuple[str, str | None, str | None]],
        state: dict[str, Any],
    ) -> None:
        """Append raw ``(data, url, input)`` rows and save the state, in one transaction."""
        with self.store.connect() as conn:
            sql.append_raw(conn, raw, params, rows)
            sql.save_state(conn, key, state, len(rows))

    def raw_rows(self, raw: sa.Table, params: str) -> Iterator[RawRow]:
        """Every raw row of a scope in collection order, read in batches."""
        after = 0
        while True:
            with self.store.connect() as conn:
                batch = sql.raw_batch(conn, raw, params, after, READ_BATCH)
            yield from batch
            if len(batch) < READ_BATCH:
                return
            after = batch[-1].id

    def extract(
        self,
        raw: sa.Table,
        tool: sa.Table,
        connection_id: str,
        params: str,
        extractor: Extractor,
    ) -> int:
        """Replace the scope's tool rows with ``extractor`` applied to its raw rows."""
        written = 0
        with self.store.connect() as conn:
            sql.delete_tool_rows(conn, tool, connection_id, params)
            after = 0
            while True:
                batch = sql.raw_batch(conn, raw, params, after, READ_BATCH)
                rows: dict[tuple[Any, ...], dict[str, Any]] = {}
                keys = [c.name for c in tool.primary_key.columns]
                for record in batch:
                    row = extractor(record)
                    if row is None:
                        continue
                    row["connection_id"] = connection_id
                    row["_raw_data_params"] = params
                    row["_raw_data_table"] = raw.name
                    row["_raw_data_id"] = record.id
                    # A record collected twice (an overlapping incremental window)
                    # becomes one tool row: the later one wins.
                    rows[tuple(row.get(k) for k in keys)] = row
                sql.upsert(conn, tool, list(rows.values()))
                written += len(rows)
                if len(batch) < READ_BATCH:
                    break
                after = batch[-1].id
        return written

    def tool_rows(
        self, tool: sa.Table, connection_id: str, params: str
    ) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            with self.store.connect() as conn:
                batch = sql.tool_batch(conn, tool, connection_id, params, offset, READ_BATCH)
            yield from batch
            if len(batch) < READ_BATCH:
                return
            offset += len(batch)

    def convert(
        self,
        tool: sa.Table,
        raw_name: str,
        connection_id: str,
        params: str,
        converter: Converter,
        extra: Iterable[tuple[str, dict[str, Any]]] = (),
    ) -> dict[str, int]:
        """Replace the domain rows this raw table's scope produced; counts per table.

        ``extra`` rows (a plugin's domain scopes) are written in the same transaction.
        """
        counts: dict[str, int] = {}
        with self.store.connect() as conn:
            sql.delete_domain_rows(conn, raw_name, params)
            scopes = ((table, row, None) for table, row in extra)
            self._write_domain_rows(conn, scopes, raw_name, params, counts)
            offset = 0
            while True:
                batch = sql.tool_batch(conn, tool, connection_id, params, offset, READ_BATCH)
                produced = (
                    (table, row, source.get("_raw_data_id"))
                    for source in batch
                    for table, row in converter(source)
                )
                self._write_domain_rows(conn, produced, raw_name, params, counts)
                if len(batch) < READ_BATCH:
                    break
                offset += len(batch)
        return counts

    @staticmethod
    def _write_domain_rows(
        conn: sa.Connection,
        rows: Iterable[tuple[str, dict[str, Any], int | None]],
        raw_name: str,
        params: str,
        counts: dict[str, int],
    ) -> None:
        """Upsert domain rows with their provenance, one row per key and table (the
        last one wins)."""
        groups: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        now = time.time()
        for table_name, row, raw_id in rows:
            table = sql.domain_table(table_name)
            row = {k: v for k, v in row.items() if k in table.c}
            row.setdefault("_raw_data_params", params)
            row.setdefault("_raw_data_table", raw_name)
            row.setdefault("_raw_data_id", raw_id)
            row.setdefault("created_at", now)
            row["updated_at"] = now
            key = tuple(row.get(c.name) for c in table.primary_key.columns)
            groups.setdefault(table_name, {})[key] = row
        for table_name, by_key in groups.items():
            # A column a row leaves out is written as NULL.
            sql.upsert(conn, sql.domain_table(table_name), list(by_key.values()))
            counts[table_name] = counts.get(table_name, 0) + len(by_key)

    def domain_rows(self, table_name: str) -> list[dict[str, Any]]:
        with self.store.connect() as conn:
            return sql.domain_rows(conn, table_name)

    def runs_since(self, since: float | None, limit: int) -> list[dict[str, Any]]:
        """Waldo's own runs started at or after ``since`` (epoch), oldest first, each
        with its ``node_runs`` (for the collector that puts them in the domain layer)."""
        with self.store.connect() as conn:
            return sql.runs_with_nodes(conn, since, limit)

    def collected_runs(
        self, limit: int = 20, status: str | None = None, pipeline: str | None = None
    ) -> list[RunSummary]:
        """The newest runs collected from other tools, as ``waldo runs`` lists them
        (kind ``collected``; the run id is the pipeline's domain id)."""
        result = {v: k for k, v in _RESULT_STATUS.items()}.get(status or "")
        in_progress = "IN_PROGRESS" if status == "running" else None
        if status is not None and result is None and in_progress is None:
            return []
        with self.store.connect() as conn:
            rows = sql.collected_pipelines(conn, limit, result, in_progress, pipeline)
        return [collected_summary(r) for r in rows]

    def count(self, table: sa.Table, params: str | None = None) -> int:
        with self.store.connect() as conn:
            return sql.count_rows(conn, table, params)
