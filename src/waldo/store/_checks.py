"""Read queries over ``check_results``: a run's data check results, failures by run.

The rows are written by the batch writer like any other append table; this module only
reads them back, as plain dictionaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from waldo.store._schema import check_results, dataset_versions


def _saved_version() -> sa.ScalarSelect[Any]:
    """The version the run's last save of the checked dataset recorded: the fallback
    for a result recorded without one (the recorder did not know it yet)."""
    return (
        sa.select(dataset_versions.c.version)
        .where(
            dataset_versions.c.run_id == check_results.c.run_id,
            dataset_versions.c.dataset_name == check_results.c.dataset_name,
            dataset_versions.c.operation == "save",
        )
        .order_by(dataset_versions.c.recorded_at.desc(), dataset_versions.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def check_results_of(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    """Every check result of a run, in the order they were recorded."""
    version = sa.func.coalesce(check_results.c.dataset_version, _saved_version())
    query = (
        sa.select(*(c for c in check_results.c if c.name != "dataset_version"))
        .add_columns(version.label("dataset_version"))
        .where(check_results.c.run_id == run_id)
        .order_by(check_results.c.checked_at, check_results.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def failed_check_counts(conn: Connection, run_ids: Sequence[str]) -> dict[str, int]:
    """How many check results failed (or could not run) in each of a few runs."""
    if not run_ids:
        return {}
    query = (
        sa.select(check_results.c.run_id, sa.func.count().label("n"))
        .where(check_results.c.run_id.in_(list(run_ids)), sa.not_(check_results.c.success))
        .group_by(check_results.c.run_id)
    )
    return {str(run_id): int(n) for run_id, n in conn.execute(query)}
