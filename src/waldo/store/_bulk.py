"""Exactly-once bulk writes of journal batches through a SQLAlchemy connection.

The batch writer, the spool replay and ``Store.write`` end here; the statements
themselves are in :mod:`waldo.store._batch_sql`, which works on the driver's
connection. This module describes the journal tables to it (:func:`batch_plans`), from
the schema.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from waldo.store._batch_sql import (
    BOOL,
    FLOAT,
    INT,
    JSON,
    MARKER_TABLE,
    TEXT,
    TIME,
    BatchPlans,
    Record,
    Row,
    TablePlan,
    json_text,
    write_rows,
)
from waldo.store._schema import (
    CONFLICT_KEYS,
    PG_SCHEMA,
    STATUS_RANK,
    TERMINAL_RANK,
    WRITE_MODES,
    metadata,
    writable_columns,
)
from waldo.store._types import PortableJSON, UTCDateTime

__all__ = ["Record", "Row", "batch_plans", "json_text", "write_records"]


def _kind(column_type: sa.types.TypeEngine[object]) -> str:
    if isinstance(column_type, UTCDateTime):
        return TIME
    if isinstance(column_type, (PortableJSON, sa.JSON)):
        return JSON
    if isinstance(column_type, sa.Boolean):
        return BOOL
    if isinstance(column_type, sa.Float):
        return FLOAT
    if isinstance(column_type, sa.Integer):
        return INT
    return TEXT


@functools.cache
def batch_plans() -> BatchPlans:
    """The journal tables a batch writes (and its marker table), as plain data."""
    tables: dict[str, TablePlan] = {}
    for name in (*WRITE_MODES, MARKER_TABLE):
        table = metadata.tables[name]
        columns = tuple(str(column) for column in writable_columns(name))
        tables[name] = TablePlan(
            name=name,
            columns=columns,
            kinds=tuple(_kind(table.c[column].type) for column in columns),
            keys=CONFLICT_KEYS.get(name, ()),
            mode=WRITE_MODES.get(name, "marker"),
        )
    return BatchPlans(tables, dict(STATUS_RANK), TERMINAL_RANK, PG_SCHEMA)


def write_records(conn: Connection, records: Sequence[Record], batch_id: str | None) -> bool:
    """Write a batch inside the caller's transaction; False when it was already written."""
    dbapi_connection = conn.connection.dbapi_connection
    return write_rows(dbapi_connection, conn.dialect.name, batch_plans(), records, batch_id)
