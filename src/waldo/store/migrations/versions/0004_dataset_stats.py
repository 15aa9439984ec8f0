"""Dataset statistics: a JSON column on each dataset version.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from waldo.store._types import JSONType

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    return "waldo" if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    with op.batch_alter_table("dataset_versions", schema=_schema()) as batch:
        batch.add_column(sa.Column("stats", JSONType))


def downgrade() -> None:
    with op.batch_alter_table("dataset_versions", schema=_schema()) as batch:
        batch.drop_column("stats")
