"""SQL for collectors: raw and tool tables made at runtime, domain rows, stream state.

A collector plugin declares its own tables (a raw table per stream, a tool table per
tool model); this module turns those declarations into tables in the store (in the
``waldo`` schema on PostgreSQL, through the engine's schema translate map) and does all
of their reads and writes. Every function takes a connection that is already in a
transaction, so the journal decides what commits together: raw rows with the state that
covers them, a whole extraction, a whole conversion.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from waldo._errors import CollectorError
from waldo.store._schema import (
    DOMAIN_TABLES,
    PG_SCHEMA,
    cicd_pipelines,
    cicd_tasks,
    collector_state,
    node_runs,
    runs,
)
from waldo.store._types import UTCDateTime

#: Runtime tables live in their own metadata: they are not part of the migrated schema.
_runtime = sa.MetaData()
PROVENANCE = ("_raw_data_params", "_raw_data_table", "_raw_data_id")


@dataclass(frozen=True)
class StateKey:
    """Whose state: one plugin's stream, for one connection and one scope."""

    plugin: str
    connection_id: str
    stream: str
    scope_id: str = ""


@dataclass(frozen=True)
class RawRow:
    """One raw record as stored: its id, the JSON text, and the parent's JSON (substreams)."""

    id: int
    data: str
    input: str | None


def raw_table(name: str) -> sa.Table:
    """The raw table ``name``: records exactly as collected, in collection order."""
    if name in _runtime.tables:
        return _runtime.tables[name]
    return sa.Table(
        name,
        _runtime,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("params", sa.String(255), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("input", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Index(f"ix_{name}_params", "params"),
    )


def tool_table(name: str, model_table: sa.Table) -> sa.Table:
    """The tool table ``name`` with a tool model's columns, keyed per connection.

    The model's primary key gets ``connection_id`` in front (two connections to two
    servers may both have a run 1), and the provenance columns say which raw row of
    which scope each row came from.
    """
    if name in _runtime.tables:
        return _runtime.tables[name]
    columns: list[sa.Column[Any]] = [sa.Column("connection_id", sa.String(64), primary_key=True)]
    for column in model_table.columns:
        if column.name in ("connection_id", *PROVENANCE):
            continue
        columns.append(
            sa.Column(
                column.name,
                column.type,
                primary_key=column.primary_key,
                nullable=column.nullable or column.primary_key,
            )
        )
    columns += [
        sa.Column("_raw_data_params", sa.String(255)),
        sa.Column("_raw_data_table", sa.String(255)),
        sa.Column("_raw_data_id", sa.BigInteger),
    ]
    return sa.Table(name, _runtime, *columns, sa.Index(f"ix_{name}_params", "_raw_data_params"))


def ensure_tables(conn: Connection, tables: Iterable[sa.Table]) -> None:
    """Create the runtime tables that do not exist yet, and add the columns a newer
    version of a plugin's tool model declares (nullable ones; anything else needs the
    table dropped, and the error says so)."""
    schema = PG_SCHEMA if conn.dialect.name == "postgresql" else None
    for table in tables:
        table.create(conn, checkfirst=True)
        if not _has_all_columns(conn, table):
            _add_missing_columns(conn, table, schema)


_CHECKED: set[tuple[str, int]] = set()


def _has_all_columns(conn: Connection, table: sa.Table) -> bool:
    key = (str(conn.engine.url), id(table))
    if key in _CHECKED:
        return True
    schema = PG_SCHEMA if conn.dialect.name == "postgresql" else None
    existing = {c["name"] for c in sa.inspect(conn).get_columns(table.name, schema=schema)}
    if all(c.name in existing for c in table.columns):
        _CHECKED.add(key)
        return True
    return False


def _add_missing_columns(conn: Connection, table: sa.Table, schema: str | None) -> None:
    existing = {c["name"] for c in sa.inspect(conn).get_columns(table.name, schema=schema)}
    target = f'"{schema}"."{table.name}"' if schema else f'"{table.name}"'
    for column in table.columns:
        if column.name in existing:
            continue
        if column.primary_key or not column.nullable:
            raise CollectorError(
                f"Table {table.name} lacks the key or required column {column.name} its "
                f"tool model now declares: drop {table.name} and collect again (--full)."
            )
        kind = column.type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f'ALTER TABLE {target} ADD COLUMN "{column.name}" {kind}')


def _insert(conn: Connection, table: sa.Table) -> Any:
    return pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)


def load_state(conn: Connection, key: StateKey) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(collector_state.c.state).where(
            collector_state.c.plugin == key.plugin,
            collector_state.c.connection_id == key.connection_id,
            collector_state.c.stream == key.stream,
            collector_state.c.scope_id == key.scope_id,
        )
    ).first()
    if row is None:
        return None
    state = row[0]
    return state if isinstance(state, dict) else json.loads(state)


def save_state(conn: Connection, key: StateKey, state: dict[str, Any], rows: int) -> None:
    """Upsert the stream's state; ``rows`` is added to the stream's running count."""
    values = {
        "plugin": key.plugin,
        "connection_id": key.connection_id,
        "stream": key.stream,
        "scope_id": key.scope_id,
        "state": state,
        "rows": rows,
        "updated_at": time.time(),
    }
    stmt = _insert(conn, collector_state).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["plugin", "connection_id", "stream", "scope_id"],
        set_={
            "state": stmt.excluded.state,
            "rows": collector_state.c.rows + stmt.excluded.rows,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    conn.execute(stmt)


def reset_state(conn: Connection, key: StateKey) -> None:
    conn.execute(
        sa.delete(collector_state).where(
            collector_state.c.plugin == key.plugin,
            collector_state.c.connection_id == key.connection_id,
            collector_state.c.stream == key.stream,
            collector_state.c.scope_id == key.scope_id,
        )
    )


def delete_raw(conn: Connection, table: sa.Table, params: str) -> int:
    return conn.execute(sa.delete(table).where(table.c.params == params)).rowcount or 0


def append_raw(
    conn: Connection,
    table: sa.Table,
    params: str,
    rows: Sequence[tuple[str, str | None, str | None]],
) -> None:
    """Append ``(data, url, input)`` JSON texts for one scope, in order."""
    if not rows:
        return
    now = time.time()
    conn.execute(
        sa.insert(table),
        [
            {"params": params, "data": data, "url": url, "input": parent, "created_at": now}
            for data, url, parent in rows
        ],
    )


def raw_batch(
    conn: Connection, table: sa.Table, params: str, after_id: int, limit: int
) -> list[RawRow]:
    """The next ``limit`` raw rows of a scope after ``after_id`` (keyset pagination, so
    the caller may write between batches on the same connection)."""
    result = conn.execute(
        sa.select(table.c.id, table.c.data, table.c.input)
        .where(table.c.params == params, table.c.id > after_id)
        .order_by(table.c.id)
        .limit(limit)
    )
    return [RawRow(int(r[0]), r[1], r[2]) for r in result]


def count_rows(conn: Connection, table: sa.Table, params: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if params is not None:
        column = table.c.params if "params" in table.c else table.c._raw_data_params
        query = query.where(column == params)
    return int(conn.execute(query).scalar_one())


def delete_tool_rows(conn: Connection, table: sa.Table, connection_id: str, params: str) -> int:
    result = conn.execute(
        sa.delete(table).where(
            table.c.connection_id == connection_id, table.c._raw_data_params == params
        )
    )
    return result.rowcount or 0


def tool_batch(
    conn: Connection, table: sa.Table, connection_id: str, params: str, offset: int, limit: int
) -> list[dict[str, Any]]:
    """The next ``limit`` tool rows of a scope, in primary key order."""
    result = conn.execute(
        sa.select(table)
        .where(table.c.connection_id == connection_id, table.c._raw_data_params == params)
        .order_by(*table.primary_key.columns)
        .offset(offset)
        .limit(limit)
    )
    return [dict(row._mapping) for row in result]


def upsert(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, replacing any row with the same primary key.

    Rows of one call must have distinct keys (the journal folds duplicates first). The
    statement is built once per table and the values go to the driver directly, with
    each column's own bind conversion: ``executemany`` on SQLite, ``COPY`` into a
    temporary table and one ``INSERT ... SELECT ... ON CONFLICT`` on PostgreSQL. That
    is several times faster than SQLAlchemy's per-row parameter processing, and it is
    the whole cost of extraction and conversion once records are parsed.
    """
    if not rows:
        return
    plan = _upsert_plan(conn, table)
    values = [
        tuple(
            None if (v := row.get(name)) is None else (v if fn is None else fn(v))
            for name, fn in plan.columns
        )
        for row in rows
    ]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            cursor.execute(plan.stage_sql)
            names = ", ".join(f'"{n}"' for n, _fn in plan.columns)
            with cursor.copy(f'COPY "{plan.stage}" ({names}) FROM STDIN') as copy:
                for value in values:
                    copy.write_row(value)
            cursor.execute(plan.sql)
            cursor.execute(f'DROP TABLE "{plan.stage}"')
        else:
            cursor.executemany(plan.sql, values)
    finally:
        cursor.close()


@dataclass(frozen=True)
class _UpsertPlan:
    columns: tuple[tuple[str, Any], ...]  # name, bind conversion (None: as is)
    sql: str
    stage: str = ""
    stage_sql: str = ""


_PLANS: dict[tuple[str, str, int], _UpsertPlan] = {}


def _upsert_plan(conn: Connection, table: sa.Table) -> _UpsertPlan:
    dialect = conn.dialect
    cache_key = (table.name, dialect.name, id(table))
    if cache_key in _PLANS:
        return _PLANS[cache_key]
    keys = [c.name for c in table.primary_key.columns]
    names = [c.name for c in table.columns]
    converters = tuple((c.name, c.type._cached_bind_processor(dialect)) for c in table.columns)
    quoted = ", ".join(f'"{n}"' for n in names)
    conflict = ", ".join(f'"{k}"' for k in keys)
    updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n not in keys)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    if dialect.name == "postgresql":
        stage = f"_waldo_stage_{table.name}"[:63]
        target = f'"{PG_SCHEMA}"."{table.name}"'
        plan = _UpsertPlan(
            converters,
            f'INSERT INTO {target} ({quoted}) SELECT {quoted} FROM "{stage}" '
            f"ON CONFLICT ({conflict}) {action}",
            stage,
            f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" AS SELECT {quoted} FROM {target} '
            "WITH NO DATA",
        )
    else:
        marks = ", ".join("?" for _ in names)
        plan = _UpsertPlan(
            converters,
            f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks}) '
            f"ON CONFLICT ({conflict}) {action}",
        )
    _PLANS[cache_key] = plan
    return plan


def domain_table(name: str) -> sa.Table:
    try:
        return DOMAIN_TABLES[name]
    except KeyError:
        raise ValueError(
            f"unknown domain table {name!r}; known: {', '.join(sorted(DOMAIN_TABLES))}"
        ) from None


def delete_domain_rows(conn: Connection, raw_table_name: str, params: str) -> int:
    """Delete what an earlier conversion of this raw table and scope wrote, everywhere."""
    deleted = 0
    for table in DOMAIN_TABLES.values():
        result = conn.execute(
            sa.delete(table).where(
                table.c._raw_data_table == raw_table_name, table.c._raw_data_params == params
            )
        )
        deleted += result.rowcount or 0
    return deleted


def domain_rows(conn: Connection, name: str) -> list[dict[str, Any]]:
    """Every row of a domain table, for tests and small reports."""
    table = domain_table(name)
    result = conn.execute(sa.select(table).order_by(*table.primary_key.columns))
    return [dict(row._mapping) for row in result]


def runs_with_nodes(conn: Connection, since: float | None, limit: int) -> list[dict[str, Any]]:
    """Journal runs started at or after ``since`` (epoch seconds), oldest first, each with
    a ``node_runs`` list, in two queries."""
    query = sa.select(runs).order_by(runs.c.started_at, runs.c.run_id).limit(limit)
    if since is not None:
        query = query.where(runs.c.started_at >= since)
    found = [dict(row._mapping) for row in conn.execute(query)]
    if not found:
        return []
    by_id = {run["run_id"]: run for run in found}
    for run in found:
        run["node_runs"] = []
    nodes = conn.execute(
        sa.select(node_runs)
        .where(node_runs.c.run_id.in_(list(by_id)))
        .order_by(node_runs.c.started_at, node_runs.c.id)
    )
    for row in nodes:
        node = dict(row._mapping)
        by_id[node["run_id"]]["node_runs"].append(node)
    return found


#: The prefix of the pipelines the ``waldo`` collector made of Waldo's own runs.
OWN_RUNS = "waldo:%"


def collected_pipelines(
    conn: Connection,
    limit: int,
    result: str | None = None,
    status: str | None = None,
    name: str | None = None,
) -> list[dict[str, Any]]:
    """The newest pipelines collected from other tools (not Waldo's own runs), each
    with counts of its tasks by result; optionally only those of a result, a status or
    a name."""
    tasks = (
        sa.select(
            cicd_tasks.c.pipeline_id,
            sa.func.sum(sa.case((cicd_tasks.c.result == "SUCCESS", 1), else_=0)).label("ok"),
            sa.func.sum(sa.case((cicd_tasks.c.result == "FAILURE", 1), else_=0)).label("failed"),
        )
        .group_by(cicd_tasks.c.pipeline_id)
        .subquery()
    )
    started = sa.func.coalesce(cicd_pipelines.c.started_date, cicd_pipelines.c.created_date)
    query = (
        sa.select(cicd_pipelines, tasks.c.ok, tasks.c.failed)
        .select_from(cicd_pipelines.outerjoin(tasks, tasks.c.pipeline_id == cicd_pipelines.c.id))
        .where(cicd_pipelines.c.id.not_like(OWN_RUNS))
        .order_by(started.desc(), cicd_pipelines.c.id.desc())
        .limit(limit)
    )
    for column, value in (("result", result), ("status", status), ("name", name)):
        if value is not None:
            query = query.where(cicd_pipelines.c[column] == value)
    return [dict(row._mapping) for row in conn.execute(query)]
