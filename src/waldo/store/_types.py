"""Column types that behave the same on SQLite and PostgreSQL.

Timestamps are ``timestamp with time zone`` on PostgreSQL. SQLite has no time type, so
there they are stored as UTC epoch seconds (``REAL``): cheap to write from the hot path
(``time.time()``), correctly ordered, and readable in SQL with
``datetime(col, 'unixepoch')``. Either way Python sees aware UTC datetimes, and accepts
datetimes or epoch floats. JSON is ``jsonb`` on PostgreSQL and text on SQLite.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from waldo.store._batch_sql import to_epoch

__all__ = ["JSONType", "PortableJSON", "UTCDateTime", "to_datetime", "to_epoch"]


def to_datetime(value: datetime | float | str) -> datetime:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        dt = datetime.fromisoformat(value)
    else:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A UTC timestamp: timestamptz on PostgreSQL, epoch seconds on SQLite."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Float())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return to_epoch(value)
        return to_datetime(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return to_datetime(value)


class PortableJSON(sa.types.TypeDecorator[Any]):
    """JSON: jsonb on PostgreSQL, JSON text on SQLite."""

    impl = sa.JSON
    cache_ok = True
    should_evaluate_none = True  # as sa.JSON: None is stored as JSON null

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        # As sa.JSON: a value compared with a JSON expression keeps its own type.
        return self.impl_instance.coerce_compared_value(op, value)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            # Imported here: SQLAlchemy's PostgreSQL dialect costs a SQLite command's
            # start-up tens of milliseconds.
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(sa.JSON())


JSONType = PortableJSON()
