"""The collectors' store layer: runtime tables, and state that never runs ahead of data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from waldo import StoreError
from waldo.journal import CollectorJournal, raw_params
from waldo.store import StateKey, Store
from waldo.store import collectors as tables


def test_state_commits_with_its_raw_rows_or_not_at_all(store_url: str) -> None:
    journal = CollectorJournal(Store(store_url))
    raw = tables.raw_table("_raw_test_items")
    journal.prepare([raw])
    key = StateKey("test", "1", "items")
    params = raw_params("1", "")
    journal.commit_raw(key, raw, params, [('{"n": 1}', None, None)], {"after": 1})
    assert journal.load_state(key) == {"after": 1}

    with pytest.raises(StoreError):  # a row the table refuses (data is NOT NULL)
        journal.commit_raw(
            key, raw, params, [('{"n": 2}', None, None), (None, None, None)], {"after": 2}
        )  # type: ignore[list-item]
    assert journal.load_state(key) == {"after": 1}  # the state did not move
    assert [r.data for r in journal.raw_rows(raw, params)] == ['{"n": 1}']
    journal.store.dispose()


def test_runtime_tables_live_in_the_waldo_schema(pg_url: str) -> None:
    store = Store(pg_url)
    journal = CollectorJournal(store)
    raw = tables.raw_table("_raw_test_pg")
    model = sa.Table("m", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    tool = tables.tool_table("_tool_test_pg", model)
    journal.prepare([raw, tool])
    journal.prepare([raw, tool])  # twice is harmless
    with store.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names(schema="waldo"))
        assert {"_raw_test_pg", "_tool_test_pg", "cicd_pipelines", "collector_state"} <= names
        assert sa.inspect(conn).get_table_names(schema="public") == []
        keys = sa.inspect(conn).get_pk_constraint("_tool_test_pg", schema="waldo")
        assert keys["constrained_columns"] == ["connection_id", "id"]
    store.dispose()


def test_a_new_tool_model_field_adds_a_column(store_url: str) -> None:
    store = Store(store_url)
    journal = CollectorJournal(store)
    v1 = sa.Table("m1", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    v2 = sa.Table(
        "m2",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    journal.prepare([tables.tool_table("_tool_test_evolve", v1)])
    tables._runtime.remove(tables._runtime.tables["_tool_test_evolve"])
    journal.prepare([tables.tool_table("_tool_test_evolve", v2)])
    with store.engine.connect() as conn:
        schema = "waldo" if conn.dialect.name == "postgresql" else None
        columns = [c["name"] for c in sa.inspect(conn).get_columns("_tool_test_evolve", schema)]
    assert "note" in columns
    tables._runtime.remove(tables._runtime.tables["_tool_test_evolve"])
    store.dispose()
