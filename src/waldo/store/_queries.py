"""Read queries over the journal, returning plain dictionaries.

The journal layer turns these into its domain objects; nothing here knows about Kedro.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from waldo.store._schema import (
    catalogs,
    dataset_versions,
    events,
    node_runs,
    pipelines,
    runs,
)


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


def last_heard(conn: Connection, run_ids: Sequence[str]) -> dict[str, datetime]:
    """When the journal last heard from each run: the latest of its start, its
    heartbeat, its node runs' starts and ends and its events."""
    ids = list(run_ids)
    if not ids:
        return {}
    moments = [
        sa.select(runs.c.run_id, runs.c.started_at).where(runs.c.run_id.in_(ids)),
        sa.select(runs.c.run_id, runs.c.heartbeat_at).where(runs.c.run_id.in_(ids)),
        sa.select(node_runs.c.run_id, sa.func.max(node_runs.c.started_at))
        .where(node_runs.c.run_id.in_(ids))
        .group_by(node_runs.c.run_id),
        sa.select(node_runs.c.run_id, sa.func.max(node_runs.c.finished_at))
        .where(node_runs.c.run_id.in_(ids))
        .group_by(node_runs.c.run_id),
        sa.select(events.c.run_id, sa.func.max(events.c.timestamp))
        .where(events.c.run_id.in_(ids))
        .group_by(events.c.run_id),
    ]
    latest: dict[str, datetime] = {}
    for query in moments:
        for run_id, moment in conn.execute(query):
            if moment is not None and (run_id not in latest or moment > latest[run_id]):
                latest[run_id] = moment
    return latest


def mark_interrupted(conn: Connection, finished: Mapping[str, datetime | None]) -> int:
    """Mark running runs ``interrupted``, each ending when it was last heard from."""
    if not finished:
        return 0
    statement = (
        sa.update(runs)
        .where(runs.c.run_id == sa.bindparam("target"), runs.c.status == "running")
        .values(
            status="interrupted",
            finished_at=sa.func.coalesce(
                sa.bindparam("last_heard", type_=runs.c.finished_at.type),
                runs.c.heartbeat_at,
                runs.c.started_at,
            ),
            error_message="the process stopped without ending the run (killed or crashed)",
        )
    )
    params = [{"target": run_id, "last_heard": when} for run_id, when in finished.items()]
    result = conn.execute(statement, params)
    return int(result.rowcount or 0)


def count_rows(conn: Connection, table: sa.Table, run_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if run_id is not None:
        query = query.where(table.c.run_id == run_id)
    return int(conn.execute(query).scalar() or 0)


def _data_branch() -> sa.ColumnElement[Any]:
    """A run's data branch (NULL on main): ``run_params.data_branch``, or for runs
    recorded before it was, the ``waldo_branch``/``dolt_branch`` runtime parameter."""
    return sa.func.nullif(
        sa.func.coalesce(
            runs.c.run_params["data_branch"].as_string(),
            runs.c.runtime_params["waldo_branch"].as_string(),
            runs.c.runtime_params["dolt_branch"].as_string(),
        ),
        "",
    )


def _runs_on(project: str | None, branch: str | None) -> sa.Select[Any]:
    """The ids of a project's runs on data branch ``branch`` (on main when None)."""
    data_branch = _data_branch()
    on = data_branch.is_(None) if branch is None else data_branch == branch
    query = sa.select(runs.c.run_id).where(on)
    return query.where(runs.c.project == project) if project is not None else query


def _latest_successes(
    conn: Connection, run_ids: sa.Select[Any], node_names: Sequence[str] | None
) -> list[dict[str, Any]]:
    """Each node's latest successful node run among ``run_ids``, with its run's
    ``catalog_hash`` and ``project_path``. Ranked on narrow columns (an index holds
    them all), then only the latest are read whole: a journal keeps many runs of each
    node, each with its fingerprints."""
    rank = (
        sa.func.row_number()
        .over(partition_by=node_runs.c.node_name, order_by=node_runs.c.finished_at.desc())
        .label("rank")
    )
    ranked = sa.select(node_runs.c.id, rank).where(
        node_runs.c.status == "success", node_runs.c.run_id.in_(run_ids.scalar_subquery())
    )
    if node_names is not None:
        ranked = ranked.where(node_runs.c.node_name.in_(list(node_names)))
    latest = ranked.subquery()
    query = (
        sa.select(node_runs, runs.c.catalog_hash, runs.c.project_path)
        .select_from(
            node_runs.join(latest, latest.c.id == node_runs.c.id).join(
                runs, runs.c.run_id == node_runs.c.run_id
            )
        )
        .where(latest.c.rank == 1)
    )
    return _dicts(conn.execute(query))


def last_successful_node_runs(
    conn: Connection,
    project: str | None,
    node_names: Sequence[str] | None = None,
    branch: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """For each node name, its most recent successful run within a project: on data
    branch ``branch`` first, then on main (on main only when ``branch`` is None)."""
    found: dict[str, list[dict[str, Any]]] = {}
    sides = [branch, None] if branch is not None else [None]
    for side in sides:
        for row in _latest_successes(conn, _runs_on(project, side), node_names):
            found.setdefault(row["node_name"], []).append(row)
    return found


def catalog_snapshots(conn: Connection, full_hashes: Sequence[str]) -> dict[str, Any]:
    """The content of the catalog snapshots with these hashes."""
    if not full_hashes:
        return {}
    query = sa.select(catalogs.c.full_hash, catalogs.c.content).where(
        catalogs.c.full_hash.in_(list(full_hashes))
    )
    return {str(full_hash): content for full_hash, content in conn.execute(query)}


def latest_dataset_versions(
    conn: Connection,
    project: str | None,
    dataset_names: Sequence[str],
    branch: str | None = None,
) -> dict[str, str | None]:
    """The most recently recorded version of each dataset (load or save), per project:
    on data branch ``branch`` when it has one there, else on main."""
    found: dict[str, str | None] = {}
    sides = [branch, None] if branch is not None else [None]
    for side in sides:
        wanted = [name for name in dataset_names if name not in found]
        if not wanted:
            break
        rank = (
            sa.func.row_number()
            .over(
                partition_by=dataset_versions.c.dataset_name,
                order_by=(dataset_versions.c.recorded_at.desc(), dataset_versions.c.id.desc()),
            )
            .label("rank")
        )
        inner = sa.select(dataset_versions.c.dataset_name, dataset_versions.c.version, rank).where(
            dataset_versions.c.dataset_name.in_(wanted),
            dataset_versions.c.run_id.in_(_runs_on(project, side).scalar_subquery()),
        )
        sub = inner.subquery()
        rows = conn.execute(sa.select(sub.c.dataset_name, sub.c.version).where(sub.c.rank == 1))
        found.update({str(name): version for name, version in rows})
    return found


def dataset_versions_of(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    query = (
        sa.select(dataset_versions)
        .where(dataset_versions.c.run_id == run_id)
        .order_by(dataset_versions.c.recorded_at, dataset_versions.c.id)
    )
    return _dicts(conn.execute(query))


# -- browsing (the web page, reports, exports) ------------------------------------------


def _like_json_string(text: sa.ColumnElement[Any], value: str) -> sa.ColumnElement[bool]:
    """Whether the JSON text ``text`` holds the string ``value`` (as ``"value"``)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return text.like(f'%"{escaped}"%', escape="\\")


def _json_text_at(
    column: sa.Column[Any], path: Sequence[str], dialect: str
) -> sa.ColumnElement[Any]:
    """The JSON text of the value at ``path`` in a JSON column (NULL when absent).

    SQLite's ``->`` and PostgreSQL's ``#>`` (cast to text) both render a number as
    ``0.1``, a string as ``"x"``, a list as ``["a","b"]`` (PostgreSQL adds spaces).
    """
    if dialect == "postgresql":
        keys = sa.cast(sa.literal(list(path), ARRAY(sa.Text)), ARRAY(sa.Text))
        return sa.cast(column.op("#>")(keys), sa.Text)
    quoted = "".join('."' + key.replace('"', '""') + '"' for key in path)
    return column.op("->")(sa.literal("$" + quoted, sa.Text))


def _filtered_runs(
    query: sa.Select[Any],
    *,
    status: str | None = None,
    pipeline: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str | None = None,
    tag: str | None = None,
    param: tuple[str, str] | None = None,
    dialect: str = "sqlite",
) -> sa.Select[Any]:
    """Apply the run list's filters in SQL, so a page of 10,000 runs costs one index scan.

    ``pipeline_names`` is a JSON list (text on SQLite, jsonb on PostgreSQL); its text
    form contains ``"name"`` exactly when the list holds that name. ``tag`` matches the
    run's ``--tags`` (``run_params.tags``); ``param`` is (dotted key, value) matched
    against ``runtime_params`` as a number or a string.
    """
    if status:
        query = query.where(runs.c.status == status)
    if pipeline:
        query = query.where(_like_json_string(sa.cast(runs.c.pipeline_names, sa.Text), pipeline))
    if since is not None:
        query = query.where(runs.c.started_at >= since)
    if until is not None:
        query = query.where(runs.c.started_at < until)
    if kind:
        query = query.where(runs.c.kind == kind)
    if tag:
        tags = _json_text_at(runs.c.run_params, ["tags"], dialect)
        query = query.where(_like_json_string(tags, tag))
    if param is not None:
        key, value = param
        found = _json_text_at(runs.c.runtime_params, key.split("."), dialect)
        query = query.where(found.in_([value, json.dumps(value)]))
    return query


def runs_page(
    conn: Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    status: str | None = None,
    pipeline: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str | None = None,
    tag: str | None = None,
    param: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One page of runs, newest first, each with counts of its node runs by status.

    Offset paging walks the ``started_at`` index: a page deep into 10,000 runs stays a
    few milliseconds, and unlike a keyset cursor it needs no exact timestamp round trip.
    """
    query = _filtered_runs(
        sa.select(runs),
        status=status,
        pipeline=pipeline,
        since=since,
        until=until,
        kind=kind,
        tag=tag,
        param=param,
        dialect=conn.dialect.name,
    )
    query = query.order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
    rows = _dicts(conn.execute(query.limit(limit).offset(offset)))
    counts = node_counts(conn, [r["run_id"] for r in rows])
    for row in rows:
        row.update(
            counts.get(row["run_id"], {"nodes_ok": 0, "nodes_failed": 0, "nodes_skipped": 0})
        )
    return rows


def node_counts(conn: Connection, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Node runs by status for a few runs (only those: never the whole table)."""
    if not run_ids:
        return {}
    query = (
        sa.select(node_runs.c.run_id, node_runs.c.status, sa.func.count().label("n"))
        .where(node_runs.c.run_id.in_(list(run_ids)))
        .group_by(node_runs.c.run_id, node_runs.c.status)
    )
    names = {"success": "nodes_ok", "failed": "nodes_failed", "skipped": "nodes_skipped"}
    out: dict[str, dict[str, int]] = {}
    for run_id, status, n in conn.execute(query):
        entry = out.setdefault(run_id, {"nodes_ok": 0, "nodes_failed": 0, "nodes_skipped": 0})
        if status in names:
            entry[names[status]] = int(n)
    return out


def count_runs(
    conn: Connection,
    *,
    status: str | None = None,
    pipeline: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str | None = None,
    tag: str | None = None,
    param: tuple[str, str] | None = None,
) -> int:
    query = _filtered_runs(
        sa.select(sa.func.count()).select_from(runs),
        status=status,
        pipeline=pipeline,
        since=since,
        until=until,
        kind=kind,
        tag=tag,
        param=param,
        dialect=conn.dialect.name,
    )
    return int(conn.execute(query).scalar() or 0)


def run_durations(
    conn: Connection,
    *,
    limit: int = 200,
    status: str | None = None,
    pipeline: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: str | None = None,
    tag: str | None = None,
    param: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The newest ``limit`` runs' id, status and times, for a duration trend."""
    query = _filtered_runs(
        sa.select(runs.c.run_id, runs.c.status, runs.c.started_at, runs.c.finished_at),
        status=status,
        pipeline=pipeline,
        since=since,
        until=until,
        kind=kind,
        tag=tag,
        param=param,
        dialect=conn.dialect.name,
    )
    query = query.order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(limit)
    return _dicts(conn.execute(query))


def pipeline_name_lists(conn: Connection) -> list[Any]:
    """Every distinct ``pipeline_names`` value (a few lists, even over many runs)."""
    text = sa.cast(runs.c.pipeline_names, sa.Text)
    return [row[0] for row in conn.execute(sa.select(text).distinct())]


def pipeline_snapshot(conn: Connection, full_hash: str) -> dict[str, Any] | None:
    """The content of a stored pipeline snapshot (nodes with inputs and outputs)."""
    row = conn.execute(sa.select(pipelines.c.content).where(pipelines.c.full_hash == full_hash))
    content = row.scalar()
    return dict(content) if isinstance(content, dict) else None


def catalog_snapshot(conn: Connection, full_hash: str) -> dict[str, Any] | None:
    """The content of a stored catalog snapshot (each dataset's type and location)."""
    row = conn.execute(sa.select(catalogs.c.content).where(catalogs.c.full_hash == full_hash))
    content = row.scalar()
    return dict(content) if isinstance(content, dict) else None


def run_ids_between(
    conn: Connection, since: datetime | None = None, until: datetime | None = None
) -> list[str]:
    """Run ids in start order (oldest first), for exports."""
    query = _filtered_runs(sa.select(runs.c.run_id), since=since, until=until)
    query = query.order_by(runs.c.started_at, runs.c.run_id)
    return [str(v) for v in conn.execute(query).scalars()]


# -- the web page's charts and run facts ---------------------------------------------------


def run_kinds(conn: Connection) -> list[str]:
    """Every kind of run in the journal (kedro, dpo, collected...), sorted."""
    return sorted(str(v) for v in conn.execute(sa.select(runs.c.kind).distinct()).scalars())


def run_last_activity(conn: Connection, run_id: str) -> datetime | None:
    """The last moment a run is known to have been alive: its heartbeat, a node start
    or end, a dataset recorded (what an interrupted run's duration runs up to)."""
    moments = [
        sa.select(sa.func.max(runs.c.heartbeat_at)).where(runs.c.run_id == run_id),
        sa.select(sa.func.max(node_runs.c.started_at)).where(node_runs.c.run_id == run_id),
        sa.select(sa.func.max(node_runs.c.finished_at)).where(node_runs.c.run_id == run_id),
        sa.select(sa.func.max(dataset_versions.c.recorded_at)).where(
            dataset_versions.c.run_id == run_id
        ),
    ]
    found = [conn.execute(q).scalar() for q in moments]
    values = [v for v in found if v is not None]
    return max(values) if values else None


def node_history(
    conn: Connection,
    project: str | None,
    node_name: str,
    limit: int = 50,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """A node's last ``limit`` runs in a project (of runs started by ``until``), newest
    first, each with its run's start and the statistics of what the node saved
    (``stats``: a list per row)."""
    query = (
        sa.select(
            node_runs.c.run_id,
            node_runs.c.status,
            runs.c.started_at,
            node_runs.c.duration_s,
        )
        .select_from(node_runs.join(runs, runs.c.run_id == node_runs.c.run_id))
        .where(node_runs.c.node_name == node_name)
        .order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
        .limit(limit)
    )
    if project is not None:
        query = query.where(runs.c.project == project)
    if until is not None:
        query = query.where(runs.c.started_at <= until)
    rows = _dicts(conn.execute(query))
    saves = sa.select(dataset_versions.c.run_id, dataset_versions.c.stats).where(
        dataset_versions.c.run_id.in_([r["run_id"] for r in rows]),
        dataset_versions.c.node_name == node_name,
        dataset_versions.c.operation == "save",
    )
    stats: dict[str, list[Any]] = {}
    for run_id, value in conn.execute(saves):
        stats.setdefault(run_id, []).append(value)
    for row in rows:
        row["stats"] = stats.get(row["run_id"], [])
    return rows


def dataset_saves(
    conn: Connection,
    project: str | None,
    dataset_names: Sequence[str],
    limit: int = 50,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """The last ``limit`` saves by ``until`` of each dataset in a project (run, time,
    statistics), newest first per dataset: one windowed query for many datasets."""
    if not dataset_names:
        return []
    rank = (
        sa.func.row_number()
        .over(
            partition_by=dataset_versions.c.dataset_name,
            order_by=(dataset_versions.c.recorded_at.desc(), dataset_versions.c.id.desc()),
        )
        .label("rank")
    )
    inner = (
        sa.select(
            dataset_versions.c.dataset_name,
            dataset_versions.c.run_id,
            dataset_versions.c.recorded_at,
            dataset_versions.c.stats,
            rank,
        )
        .select_from(dataset_versions.join(runs, runs.c.run_id == dataset_versions.c.run_id))
        .where(
            dataset_versions.c.dataset_name.in_(list(dataset_names)),
            dataset_versions.c.operation == "save",
        )
    )
    if project is not None:
        inner = inner.where(runs.c.project == project)
    if until is not None:
        inner = inner.where(dataset_versions.c.recorded_at <= until)
    sub = inner.subquery()
    query = (
        sa.select(sub.c.dataset_name, sub.c.run_id, sub.c.recorded_at, sub.c.stats)
        .where(sub.c.rank <= limit)
        .order_by(sub.c.dataset_name, sub.c.rank)
    )
    return _dicts(conn.execute(query))
