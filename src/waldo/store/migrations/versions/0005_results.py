"""The results store: ``samples``, ``contexts`` and ``outlier_score``.

The original plugin's result tables: a model's per-sample output (score, prediction)
saved under a context (the run, the algorithm and its parameters). Downgrading drops
the three tables and leaves the run journal as it was.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from waldo.store._types import JSONType, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "waldo" if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    schema = _schema()
    op.create_table(
        "samples",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("data", JSONType),
        schema=schema,
    )
    op.create_table(
        "contexts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(64)),
        sa.Column("algorithm", sa.Text, nullable=False),
        sa.Column("parameters", sa.Text),
        sa.Column("dataset_name", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        schema=schema,
    )
    op.create_index("ix_contexts_run_id", "contexts", ["run_id"], schema=schema)
    op.create_index("ix_contexts_algorithm", "contexts", ["algorithm"], schema=schema)
    op.create_table(
        "outlier_score",
        sa.Column("context_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sample_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("score", sa.Float),
        sa.Column("prediction", sa.Boolean),
        schema=schema,
    )


def downgrade() -> None:
    schema = _schema()
    op.drop_table("outlier_score", schema=schema)
    op.drop_index("ix_contexts_algorithm", table_name="contexts", schema=schema)
    op.drop_index("ix_contexts_run_id", table_name="contexts", schema=schema)
    op.drop_table("contexts", schema=schema)
    op.drop_table("samples", schema=schema)
