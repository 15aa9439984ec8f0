"""Exactly-once bulk writes of journal batches.

The batch writer and the spool replay both end here. A batch is written in one
transaction together with its marker row in ``write_batches``; a batch whose marker is
already there was committed before (its acknowledgement was lost, or the spool is being
replayed twice) and is skipped whole.

The append table ``events`` takes tuples in
``writable_columns`` order and go through a binary ``COPY`` into a temporary table on
PostgreSQL and ``executemany`` on SQLite; timestamps travel as epoch seconds. ``runs``
and ``node_runs`` rows are partial dicts merged into one row per key, with a status that
only moves forward (running -> interrupted -> success/failed), so an old row replayed
late cannot undo a newer one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from waldo.store._schema import (
    CONFLICT_KEYS,
    PG_SCHEMA,
    STATUS_RANK,
    TERMINAL_RANK,
    WRITE_MODES,
    metadata,
    writable_columns,
)
from waldo.store._types import UTCDateTime, to_epoch

Row = dict[str, Any] | tuple[Any, ...]
Record = tuple[str, Row]


def json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str, separators=(",", ":"))


def _epoch(value: Any) -> float:
    return value if type(value) is float else to_epoch(value)


class _AppendPlan:
    """How to turn a table's tuples into driver values quickly."""

    def __init__(self, table_name: str) -> None:
        table = metadata.tables[table_name]
        self.table_name = table_name
        self.columns = writable_columns(table_name)
        self.converters: list[tuple[int, Callable[[Any], Any]]] = []
        self.pg_types: list[str] = []
        self.pg_select: list[str] = []
        for index, name in enumerate(self.columns):
            column = table.c[name]
            if isinstance(column.type, UTCDateTime):
                self.converters.append((index, _epoch))
                self.pg_types.append("float8")
                self.pg_select.append(f'to_timestamp("{name}")')
            elif isinstance(column.type, sa.JSON):
                self.converters.append((index, json_text))
                self.pg_types.append("text")
                self.pg_select.append(f'"{name}"::jsonb')
            elif isinstance(column.type, sa.Float):
                self.pg_types.append("float8")
                self.pg_select.append(f'"{name}"')
            elif isinstance(column.type, sa.Integer):
                self.pg_types.append("int8")
                self.pg_select.append(f'"{name}"')
            else:
                self.pg_types.append("text")
                self.pg_select.append(f'"{name}"')

    def values(self, rows: Sequence[Row]) -> Sequence[tuple[Any, ...]]:
        """Driver-ready tuples. Tuples from the journal are already wire-ready (epoch
        float timestamps, JSON as text) and pass through untouched: that is the fast
        path that makes the writer as quick as the driver."""
        width = len(self.columns)
        if all(type(row) is tuple and len(row) == width for row in rows):
            return rows  # type: ignore[return-value]
        out: list[tuple[Any, ...]] = []
        for row in rows:
            if isinstance(row, dict):
                values = [row.get(name) for name in self.columns]
            else:
                if len(row) != width:
                    raise ValueError(
                        f"{self.table_name} row has {len(row)} values, expected {width}"
                    )
                values = list(row)
            for index, convert in self.converters:
                value = values[index]
                if value is not None:
                    values[index] = convert(value)
            out.append(tuple(values))
        return out


_PLANS: dict[str, _AppendPlan] = {}


def _plan(table_name: str) -> _AppendPlan:
    if table_name not in _PLANS:
        _PLANS[table_name] = _AppendPlan(table_name)
    return _PLANS[table_name]


def _group(records: Sequence[Record]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = {}
    for table, row in records:
        if table not in WRITE_MODES:
            raise ValueError(f"unknown journal table {table!r}")
        groups.setdefault(table, []).append(row)
    return groups


def _claim_batch(conn: Connection, batch_id: str, count: int) -> bool:
    """Record the batch marker; False when this batch was written before.

    Driver-level like the rows (SQL built once, see :func:`_merge_sql`): every batch
    claims its marker, the last one of a run included, which its final flush waits for.
    RETURNING tells whether the row is new on both drivers.
    """
    columns = ("batch_id", "records", "written_at")
    sql, _ = _merge_sql("write_batches", columns, conn.dialect.name, update=False)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f'{sql} RETURNING "batch_id"', (batch_id, count, time.time()))
        return cursor.fetchone() is not None
    finally:
        cursor.close()


def write_records(conn: Connection, records: Sequence[Record], batch_id: str | None) -> bool:
    """Write a batch inside the caller's transaction; False when it was already written."""
    if batch_id is not None and not _claim_batch(conn, batch_id, len(records)):
        return False
    groups = _group(records)
    # Snapshots first, then runs, then what hangs off runs.
    order = ["catalogs", "pipelines", "runs", "node_runs", "dataset_versions", "events"]
    for table in order:
        rows = groups.get(table)
        if not rows:
            continue
        mode = WRITE_MODES[table]
        if mode == "merge":
            _merge(conn, table, [_as_dict(table, row) for row in rows])
        elif mode == "ignore":
            _insert_ignore(conn, table, [_as_dict(table, row) for row in rows])
        elif conn.dialect.name == "postgresql":
            _pg_append(conn, table, rows)
        else:
            _sqlite_append(conn, table, rows)
    return True


def _as_dict(table: str, row: Row) -> dict[str, Any]:
    if isinstance(row, dict):
        return row
    return dict(zip(writable_columns(table), row, strict=True))


def _sqlite_append(conn: Connection, table: str, rows: list[Row]) -> None:
    plan = _plan(table)
    cols = ", ".join(f'"{c}"' for c in plan.columns)
    marks = ", ".join("?" for _ in plan.columns)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', plan.values(rows))
    finally:
        cursor.close()


def _pg_append(conn: Connection, table: str, rows: list[Row]) -> None:
    plan = _plan(table)
    cols = ", ".join(f'"{c}"' for c in plan.columns)
    stage = f"_waldo_stage_{table}"
    stage_cols = ", ".join(f'"{c}" {t}' for c, t in zip(plan.columns, plan.pg_types, strict=True))
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" ({stage_cols}) ON COMMIT DELETE ROWS'
        )
        with cursor.copy(f'COPY "{stage}" ({cols}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types(plan.pg_types)
            for values in plan.values(rows):
                copy.write_row(values)
        # No TRUNCATE afterwards: ON COMMIT DELETE ROWS empties the stage when this
        # batch's transaction ends, and a transaction writes one batch (Store.write),
        # each table once. Two round trips less for every batch, the last one of a run
        # included, which its final flush waits for.
        cursor.execute(
            f'INSERT INTO "{PG_SCHEMA}"."{table}" ({cols}) '
            f'SELECT {", ".join(plan.pg_select)} FROM "{stage}"'
        )
    finally:
        cursor.close()


def _insert_ignore(conn: Connection, table_name: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows whose key is new (content-addressed snapshots); JSON columns take a
    JSON text as it is, as in merged rows."""
    _upsert(conn, table_name, rows, update=False)


def _rank(column: Any) -> Any:
    return sa.case(
        *((column == status, rank) for status, rank in STATUS_RANK.items()),
        else_=TERMINAL_RANK,
    )


def _status_rank(status: Any) -> int:
    return STATUS_RANK.get(status, TERMINAL_RANK)


def coalesce_rows(table_name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold the partial rows of one batch into one row per key, in arrival order.

    A later value wins, except that a status never moves back in rank.
    """
    keys = CONFLICT_KEYS[table_name]
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row.get(k) for k in keys)
        current = merged.get(key)
        if current is None:
            merged[key] = dict(row)
            continue
        for name, value in row.items():
            if name == "status" and "status" in current:
                if _status_rank(value) >= _status_rank(current["status"]):
                    current["status"] = value
            else:
                current[name] = value
    return list(merged.values())


def _merge(conn: Connection, table_name: str, rows: list[dict[str, Any]]) -> None:
    """Upsert partial rows: one driver-level executemany per distinct set of columns.

    This runs on the writer thread for every node of every run, so it talks to the
    driver directly (SQL built once per column set and cached) instead of compiling a
    SQLAlchemy statement per batch.
    """
    _upsert(conn, table_name, coalesce_rows(table_name, rows), update=True)


def _upsert(conn: Connection, table_name: str, rows: list[dict[str, Any]], *, update: bool) -> None:
    table = metadata.tables[table_name]
    dialect = conn.dialect.name
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        values = {k: v for k, v in row.items() if k in table.c}
        if update and "status" in table.c and values.get("status") is None:
            # A partial row with no status (``update_run``) still has to pass the NOT
            # NULL check of the INSERT half of the upsert; "pending" ranks lowest, so it
            # never replaces the status of an existing row.
            values["status"] = "pending"
        groups.setdefault(tuple(sorted(values)), []).append(values)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for columns, group in groups.items():
            sql, converters = _merge_sql(table_name, columns, dialect, update)
            cursor.executemany(
                sql,
                [
                    tuple(
                        row[name] if convert is None or row[name] is None else convert(row[name])
                        for name, convert in zip(columns, converters, strict=True)
                    )
                    for row in group
                ],
            )
    finally:
        cursor.close()


def _rank_sql(column: str) -> str:
    cases = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in STATUS_RANK.items())
    return f"(CASE {column} {cases} ELSE {TERMINAL_RANK} END)"


_MERGE_SQL: dict[tuple[str, tuple[str, ...], str, bool], tuple[str, list[Any]]] = {}


def _merge_sql(
    table_name: str, columns: tuple[str, ...], dialect: str, update: bool = True
) -> tuple[str, list[Callable[[Any], Any] | None]]:
    """The upsert statement (or, without ``update``, insert-if-new) and per-column value
    converters for one column set."""
    cache_key = (table_name, columns, dialect, update)
    if cache_key in _MERGE_SQL:
        return _MERGE_SQL[cache_key]
    table = metadata.tables[table_name]
    keys = CONFLICT_KEYS[table_name]
    postgres = dialect == "postgresql"
    target = f'"{PG_SCHEMA}"."{table_name}"' if postgres else f'"{table_name}"'
    marks: list[str] = []
    converters: list[Callable[[Any], Any] | None] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, UTCDateTime):
            marks.append("to_timestamp(%s)" if postgres else "?")
            converters.append(_epoch)
        elif isinstance(column_type, sa.JSON):
            marks.append("%s::jsonb" if postgres else "?")
            converters.append(json_text)
        elif isinstance(column_type, sa.Boolean) and not postgres:
            marks.append("?")
            converters.append(int)
        else:
            marks.append("%s" if postgres else "?")
            converters.append(None)
    quoted = ", ".join(f'"{c}"' for c in columns)
    updates = [f'"{c}" = excluded."{c}"' for c in columns if c not in keys and c != "status"]
    if not update:
        updates = []
    elif "status" in columns:
        updates.append(
            f'"status" = CASE WHEN {_rank_sql("excluded.status")} >= '
            f"{_rank_sql(f'{target}.status')} THEN excluded.status ELSE {target}.status END"
        )
    conflict = ", ".join(f'"{k}"' for k in keys)
    action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    sql = (
        f"INSERT INTO {target} ({quoted}) VALUES ({', '.join(marks)}) "
        f"ON CONFLICT ({conflict}) {action}"
    )
    _MERGE_SQL[cache_key] = (sql, converters)
    return sql, converters
