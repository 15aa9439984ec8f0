"""Data checks: one row per result of a check run on a saved dataset.

Downgrading drops the table and leaves the rest of the journal as it was.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from waldo.store._types import JSONType, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "waldo" if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    schema = _schema()
    op.create_table(
        "check_results",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("node_name", sa.Text),
        sa.Column("dataset_name", sa.Text, nullable=False),
        sa.Column("dataset_version", sa.String(64)),
        sa.Column("expectation", sa.Text, nullable=False),
        sa.Column("kwargs", JSONType),
        sa.Column("suite", sa.Text),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("observed_value", JSONType),
        sa.Column("unexpected_count", sa.BigInteger),
        sa.Column("unexpected_values", JSONType),
        sa.Column("error", sa.Text),
        sa.Column("on_failure", sa.String(8)),
        sa.Column("duration_s", sa.Float),
        sa.Column("checked_at", UTCDateTime, nullable=False),
        schema=schema,
    )
    op.create_index("ix_check_results_run_id", "check_results", ["run_id"], schema=schema)


def downgrade() -> None:
    schema = _schema()
    op.drop_index("ix_check_results_run_id", table_name="check_results", schema=schema)
    op.drop_table("check_results", schema=schema)
