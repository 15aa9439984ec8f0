"""The run journal: runs, node runs, events, snapshots and batch markers.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from waldo.store._types import JSONType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "waldo" if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    schema = _schema()
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False, server_default="kedro"),
        sa.Column("project", sa.Text),
        sa.Column("project_path", sa.Text),
        sa.Column("pipeline_names", JSONType),
        sa.Column("env", sa.String(64)),
        sa.Column("runtime_params", JSONType),
        sa.Column("run_params", JSONType),
        sa.Column("kedro_version", sa.String(32)),
        sa.Column("waldo_version", sa.String(32)),
        sa.Column("git_sha", sa.String(64)),
        sa.Column("git_dirty", sa.Boolean),
        sa.Column("user_name", sa.String(128)),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer),
        sa.Column("runner", sa.String(128)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("heartbeat_at", UTCDateTime),
        sa.Column("lease_seconds", sa.Float),
        sa.Column("error_type", sa.Text),
        sa.Column("error_message", sa.Text),
        sa.Column("traceback", sa.Text),
        sa.Column("catalog_hash", sa.String(64)),
        sa.Column("pipeline_hash", sa.String(64)),
        schema=schema,
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"], schema=schema)
    op.create_index("ix_runs_status", "runs", ["status"], schema=schema)

    op.create_table(
        "node_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("node_name", sa.Text, nullable=False),
        sa.Column("func_name", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("duration_s", sa.Float),
        sa.Column("inputs", JSONType),
        sa.Column("outputs", JSONType),
        sa.Column("error_type", sa.Text),
        sa.Column("error_message", sa.Text),
        sa.Column("traceback", sa.Text),
        sa.Column("pid", sa.Integer),
        schema=schema,
    )
    op.create_index("ix_node_runs_run_id", "node_runs", ["run_id"], schema=schema)

    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("target_id", sa.String(8)),
        sa.Column("target_name", sa.Text),
        sa.Column("timestamp", UTCDateTime, nullable=False),
        sa.Column("duration_s", sa.Float),
        schema=schema,
    )
    if schema is not None:  # PostgreSQL only: on SQLite it would cost write speed
        op.create_index("ix_events_run_id", "events", ["run_id"], schema=schema)

    op.create_table(
        "catalogs",
        sa.Column("full_hash", sa.String(64), primary_key=True),
        sa.Column("hash", sa.String(8), nullable=False),
        sa.Column("content", JSONType, nullable=False),
        schema=schema,
    )
    op.create_index("ix_catalogs_hash", "catalogs", ["hash"], schema=schema)

    op.create_table(
        "pipelines",
        sa.Column("full_hash", sa.String(64), primary_key=True),
        sa.Column("hash", sa.String(8), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("content", JSONType, nullable=False),
        schema=schema,
    )
    op.create_index("ix_pipelines_hash", "pipelines", ["hash"], schema=schema)

    op.create_table(
        "write_batches",
        sa.Column("batch_id", sa.String(32), primary_key=True),
        sa.Column("written_at", UTCDateTime, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        schema=schema,
    )


def downgrade() -> None:
    schema = _schema()
    tables = ("write_batches", "pipelines", "catalogs", "events", "node_runs", "runs")
    for table in tables:
        op.drop_table(table, schema=schema)
