"""Exactly-once batch writes at the DB-API level.

Every journal batch ends here (through ``waldo.store._bulk``, on SQLAlchemy's
connection): the background writer's, the spool replay's and ``Store.write``'s.

A batch is written in the caller's transaction together with its marker row in
``write_batches``; a batch whose marker is already there was committed before (its
acknowledgement was lost, or the spool is being replayed twice) and is skipped whole.

The append tables (``events``, ``dataset_versions``, ``check_results``) take tuples in
column order (or dicts, converted); ``runs`` and ``node_runs`` rows are partial dicts
merged into one row per key, with a status that only moves forward (running ->
interrupted -> success/failed), so an old row replayed late cannot undo a newer one.
Timestamps travel as epoch seconds.

On SQLite every table is written with ``executemany``. On PostgreSQL the append tables
go through a binary ``COPY`` into a temporary stage, then one ``INSERT ... SELECT``;
merged rows are upserted with ``executemany``, which psycopg pipelines.

What a table looks like comes in as plain data, :class:`BatchPlans`, built from the
schema by ``waldo.store._bulk.batch_plans``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple

Row = dict[str, Any] | tuple[Any, ...]
Record = tuple[str, Row]
# Partial rows grouped by the columns they set, each group written with one statement.
ColumnSets = dict[tuple[str, ...], list[dict[str, Any]]]

# Column kinds of a plan: how a value travels to the driver.
TIME, JSON, BOOL, FLOAT, INT, TEXT = "time", "json", "bool", "float", "int", "text"
MARKER_TABLE = "write_batches"


class TablePlan(NamedTuple):
    """One journal table as the batch writer needs it."""

    name: str
    columns: tuple[str, ...]  # the columns a client supplies, in tuple order
    kinds: tuple[str, ...]  # TIME, JSON, BOOL, FLOAT, INT or TEXT, per column
    keys: tuple[str, ...]  # the conflict key of merged and insert-if-new tables
    mode: str  # "append", "merge" (upsert) or "ignore" (insert if new)


class BatchPlans(NamedTuple):
    """The tables a batch may write, and the status order merged rows respect."""

    tables: dict[str, TablePlan]
    status_rank: dict[str, int]
    terminal_rank: int  # the rank of any status not in status_rank (success, failed...)
    pg_schema: str


def to_epoch(value: datetime | float) -> float:
    """Epoch seconds of a timestamp (a naive datetime is UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    return float(value)


def json_text(value: Any) -> str | None:
    """A JSON column's value as text (a string is taken to be JSON text already)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str, separators=(",", ":"))


def _epoch(value: Any) -> float:
    return value if type(value) is float else to_epoch(value)


# INT: a float in an integer column is fine as a parameter, not as COPY text.
_CONVERTERS: dict[str, Callable[[Any], Any]] = {TIME: _epoch, JSON: json_text, INT: int}
_PG_TYPES = {TIME: "float8", JSON: "text", BOOL: "bool", FLOAT: "float8", INT: "int8"}


def write_rows(
    connection: Any,
    dialect: str,
    plans: BatchPlans,
    records: Sequence[Record],
    batch_id: str | None,
) -> bool:
    """Write a batch inside the connection's open transaction; False when it was
    already written (its marker is there). ``connection`` is a DB-API connection."""
    if batch_id is not None and not _claim_batch(connection, dialect, plans, batch_id, records):
        return False
    groups: dict[str, list[Row]] = {}
    for table, row in records:
        if table not in plans.tables or table == MARKER_TABLE:
            raise ValueError(f"unknown journal table {table!r}")
        groups.setdefault(table, []).append(row)
    # Snapshots first, then runs, then what hangs off runs.
    order = [
        "catalogs",
        "pipelines",
        "runs",
        "node_runs",
        "dataset_versions",
        "events",
        "check_results",
    ]
    for table in order:
        rows = groups.get(table)
        if not rows:
            continue
        plan = plans.tables[table]
        if plan.mode == "append":
            if dialect == "postgresql":
                _pg_append(connection, plans, plan, rows)
            else:
                _sqlite_append(connection, plan, rows)
            continue
        update = plan.mode == "merge"
        keyed = [_as_dict(plan, row) for row in rows]
        column_sets = _by_column_set(plan, coalesce_rows(plans, plan, keyed) if update else keyed)
        _merge(connection, dialect, plans, plan, column_sets, update)
    return True


def _claim_batch(
    connection: Any, dialect: str, plans: BatchPlans, batch_id: str, records: Sequence[Record]
) -> bool:
    """Record the batch marker; False when this batch was written before. RETURNING
    tells whether the row is new on both drivers."""
    columns = ("batch_id", "records", "written_at")
    sql, _ = _merge_sql(plans, plans.tables[MARKER_TABLE], columns, dialect, update=False)
    cursor = connection.cursor()
    try:
        cursor.execute(f'{sql} RETURNING "batch_id"', (batch_id, len(records), time.time()))
        return cursor.fetchone() is not None
    finally:
        cursor.close()


def _as_dict(plan: TablePlan, row: Row) -> dict[str, Any]:
    if isinstance(row, dict):
        return row
    return dict(zip(plan.columns, row, strict=True))


def _append_values(plan: TablePlan, rows: Sequence[Row]) -> Sequence[tuple[Any, ...]]:
    """Driver-ready tuples. Tuples from the journal are already wire-ready (epoch
    float timestamps, JSON as text) and pass through untouched: that is the fast path
    that makes the writer as quick as the driver."""
    width = len(plan.columns)
    if all(type(row) is tuple and len(row) == width for row in rows):
        return rows  # type: ignore[return-value]
    converters = [
        (i, _CONVERTERS[kind]) for i, kind in enumerate(plan.kinds) if kind in _CONVERTERS
    ]
    out: list[tuple[Any, ...]] = []
    for row in rows:
        if isinstance(row, dict):
            values = [row.get(name) for name in plan.columns]
        else:
            if len(row) != width:
                raise ValueError(f"{plan.name} row has {len(row)} values, expected {width}")
            values = list(row)
        for index, convert in converters:
            value = values[index]
            if value is not None:
                values[index] = convert(value)
        out.append(tuple(values))
    return out


def _sqlite_append(connection: Any, plan: TablePlan, rows: list[Row]) -> None:
    cols = ", ".join(f'"{c}"' for c in plan.columns)
    marks = ", ".join("?" for _ in plan.columns)
    cursor = connection.cursor()
    try:
        sql = f'INSERT INTO "{plan.name}" ({cols}) VALUES ({marks})'
        cursor.executemany(sql, _append_values(plan, rows))
    finally:
        cursor.close()


def _pg_append(connection: Any, plans: BatchPlans, plan: TablePlan, rows: list[Row]) -> None:
    """A binary COPY (encoded by psycopg in C) into the session's stage, every column
    typed as it travels (timestamps as float8, JSON as text), then one INSERT ...
    SELECT into the table; the stage empties when the transaction ends."""
    stage = f"_waldo_copy_{plan.name}"
    types = [_PG_TYPES.get(kind, "text") for kind in plan.kinds]
    cols = ", ".join(f'"{c}"' for c in plan.columns)
    typed = ", ".join(f'"{c}" {t}' for c, t in zip(plan.columns, types, strict=True))
    select = ", ".join(
        f'to_timestamp("{c}")' if kind == TIME else f'"{c}"::jsonb' if kind == JSON else f'"{c}"'
        for c, kind in zip(plan.columns, plan.kinds, strict=True)
    )
    cursor = connection.cursor()
    try:
        cursor.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" ({typed}) ON COMMIT DELETE ROWS')
        with cursor.copy(f'COPY "{stage}" ({cols}) FROM STDIN (FORMAT BINARY)') as copy:
            copy.set_types(types)
            for row in _append_values(plan, rows):
                copy.write_row(row)
        target = f'"{plans.pg_schema}"."{plan.name}"'
        cursor.execute(f'INSERT INTO {target} ({cols}) SELECT {select} FROM "{stage}"')
    finally:
        cursor.close()


def coalesce_rows(
    plans: BatchPlans, plan: TablePlan, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Fold the partial rows of one batch into one row per key, in arrival order.

    A later value wins, except that a status never moves back in rank.
    """
    rank = plans.status_rank
    terminal = plans.terminal_rank
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row.get(k) for k in plan.keys)
        current = merged.get(key)
        if current is None:
            merged[key] = dict(row)
            continue
        for name, value in row.items():
            if name == "status" and "status" in current:
                if rank.get(value, terminal) >= rank.get(current["status"], terminal):
                    current["status"] = value
            else:
                current[name] = value
    return list(merged.values())


def _by_column_set(plan: TablePlan, rows: list[dict[str, Any]]) -> ColumnSets:
    """Partial rows grouped by the columns they set (each set is written with its own
    statement, which leaves the other columns of an existing row alone)."""
    known = set(plan.columns)
    has_status = "status" in known and plan.mode == "merge"
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        values = {k: v for k, v in row.items() if k in known}
        if has_status and values.get("status") is None:
            # A partial row with no status (``update_run``) still has to pass the NOT
            # NULL check of the INSERT half of the upsert; "pending" ranks lowest, so it
            # never replaces the status of an existing row.
            values["status"] = "pending"
        groups.setdefault(tuple(sorted(values)), []).append(values)
    return groups


def _row_values(
    row: dict[str, Any], columns: Sequence[str], converters: Sequence[Callable[[Any], Any] | None]
) -> tuple[Any, ...]:
    """A partial row's values for one column set, each through its converter (None:
    as it is; NULL stays NULL)."""
    return tuple(
        row[name] if convert is None or row[name] is None else convert(row[name])
        for name, convert in zip(columns, converters, strict=True)
    )


def _merge(
    connection: Any,
    dialect: str,
    plans: BatchPlans,
    plan: TablePlan,
    column_sets: ColumnSets,
    update: bool,
) -> None:
    """Upsert (or insert-if-new) each column set with one executemany (pipelined by
    psycopg on PostgreSQL)."""
    cursor = connection.cursor()
    try:
        for columns, group in column_sets.items():
            sql, converters = _merge_sql(plans, plan, columns, dialect, update)
            cursor.executemany(sql, [_row_values(row, columns, converters) for row in group])
    finally:
        cursor.close()


def _rank_sql(plans: BatchPlans, column: str) -> str:
    cases = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in plans.status_rank.items())
    return f"(CASE {column} {cases} ELSE {plans.terminal_rank} END)"


_MERGE_SQL: dict[tuple[str, tuple[str, ...], str, bool], tuple[str, list[Any]]] = {}


def _merge_sql(
    plans: BatchPlans, plan: TablePlan, columns: tuple[str, ...], dialect: str, update: bool
) -> tuple[str, list[Callable[[Any], Any] | None]]:
    """The upsert statement (or, without ``update``, insert-if-new) and per-column value
    converters for one column set."""
    cache_key = (plan.name, columns, dialect, update)
    if cache_key in _MERGE_SQL:
        return _MERGE_SQL[cache_key]
    postgres = dialect == "postgresql"
    target = f'"{plans.pg_schema}"."{plan.name}"' if postgres else f'"{plan.name}"'
    kinds = dict(zip(plan.columns, plan.kinds, strict=True))
    marks: list[str] = []
    converters: list[Callable[[Any], Any] | None] = []
    for name in columns:
        kind = kinds[name]
        if kind == TIME:
            marks.append("to_timestamp(%s)" if postgres else "?")
            converters.append(_epoch)
        elif kind == JSON:
            marks.append("%s::jsonb" if postgres else "?")
            converters.append(json_text)
        elif kind == BOOL and not postgres:
            marks.append("?")
            converters.append(int)
        else:
            marks.append("%s" if postgres else "?")
            converters.append(None)
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f"INSERT INTO {target} ({quoted}) VALUES ({', '.join(marks)}) " + _conflict_action(
        plans, plan, columns, target, update
    )
    _MERGE_SQL[cache_key] = (sql, converters)
    return sql, converters


def _conflict_action(
    plans: BatchPlans, plan: TablePlan, columns: Sequence[str], target: str, update: bool
) -> str:
    """``ON CONFLICT`` of an upsert: the given columns replace the stored ones, except
    that a status never moves back in rank; without ``update``, insert-if-new."""
    updates = [f'"{c}" = excluded."{c}"' for c in columns if c not in plan.keys and c != "status"]
    if not update:
        updates = []
    elif "status" in columns:
        updates.append(
            f'"status" = CASE WHEN {_rank_sql(plans, "excluded.status")} >= '
            f"{_rank_sql(plans, f'{target}.status')} THEN excluded.status "
            f"ELSE {target}.status END"
        )
    conflict = ", ".join(f'"{k}"' for k in plan.keys)
    action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    return f"ON CONFLICT ({conflict}) {action}"
