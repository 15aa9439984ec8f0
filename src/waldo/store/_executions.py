"""Reads and writes for DPO executions (``runs`` of kind ``dpo``) and their steps.

These are short command-line processes, so unlike the Kedro hooks they write directly,
each call in the caller's transaction (``Store.run``), not through the batch writer.
Every timestamp and duration comes from the database clock: ``now()`` on PostgreSQL,
``julianday('now')`` turned into epoch seconds on SQLite (where Waldo stores
timestamps as epoch seconds, see ``_types.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from waldo.store._schema import model_checksums, node_runs, runs
from waldo.store._types import to_datetime

DPO_KIND = "dpo"
#: An execution no DPO command touched for this long is abandoned (``--lease``).
DEFAULT_LEASE_SECONDS = 6 * 3600.0
ABANDONED = "abandoned: no DPO command touched the execution within its lease"


def _now(conn: Connection) -> Any:
    """The database's current time as a value for a timestamp column."""
    if conn.dialect.name == "postgresql":
        return sa.func.now()
    return sa.literal_column("((julianday('now') - 2440587.5) * 86400.0)")


def _elapsed(conn: Connection, started: Any) -> Any:
    """Seconds from ``started`` to the database's now, computed by the database."""
    now = _now(conn)
    if conn.dialect.name == "postgresql":
        return sa.cast(sa.extract("epoch", now - started), sa.Float)
    return now - started


def database_now(conn: Connection) -> datetime:
    """The database clock, as an aware UTC datetime."""
    value = conn.execute(sa.select(_now(conn))).scalar_one()
    return to_datetime(value)


def insert_execution(conn: Connection, run_id: str, values: dict[str, Any]) -> bool:
    """Create a running execution; False when the id is already taken."""
    exists = conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == run_id)).first()
    if exists:
        return False
    now = _now(conn)
    conn.execute(
        sa.insert(runs).values(
            run_id=run_id,
            kind=DPO_KIND,
            status="running",
            started_at=now,
            updated_at=now,
            heartbeat_at=now,
            **values,
        )
    )
    return True


def interrupt_abandoned(conn: Connection) -> list[str]:
    """Mark running executions whose lease ran out ``interrupted`` (their running steps
    too); returns their ids. The lease counts from the last DPO command, database clock."""
    last_touch = sa.func.coalesce(runs.c.updated_at, runs.c.started_at)
    lease = sa.func.coalesce(runs.c.lease_seconds, DEFAULT_LEASE_SECONDS)
    expired = conn.execute(
        sa.select(runs.c.run_id).where(
            runs.c.kind == DPO_KIND,
            runs.c.status == "running",
            _elapsed(conn, last_touch) > lease,
        )
    )
    run_ids = [str(r) for r in expired.scalars()]
    if not run_ids:
        return []
    conn.execute(
        sa.update(runs)
        .where(runs.c.run_id.in_(run_ids), runs.c.status == "running")
        .values(status="interrupted", finished_at=last_touch, error_message=ABANDONED)
    )
    conn.execute(
        sa.update(node_runs)
        .where(node_runs.c.run_id.in_(run_ids), node_runs.c.status == "running")
        .values(status="interrupted")
    )
    return run_ids


def get_execution(conn: Connection, run_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(runs).where(runs.c.run_id == run_id, runs.c.kind == DPO_KIND)
    ).first()
    return dict(row._mapping) if row else None


def last_successful_execution(conn: Connection) -> dict[str, Any] | None:
    """The execution that completed successfully last (by completion time)."""
    row = conn.execute(
        sa.select(runs)
        .where(runs.c.kind == DPO_KIND, runs.c.status == "success")
        .order_by(runs.c.finished_at.desc(), runs.c.started_at.desc(), runs.c.run_id.desc())
        .limit(1)
    ).first()
    return dict(row._mapping) if row else None


def complete_execution(conn: Connection, run_id: str, status: str = "success") -> bool:
    """Mark a running execution complete at the database's now; False if not running.

    Steps still running then (``complete-execution --force``) become ``interrupted``.
    """
    now = _now(conn)
    conn.execute(
        sa.update(node_runs)
        .where(node_runs.c.run_id == run_id, node_runs.c.status == "running")
        .values(status="interrupted", finished_at=now)
    )
    result = conn.execute(
        sa.update(runs)
        .where(runs.c.run_id == run_id, runs.c.kind == DPO_KIND, runs.c.status == "running")
        .values(status=status, finished_at=now, updated_at=now)
    )
    return bool(result.rowcount)


def touch_execution(conn: Connection, run_id: str) -> None:
    """Record a DPO command on the execution: its last update, and its lease renewed."""
    now = _now(conn)
    conn.execute(
        sa.update(runs).where(runs.c.run_id == run_id).values(updated_at=now, heartbeat_at=now)
    )


def get_step(conn: Connection, step_id: str) -> dict[str, Any] | None:
    """A step of a DPO execution, with its execution's status as ``run_status``."""
    row = conn.execute(
        sa.select(node_runs, runs.c.status.label("run_status"))
        .select_from(node_runs.join(runs, runs.c.run_id == node_runs.c.run_id))
        .where(node_runs.c.id == step_id, runs.c.kind == DPO_KIND)
    ).first()
    return dict(row._mapping) if row else None


def steps_of_execution(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    """An execution's steps (without their models), oldest first."""
    query = (
        sa.select(node_runs.c.id, node_runs.c.node_name, node_runs.c.status)
        .where(node_runs.c.run_id == run_id)
        .order_by(node_runs.c.started_at, node_runs.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def insert_step(
    conn: Connection,
    step_id: str,
    run_id: str,
    step_name: str,
    models: Sequence[dict[str, Any]],
    status: str = "running",
) -> None:
    """Create a step (running, or already ``success`` for ``persist-models``) and its
    model checksums in one transaction."""
    now = _now(conn)
    finished = {"finished_at": now, "duration_s": 0.0} if status != "running" else {}
    conn.execute(
        sa.insert(node_runs).values(
            id=step_id,
            run_id=run_id,
            node_name=step_name,
            status=status,
            started_at=now,
            outputs={},
            inputs={},
            **finished,
        )
    )
    if models:
        conn.execute(sa.insert(model_checksums), [{"step_id": step_id, **m} for m in models])
    touch_execution(conn, run_id)


def complete_step(
    conn: Connection, step_id: str, rows_processed: int | None, status: str = "success"
) -> bool:
    """Mark a running step complete, its duration from the database clock."""
    now = _now(conn)
    values: dict[str, Any] = {
        "status": status,
        "finished_at": now,
        "duration_s": _elapsed(conn, node_runs.c.started_at),
    }
    if rows_processed is not None:
        values["rows_processed"] = rows_processed
    result = conn.execute(
        sa.update(node_runs)
        .where(node_runs.c.id == step_id, node_runs.c.status == "running")
        .values(**values)
    )
    run_id = conn.execute(sa.select(node_runs.c.run_id).where(node_runs.c.id == step_id)).scalar()
    if run_id is not None:
        touch_execution(conn, str(run_id))
    return bool(result.rowcount)


def models_of_step(conn: Connection, step_id: str) -> list[dict[str, Any]]:
    query = (
        sa.select(model_checksums)
        .where(model_checksums.c.step_id == step_id)
        .order_by(model_checksums.c.model_name)
    )
    return [dict(row._mapping) for row in conn.execute(query)]
