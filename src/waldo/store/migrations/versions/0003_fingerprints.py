"""Fingerprints: node code/parameter/data versions and dataset versions (lineage).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from waldo.store._types import JSONType, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "waldo" if op.get_bind().dialect.name == "postgresql" else None


NODE_RUN_COLUMNS = ("code_hash", "params_hashes", "input_versions", "output_versions", "reason")


def upgrade() -> None:
    schema = _schema()
    with op.batch_alter_table("node_runs", schema=schema) as batch:
        batch.add_column(sa.Column("code_hash", sa.String(64)))
        batch.add_column(sa.Column("params_hashes", JSONType))
        batch.add_column(sa.Column("input_versions", JSONType))
        batch.add_column(sa.Column("output_versions", JSONType))
        batch.add_column(sa.Column("reason", sa.Text))
    op.create_index("ix_node_runs_node_name", "node_runs", ["node_name"], schema=schema)
    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("node_name", sa.Text),
        sa.Column("dataset_name", sa.Text, nullable=False),
        sa.Column("operation", sa.String(8), nullable=False),
        sa.Column("version", sa.String(64)),
        sa.Column("data_digest", sa.String(64)),
        sa.Column("data_kind", sa.String(64)),
        sa.Column("path", sa.Text),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        schema=schema,
    )
    op.create_index(
        "ix_dataset_versions_dataset",
        "dataset_versions",
        ["dataset_name", "recorded_at"],
        schema=schema,
    )
    op.create_index("ix_dataset_versions_run_id", "dataset_versions", ["run_id"], schema=schema)


def downgrade() -> None:
    schema = _schema()
    op.drop_table("dataset_versions", schema=schema)
    op.drop_index("ix_node_runs_node_name", table_name="node_runs", schema=schema)
    with op.batch_alter_table("node_runs", schema=schema) as batch:
        for column in reversed(NODE_RUN_COLUMNS):
            batch.drop_column(column)
