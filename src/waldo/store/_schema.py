"""The journal's tables, as SQLAlchemy Core metadata.

This module is the single description of the schema used by queries; the Alembic
migrations in ``migrations/versions`` create the same tables (a test compares them).
Tables carry no schema name: on PostgreSQL they live in the ``waldo`` schema through a
schema translate map, on SQLite in the main database.

Delivery is exactly-once: every batch the writer forms has a batch id recorded in
``write_batches`` in the same transaction as its rows, so a replayed batch that was
already committed is skipped whole; snapshots are content-addressed and ``runs`` and
``node_runs`` rows are merged by key.
"""

from __future__ import annotations

import sqlalchemy as sa

from waldo.store._types import JSONType, UTCDateTime

PG_SCHEMA = "waldo"

metadata = sa.MetaData()

runs = sa.Table(
    "runs",
    metadata,
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
    # 0002: last change of a DPO execution (init, steps, completion), database clock.
    sa.Column("updated_at", UTCDateTime),
    sa.Index("ix_runs_started_at", "started_at"),
    sa.Index("ix_runs_status", "status"),
)

node_runs = sa.Table(
    "node_runs",
    metadata,
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
    # 0002: rows a DPO step reports at completion (PostgreSQL BIGINT range).
    sa.Column("rows_processed", sa.BigInteger),
    sa.Column("code_hash", sa.String(64)),
    sa.Column("params_hashes", JSONType),
    sa.Column("input_versions", JSONType),
    sa.Column("output_versions", JSONType),
    sa.Column("reason", sa.Text),
    sa.Index("ix_node_runs_run_id", "run_id"),
    sa.Index("ix_node_runs_node_name", "node_name"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("target_id", sa.String(8)),
    sa.Column("target_name", sa.Text),
    sa.Column("timestamp", UTCDateTime, nullable=False),
    sa.Column("duration_s", sa.Float),
    # On SQLite an index here would cost a fifth of the write throughput; queries by
    # run use node_runs and dataset_accesses there. PostgreSQL gets the index.
    sa.Index("ix_events_run_id", "run_id").ddl_if(dialect="postgresql"),
)

catalogs = sa.Table(
    "catalogs",
    metadata,
    sa.Column("full_hash", sa.String(64), primary_key=True),
    sa.Column("hash", sa.String(8), nullable=False),
    sa.Column("content", JSONType, nullable=False),
    sa.Index("ix_catalogs_hash", "hash"),
)

pipelines = sa.Table(
    "pipelines",
    metadata,
    sa.Column("full_hash", sa.String(64), primary_key=True),
    sa.Column("hash", sa.String(8), nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("content", JSONType, nullable=False),
    sa.Index("ix_pipelines_hash", "hash"),
)

#: 0002: the model files of a DPO step (an execution's node run) and their checksums.
#: ``model_name`` is unique per step: the file stem by default, or the relative path.
model_checksums = sa.Table(
    "model_checksums",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column(
        "step_id",
        sa.String(32),
        sa.ForeignKey("node_runs.id", ondelete="CASCADE", name="fk_model_checksums_step_id"),
        nullable=False,
    ),
    sa.Column("model_name", sa.Text, nullable=False),
    sa.Column("relative_path", sa.Text, nullable=False),
    sa.Column("checksum", sa.String(128), nullable=False),
    sa.Column("algorithm", sa.String(16), nullable=False),
    sa.Column("size_bytes", sa.BigInteger),
    sa.Column("modified_at", UTCDateTime),
    sa.UniqueConstraint("step_id", "model_name", name="uq_model_checksums_step_model"),
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
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
    sa.Column("stats", JSONType),  # 0004: rows, columns, nulls, min/max, size
    sa.Index("ix_dataset_versions_dataset", "dataset_name", "recorded_at"),
    sa.Index("ix_dataset_versions_run_id", "run_id"),
)

write_batches = sa.Table(
    "write_batches",
    metadata,
    sa.Column("batch_id", sa.String(32), primary_key=True),
    sa.Column("written_at", UTCDateTime, nullable=False),
    sa.Column("records", sa.Integer, nullable=False),
)

#: 0005: the results store of the original plugin. ``samples`` only needs an ``id``
#: (the rest of a sample's columns go to ``data``); a ``contexts`` row says which run,
#: algorithm and parameters produced a set of ``outlier_score`` rows.
samples = sa.Table(
    "samples",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("data", JSONType),
)

contexts = sa.Table(
    "contexts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String(64)),
    sa.Column("algorithm", sa.Text, nullable=False),
    sa.Column("parameters", sa.Text),
    sa.Column("dataset_name", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_contexts_run_id", "run_id"),
    sa.Index("ix_contexts_algorithm", "algorithm"),
)

outlier_score = sa.Table(
    "outlier_score",
    metadata,
    # No foreign key to contexts: its per-row check would cost most of a COPY's time,
    # and the journal writes a context and its scores in one transaction anyway.
    sa.Column("context_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sample_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("score", sa.Float),
    sa.Column("prediction", sa.Boolean),
)

#: 0007: one row per result of a data check (a Great Expectations expectation run on the
#: value a node saved, or at the end of the run: ``node_name`` is then NULL).
#: ``success`` is false for a check that could not run, and ``error`` says why;
#: ``duration_s`` is the time of the validation the result came from (a dataset's
#: expectations run together). ``dataset_version`` is the saved version when the
#: recorder knew it; queries fall back on the run's ``dataset_versions`` save.
check_results = sa.Table(
    "check_results",
    metadata,
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
    sa.Index("ix_check_results_run_id", "run_id"),
)

#: 0006: the collectors' domain layer, with Apache DevLake's table and column names so
#: DevLake-style queries and dashboards work on Waldo's store. Every domain row remembers
#: where it came from (``_raw_data_*``), which is how a full collection replaces exactly
#: what the previous collection of the same scope wrote.
#: ``result`` is SUCCESS, FAILURE, ABORT or MANUAL (empty while running); ``status`` is
#: DONE, IN_PROGRESS, MANUAL or OTHER; ``original_*`` keep the tool's own words.


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
    """The columns pipelines and tasks share."""
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


cicd_scopes = sa.Table(
    "cicd_scopes",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("name", sa.String(255)),
    sa.Column("description", sa.Text),
    sa.Column("url", sa.String(255)),
    sa.Column("created_date", UTCDateTime),
    sa.Column("updated_date", UTCDateTime),
    *_provenance(),
)

cicd_pipelines = sa.Table(
    "cicd_pipelines",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    *_run_columns(),
    sa.Column("display_title", sa.Text),
    sa.Column("url", sa.Text),
    *_provenance(),
    sa.Index("ix_cicd_pipelines_cicd_scope_id", "cicd_scope_id"),
    sa.Index("ix_cicd_pipelines_started_date", "started_date"),
)

cicd_tasks = sa.Table(
    "cicd_tasks",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("pipeline_id", sa.String(255)),
    *_run_columns(),
    *_provenance(),
    sa.Index("ix_cicd_tasks_pipeline_id", "pipeline_id"),
    sa.Index("ix_cicd_tasks_cicd_scope_id", "cicd_scope_id"),
)

cicd_pipeline_commits = sa.Table(
    "cicd_pipeline_commits",
    metadata,
    sa.Column("pipeline_id", sa.String(255), primary_key=True),
    sa.Column("commit_sha", sa.String(255), primary_key=True),
    sa.Column("commit_msg", sa.Text),
    sa.Column("branch", sa.String(255)),
    sa.Column("repo_id", sa.String(255)),
    sa.Column("repo_url", sa.Text),
    sa.Column("display_title", sa.Text),
    sa.Column("url", sa.Text),
    *_provenance(),
    sa.Index("ix_cicd_pipeline_commits_repo_id", "repo_id"),
)

#: DevLake's cross-domain ``users`` (the seed's example plugin converts into it).
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("email", sa.String(255)),
    sa.Column("name", sa.String(255)),
    *_provenance(),
)

#: 0008: DevLake's code domain, so CI/CD runs join the pull requests that triggered them
#: (``cicd_pipeline_commits.commit_sha`` = ``pull_requests.head_commit_sha``, or a row of
#: ``pull_request_commits``). ``pull_requests.status`` is OPEN, CLOSED or MERGED.
repos = sa.Table(
    "repos",
    metadata,
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
)

commits = sa.Table(
    "commits",
    metadata,
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
)

pull_requests = sa.Table(
    "pull_requests",
    metadata,
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
    sa.Index("ix_pull_requests_base_repo_id", "base_repo_id"),
    sa.Index("ix_pull_requests_head_commit_sha", "head_commit_sha"),
)

pull_request_commits = sa.Table(
    "pull_request_commits",
    metadata,
    sa.Column("commit_sha", sa.String(40), primary_key=True),
    sa.Column("pull_request_id", sa.String(255), primary_key=True),
    sa.Column("commit_author_name", sa.String(255)),
    sa.Column("commit_author_email", sa.String(255)),
    sa.Column("commit_authored_date", UTCDateTime),
    *_provenance(),
)

#: The last state a collector stream yielded, per plugin, connection, stream and scope;
#: written in the same transaction as the raw rows it covers.
collector_state = sa.Table(
    "collector_state",
    metadata,
    sa.Column("plugin", sa.String(64), primary_key=True),
    sa.Column("connection_id", sa.String(64), primary_key=True),
    sa.Column("stream", sa.String(128), primary_key=True),
    sa.Column("scope_id", sa.String(255), primary_key=True),
    sa.Column("state", JSONType, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

#: The domain tables collectors write, by name.
DOMAIN_TABLES: dict[str, sa.Table] = {
    t.name: t
    for t in (
        cicd_scopes,
        cicd_pipelines,
        cicd_tasks,
        cicd_pipeline_commits,
        users,
        repos,
        commits,
        pull_requests,
        pull_request_commits,
    )
}

#: How rows of each table are written. ``append`` tables take positional tuples in
#: ``writable_columns`` order and rely on the batch marker for exactly-once delivery;
#: ``ignore`` tables are content-addressed; ``merge`` tables take partial dicts merged
#: into one row per key, with a status that only moves forward.
WRITE_MODES: dict[str, str] = {
    "events": "append",
    "dataset_versions": "append",
    "catalogs": "ignore",
    "pipelines": "ignore",
    "runs": "merge",
    "node_runs": "merge",
    "check_results": "append",
}

CONFLICT_KEYS: dict[str, tuple[str, ...]] = {
    "catalogs": ("full_hash",),
    "pipelines": ("full_hash",),
    "runs": ("run_id",),
    "node_runs": ("id",),
    "write_batches": ("batch_id",),  # a batch's exactly-once marker, claimed once
}

#: Tables whose integer ``id`` the database generates.
DATABASE_IDS = frozenset({"events", "dataset_versions", "check_results"})


def writable_columns(table_name: str) -> tuple[str, ...]:
    """The columns a client supplies for a table, in tuple order."""
    table = metadata.tables[table_name]
    return tuple(
        c.name for c in table.columns if not (table_name in DATABASE_IDS and c.name == "id")
    )


#: Status order: a merge never moves a status backwards.
STATUS_RANK: dict[str, int] = {"pending": 0, "running": 1, "interrupted": 2}
TERMINAL_RANK = 3
