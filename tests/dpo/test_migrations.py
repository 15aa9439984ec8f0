"""Revision 0002 (DPO executions) upgrades and downgrades with data in the tables."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from waldo.cli import app
from waldo.journal import Executions, History
from waldo.store import Store, schema


def waldo(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def columns(store: Store, table: str) -> set[str]:
    with store.connect() as conn:
        inspector = sa.inspect(conn)
        name_schema = "waldo" if conn.dialect.name == "postgresql" else None
        return {c["name"] for c in inspector.get_columns(table, schema=name_schema)}


def tables(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        name_schema = "waldo" if conn.dialect.name == "postgresql" else None
        return set(sa.inspect(conn).get_table_names(schema=name_schema))


def test_upgrade_downgrade_upgrade_keeps_runs_and_node_runs(store_url: str, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "a.sql").write_text("select 1")
    os.utime(models / "a.sql", (time.time() - 3600,) * 2)

    head = Store.head_revision()
    assert f"to {head}" in waldo("--db", store_url, "db", "upgrade")
    store = Store(store_url, auto_migrate=False)
    dpo = Executions(store)
    first = dpo.init_execution()
    step = dpo.init_step(first, "LOAD", models, ["*.sql"])
    dpo.complete_step(step.step_id, 2**63 - 1)
    dpo.complete_execution(first)
    running = dpo.init_execution()
    kedro_like = str(uuid.uuid4())
    with store.connect() as conn:
        conn.execute(
            sa.insert(schema.runs).values(run_id=kedro_like, kind="kedro", status="success")
        )

    assert f"from {head} to 0001" in waldo("--db", store_url, "db", "downgrade", "0001")
    assert "model_checksums" not in tables(store)
    assert "rows_processed" not in columns(store, "node_runs")
    assert "updated_at" not in columns(store, "runs")
    with store.engine.connect() as conn:
        # lightweight tables with the 0001 columns only
        where = "waldo" if conn.dialect.name == "postgresql" else None
        runs = sa.table("runs", sa.column("run_id"), schema=where)
        node_runs = sa.table("node_runs", sa.column("node_name"), sa.column("status"), schema=where)
        run_ids = set(conn.execute(sa.select(runs.c.run_id)).scalars())
        steps = conn.execute(sa.select(node_runs.c.node_name, node_runs.c.status)).all()
    assert run_ids == {first, running, kedro_like}
    assert [(s.node_name, s.status) for s in steps] == [("LOAD", "success")]

    assert f"from 0001 to {head}" in waldo("--db", store_url, "db", "upgrade")
    assert {"model_checksums"} <= tables(store)
    assert dpo.last_successful() == first
    assert [r.run_id for r in History(store).runs()].count(first) == 1
    # the old step kept its identity; its checksums are gone with the downgrade
    assert dpo.compare_step_models(step.step_id, "").names() == []
    again = dpo.init_step(running, "LOAD", models, ["*.sql"])
    assert dpo.compare_step_models(again.step_id, first).names() == ["a"]
    dpo.complete_step(again.step_id, 2**63 - 1)
    assert f"already at revision {head}" in waldo("--db", store_url, "db", "upgrade")


def test_downgrade_to_base_and_back(store_url: str) -> None:
    waldo("--db", store_url, "db", "upgrade")
    Executions(Store(store_url)).init_execution()
    waldo("--db", store_url, "db", "downgrade", "base")
    waldo("--db", store_url, "db", "upgrade")
    assert Executions(Store(store_url)).last_successful() is None
