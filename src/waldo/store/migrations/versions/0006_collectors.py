"""Collectors: DevLake's CI/CD domain tables, cross-domain users and collector state.

The per-plugin raw (``_raw_<plugin>_<stream>``) and tool (``_tool_<plugin>_<name>``)
tables are not here: a plugin declares them, and the store creates them when the plugin
first runs. Downgrading drops only what this revision created.

Revision ID: 0006
Revises: 0005 (relinked onto 0005 at merge)
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from waldo.store._types import JSONType, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "waldo" if op.get_bind().dialect.name == "postgresql" else None


def _provenance() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime),
        sa.Column("updated_at", UTCDateTime),
        sa.Column("_raw_data_params", sa.String(255)),
        sa.Column("_raw_data_table", sa.String(255)),
        sa.Column("_raw_data_id", sa.BigInteger),
        sa.Column("_raw_data_remark", sa.Text),
    ]


def _run_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("name", sa.String(255)),
        sa.Column("result", sa.String(100)),
        sa.Column("status", sa.String(100)),
        sa.Column("original_result", sa.String(100)),
        sa.Column("original_status", sa.String(100)),
        sa.Column("type", sa.String(100)),
        sa.Column("environment", sa.String(255)),
        sa.Column("duration_sec", sa.Float),
        sa.Column("queued_duration_sec", sa.Float),
        sa.Column("created_date", UTCDateTime),
        sa.Column("queued_date", UTCDateTime),
        sa.Column("started_date", UTCDateTime),
        sa.Column("finished_date", UTCDateTime),
        sa.Column("cicd_scope_id", sa.String(255)),
    ]


def upgrade() -> None:
    schema = _schema()
    op.create_table(
        "cicd_scopes",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("name", sa.String(255)),
        sa.Column("description", sa.Text),
        sa.Column("url", sa.String(255)),
        sa.Column("created_date", UTCDateTime),
        sa.Column("updated_date", UTCDateTime),
        *_provenance(),
        schema=schema,
    )
    op.create_table(
        "cicd_pipelines",
        sa.Column("id", sa.String(255), primary_key=True),
        *_run_columns(),
        sa.Column("display_title", sa.Text),
        sa.Column("url", sa.Text),
        *_provenance(),
        schema=schema,
    )
    op.create_index(
        "ix_cicd_pipelines_cicd_scope_id", "cicd_pipelines", ["cicd_scope_id"], schema=schema
    )
    op.create_index(
        "ix_cicd_pipelines_started_date", "cicd_pipelines", ["started_date"], schema=schema
    )
    op.create_table(
        "cicd_tasks",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("pipeline_id", sa.String(255)),
        *_run_columns(),
        *_provenance(),
        schema=schema,
    )
    op.create_index("ix_cicd_tasks_pipeline_id", "cicd_tasks", ["pipeline_id"], schema=schema)
    op.create_index("ix_cicd_tasks_cicd_scope_id", "cicd_tasks", ["cicd_scope_id"], schema=schema)
    op.create_table(
        "cicd_pipeline_commits",
        sa.Column("pipeline_id", sa.String(255), primary_key=True),
        sa.Column("commit_sha", sa.String(255), primary_key=True),
        sa.Column("commit_msg", sa.Text),
        sa.Column("branch", sa.String(255)),
        sa.Column("repo_id", sa.String(255)),
        sa.Column("repo_url", sa.Text),
        sa.Column("display_title", sa.Text),
        sa.Column("url", sa.Text),
        *_provenance(),
        schema=schema,
    )
    op.create_index(
        "ix_cicd_pipeline_commits_repo_id", "cicd_pipeline_commits", ["repo_id"], schema=schema
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("email", sa.String(255)),
        sa.Column("name", sa.String(255)),
        *_provenance(),
        schema=schema,
    )
    op.create_table(
        "collector_state",
        sa.Column("plugin", sa.String(64), primary_key=True),
        sa.Column("connection_id", sa.String(64), primary_key=True),
        sa.Column("stream", sa.String(128), primary_key=True),
        sa.Column("scope_id", sa.String(255), primary_key=True),
        sa.Column("state", JSONType, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        schema=schema,
    )


def downgrade() -> None:
    schema = _schema()
    for table in (
        "collector_state",
        "users",
        "cicd_pipeline_commits",
        "cicd_tasks",
        "cicd_pipelines",
        "cicd_scopes",
    ):
        op.drop_table(table, schema=schema)
