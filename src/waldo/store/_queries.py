"""Read queries over the journal, returning plain dictionaries.

The journal layer turns these into its domain objects; nothing here knows about Kedro.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from waldo.store._schema import dataset_versions, events, node_runs, runs


def _dicts(result: sa.CursorResult[Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in result]


def list_runs(
    conn: Connection,
    *,
    limit: int = 20,
    status: str | None = None,
    pipeline: str | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """Most recent runs first, each with counts of its node runs by status."""
    counts = (
        sa.select(
            node_runs.c.run_id,
            sa.func.sum(sa.case((node_runs.c.status == "success", 1), else_=0)).label("nodes_ok"),
            sa.func.sum(sa.case((node_runs.c.status == "failed", 1), else_=0)).label(
                "nodes_failed"
            ),
            sa.func.sum(sa.case((node_runs.c.status == "skipped", 1), else_=0)).label(
                "nodes_skipped"
            ),
        )
        .group_by(node_runs.c.run_id)
        .subquery()
    )
    query = (
        sa.select(runs, counts.c.nodes_ok, counts.c.nodes_failed, counts.c.nodes_skipped)
        .select_from(runs.outerjoin(counts, counts.c.run_id == runs.c.run_id))
        .order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(runs.c.status == status)
    if kind:
        query = query.where(runs.c.kind == kind)
    rows = _dicts(conn.execute(query))
    if pipeline:
        rows = [r for r in rows if pipeline in (r.get("pipeline_names") or [])]
    for row in rows:
        for key in ("nodes_ok", "nodes_failed", "nodes_skipped"):
            row[key] = int(row[key] or 0)
    return rows


def get_run(conn: Connection, run_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).first()
    return dict(row._mapping) if row else None


def latest_run_id(conn: Connection) -> str | None:
    value = conn.execute(
        sa.select(runs.c.run_id).order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(1)
    ).scalar()
    return str(value) if value is not None else None


def run_ids_with_prefix(conn: Connection, prefix: str, limit: int = 5) -> list[str]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = (
        sa.select(runs.c.run_id)
        .where(runs.c.run_id.like(escaped + "%", escape="\\"))
        .order_by(runs.c.run_id)
        .limit(limit)
    )
    return [str(v) for v in conn.execute(query).scalars()]


def node_runs_of(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    query = (
        sa.select(node_runs)
        .where(node_runs.c.run_id == run_id)
        .order_by(node_runs.c.started_at, node_runs.c.node_name)
    )
    return _dicts(conn.execute(query))


def events_of(
    conn: Connection, run_id: str, event_types: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    query = sa.select(events).where(events.c.run_id == run_id).order_by(events.c.timestamp)
    if event_types:
        query = query.where(events.c.event_type.in_(list(event_types)))
    return _dicts(conn.execute(query))


def running_runs(conn: Connection) -> list[dict[str, Any]]:
    query = sa.select(
        runs.c.run_id,
        runs.c.host,
        runs.c.pid,
        runs.c.started_at,
        runs.c.heartbeat_at,
        runs.c.lease_seconds,
    ).where(
        runs.c.status == "running",
        # DPO executions have no process to watch: they end with complete-execution.
        runs.c.kind != "dpo",
    )
    return _dicts(conn.execute(query))


def mark_interrupted(conn: Connection, run_ids: Sequence[str], when: datetime) -> int:
    if not run_ids:
        return 0
    result = conn.execute(
        sa.update(runs)
        .where(runs.c.run_id.in_(list(run_ids)), runs.c.status == "running")
        .values(
            status="interrupted",
            finished_at=sa.func.coalesce(runs.c.heartbeat_at, runs.c.started_at),
            error_message="the process stopped without ending the run (killed or crashed)",
        )
    )
    return int(result.rowcount or 0)


def touch_heartbeat(conn: Connection, run_ids: Sequence[str], when: datetime) -> None:
    if run_ids:
        conn.execute(
            sa.update(runs)
            .where(runs.c.run_id.in_(list(run_ids)), runs.c.status == "running")
            .values(heartbeat_at=when)
        )


def count_rows(conn: Connection, table: sa.Table, run_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if run_id is not None:
        query = query.where(table.c.run_id == run_id)
    return int(conn.execute(query).scalar() or 0)


def last_successful_node_runs(
    conn: Connection, project: str | None, node_names: Sequence[str] | None = None
) -> dict[str, dict[str, Any]]:
    """For each node name, its most recent successful run within a project."""
    rank = (
        sa.func.row_number()
        .over(partition_by=node_runs.c.node_name, order_by=node_runs.c.finished_at.desc())
        .label("rank")
    )
    inner = (
        sa.select(node_runs, rank)
        .select_from(node_runs.join(runs, runs.c.run_id == node_runs.c.run_id))
        .where(node_runs.c.status == "success")
    )
    if project is not None:
        inner = inner.where(runs.c.project == project)
    if node_names is not None:
        inner = inner.where(node_runs.c.node_name.in_(list(node_names)))
    sub = inner.subquery()
    rows = _dicts(conn.execute(sa.select(sub).where(sub.c.rank == 1)))
    return {row["node_name"]: row for row in rows}


def latest_dataset_versions(
    conn: Connection, project: str | None, dataset_names: Sequence[str]
) -> dict[str, str | None]:
    """The most recently recorded version of each dataset (load or save), per project."""
    if not dataset_names:
        return {}
    rank = (
        sa.func.row_number()
        .over(
            partition_by=dataset_versions.c.dataset_name,
            order_by=(dataset_versions.c.recorded_at.desc(), dataset_versions.c.id.desc()),
        )
        .label("rank")
    )
    inner = (
        sa.select(dataset_versions.c.dataset_name, dataset_versions.c.version, rank)
        .select_from(dataset_versions.join(runs, runs.c.run_id == dataset_versions.c.run_id))
        .where(dataset_versions.c.dataset_name.in_(list(dataset_names)))
    )
    if project is not None:
        inner = inner.where(runs.c.project == project)
    sub = inner.subquery()
    rows = conn.execute(sa.select(sub.c.dataset_name, sub.c.version).where(sub.c.rank == 1))
    return {str(name): version for name, version in rows}


def dataset_versions_of(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    query = (
        sa.select(dataset_versions)
        .where(dataset_versions.c.run_id == run_id)
        .order_by(dataset_versions.c.recorded_at, dataset_versions.c.id)
    )
    return _dicts(conn.execute(query))
