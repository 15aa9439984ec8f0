"""Collectors: DevLake's code domain (repos, commits, pull requests and their commits).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from waldo.store._types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("pull_request_commits", "pull_requests", "commits", "repos")


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


def upgrade() -> None:
    schema = _schema()
    op.create_table(
        "repos",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("name", sa.String(255)),
        sa.Column("url", sa.String(255)),
        sa.Column("description", sa.Text),
        sa.Column("owner_id", sa.String(255)),
        sa.Column("language", sa.String(255)),
        sa.Column("forked_from", sa.String(255)),
        sa.Column("created_date", UTCDateTime),
        sa.Column("updated_date", UTCDateTime),
        sa.Column("deleted", sa.Boolean),
        *_provenance(),
        schema=schema,
    )
    op.create_table(
        "commits",
        sa.Column("sha", sa.String(40), primary_key=True),
        sa.Column("additions", sa.Integer),
        sa.Column("deletions", sa.Integer),
        sa.Column("dev_eq", sa.Integer),
        sa.Column("message", sa.Text),
        sa.Column("author_name", sa.String(255)),
        sa.Column("author_email", sa.String(255)),
        sa.Column("authored_date", UTCDateTime),
        sa.Column("author_id", sa.String(255)),
        sa.Column("committer_name", sa.String(255)),
        sa.Column("committer_email", sa.String(255)),
        sa.Column("committed_date", UTCDateTime),
        sa.Column("committer_id", sa.String(255)),
        *_provenance(),
        schema=schema,
    )
    op.create_table(
        "pull_requests",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("base_repo_id", sa.String(255)),
        sa.Column("head_repo_id", sa.String(255)),
        sa.Column("status", sa.String(100)),
        sa.Column("original_status", sa.String(100)),
        sa.Column("title", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("url", sa.String(255)),
        sa.Column("author_name", sa.String(100)),
        sa.Column("author_id", sa.String(100)),
        sa.Column("pull_request_key", sa.BigInteger),
        sa.Column("created_date", UTCDateTime),
        sa.Column("merged_date", UTCDateTime),
        sa.Column("closed_date", UTCDateTime),
        sa.Column("type", sa.String(100)),
        sa.Column("merge_commit_sha", sa.String(40)),
        sa.Column("head_ref", sa.String(255)),
        sa.Column("base_ref", sa.String(255)),
        sa.Column("head_commit_sha", sa.String(40)),
        sa.Column("base_commit_sha", sa.String(40)),
        sa.Column("is_draft", sa.Boolean),
        *_provenance(),
        schema=schema,
    )
    op.create_index(
        "ix_pull_requests_base_repo_id", "pull_requests", ["base_repo_id"], schema=schema
    )
    op.create_index(
        "ix_pull_requests_head_commit_sha", "pull_requests", ["head_commit_sha"], schema=schema
    )
    op.create_table(
        "pull_request_commits",
        sa.Column("commit_sha", sa.String(40), primary_key=True),
        sa.Column("pull_request_id", sa.String(255), primary_key=True),
        sa.Column("commit_author_name", sa.String(255)),
        sa.Column("commit_author_email", sa.String(255)),
        sa.Column("commit_authored_date", UTCDateTime),
        *_provenance(),
        schema=schema,
    )


def downgrade() -> None:
    schema = _schema()
    for table in TABLES:
        op.drop_table(table, schema=schema)
