"""DPO executions: model checksums of steps, rows processed, last update of a run.

An execution of the DPO commands is a ``runs`` row (``kind = 'dpo'``) and each of its
steps a ``node_runs`` row; this revision adds what they need beyond a Kedro run.
Downgrading drops the new table and columns and keeps every run and node run.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from waldo.store._types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "waldo" if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    schema = _schema()
    op.add_column("runs", sa.Column("updated_at", UTCDateTime), schema=schema)
    op.add_column("node_runs", sa.Column("rows_processed", sa.BigInteger), schema=schema)
    op.create_table(
        "model_checksums",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column(
            "step_id",
            sa.String(32),
            sa.ForeignKey(
                f"{schema}.node_runs.id" if schema else "node_runs.id",
                ondelete="CASCADE",
                name="fk_model_checksums_step_id",
            ),
            nullable=False,
        ),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("relative_path", sa.Text, nullable=False),
        sa.Column("checksum", sa.String(128), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("modified_at", UTCDateTime),
        sa.UniqueConstraint("step_id", "model_name", name="uq_model_checksums_step_model"),
        schema=schema,
    )


def downgrade() -> None:
    schema = _schema()
    op.drop_table("model_checksums", schema=schema)
    # SQLite 3.35+ drops a plain column in place, so no table copy is needed.
    op.drop_column("node_runs", "rows_processed", schema=schema)
    op.drop_column("runs", "updated_at", schema=schema)
