"""Alembic environment: Waldo always hands over an open connection."""

from __future__ import annotations

from alembic import context

from waldo.store._schema import PG_SCHEMA, metadata

connection = context.config.attributes["connection"]
schema = PG_SCHEMA if connection.dialect.name == "postgresql" else None

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table_schema=schema,
    render_as_batch=connection.dialect.name == "sqlite",
)

with context.begin_transaction():
    context.run_migrations()
