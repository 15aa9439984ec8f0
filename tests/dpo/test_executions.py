"""The journal's DPO API (``Executions``) on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from waldo._errors import (
    ExecutionNotFound,
    ExecutionStateError,
    InvalidId,
    InvalidInput,
    StepNotFound,
)
from waldo.journal import Executions, History
from waldo.store import Store, executions, schema

OLD = time.time() - 3600


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (OLD, OLD))


@pytest.fixture
def store(store_url: str) -> Store:
    return Store(store_url)


@pytest.fixture
def dpo(store: Store) -> Executions:
    return Executions(store)


def test_an_execution_is_a_running_dpo_run_until_completed(dpo: Executions, store: Store) -> None:
    execution = dpo.init_execution()
    assert str(uuid.UUID(execution)) == execution
    row = store.run(executions.get_execution, execution)
    assert row is not None
    assert (row["kind"], row["status"]) == ("dpo", "running")
    assert row["started_at"] is not None and row["updated_at"] is not None
    assert dpo.last_successful() is None
    with pytest.raises(ExecutionStateError, match="has not completed"):
        dpo.completion_timestamp(execution)

    dpo.complete_execution(execution)
    assert dpo.last_successful() == execution
    done = dpo.completion_timestamp(execution)
    assert done.tzinfo is not None
    assert abs((datetime.now(timezone.utc) - done).total_seconds()) < 60
    dpo.complete_execution(execution)  # again: nothing changes
    assert dpo.completion_timestamp(execution) == done

    summary = History(store).runs()[0]
    assert (summary.run_id, summary.kind, summary.status) == (execution, "dpo", "success")


def test_a_running_execution_is_not_marked_interrupted(dpo: Executions, store: Store) -> None:
    """The process that started an execution is gone at once: that is normal here."""
    execution = dpo.init_execution()
    assert History(store).reconcile() == []
    assert History(store).runs()[0].status == "running"
    assert store.run(executions.get_execution, execution)["status"] == "running"  # type: ignore[index]


def test_last_successful_is_the_last_completed(dpo: Executions) -> None:
    first, second, third = (dpo.init_execution() for _ in range(3))
    dpo.complete_execution(second)
    time.sleep(0.01)
    dpo.complete_execution(first)  # started earlier, completed later
    assert dpo.last_successful() == first
    assert third != first


def test_a_given_id_is_used_in_canonical_form(dpo: Executions) -> None:
    given = uuid.uuid4()
    assert dpo.init_execution(given.hex.upper()) == str(given)
    with pytest.raises(ExecutionStateError, match="already exists"):
        dpo.init_execution(str(given))
    with pytest.raises(InvalidId):
        dpo.init_execution("not-a-uuid")


def test_unknown_and_malformed_ids(dpo: Executions) -> None:
    with pytest.raises(InvalidId):
        dpo.complete_execution("123")
    with pytest.raises(ExecutionNotFound):
        dpo.complete_execution(str(uuid.uuid4()))
    with pytest.raises(StepNotFound):
        dpo.complete_step(str(uuid.uuid4()))
    with pytest.raises(InvalidId):
        dpo.compare_step_models("xyz", "")
    execution = dpo.init_execution()
    with pytest.raises(StepNotFound):  # an execution id is not a step id
        dpo.complete_step(execution)


def test_steps_record_models_and_compare_with_the_previous_execution(
    dpo: Executions, store: Store, tmp_path: Path
) -> None:
    base = tmp_path / "transform"
    write(base / "one.csv", "1")
    write(base / "two.sql", "2")
    write(base / "three.sql", "3")
    cache = tmp_path / "statcache.db"

    first = dpo.init_execution()
    step = dpo.init_step(first, "TRANSFORM", base, ["**/*.csv", "**/*.sql"], cache_path=cache)
    assert sorted(step.models) == ["one", "three", "two"]
    changes = dpo.compare_step_models(step.step_id, "")
    assert changes.names() == ["one", "three", "two"]
    assert changes.added == ["one", "three", "two"]
    dpo.complete_step(step.step_id, 2**63 - 1)
    dpo.complete_execution(first)

    write(base / "two.sql", "2 changed")
    (base / "three.sql").unlink()
    write(base / "four.sql", "4")
    second = dpo.init_execution()
    step2 = dpo.init_step(second, "TRANSFORM", base, ["**/*.csv", "**/*.sql"], cache_path=cache)
    assert (step2.cache_hits, step2.cache_misses) == (1, 2)  # one.csv was not read again
    changes = dpo.compare_step_models(step2.step_id, first)
    assert changes.added == ["four"]
    assert changes.changed == ["two"]
    assert changes.deleted == ["three"]
    assert changes.unchanged == ["one"]
    assert changes.names() == ["four", "two"]

    rows = store.run(executions.models_of_step, uuid.UUID(step2.step_id).hex)
    assert [(r["model_name"], r["relative_path"], r["algorithm"]) for r in rows] == [
        ("four", "four.sql", "xxh3_128"),
        ("one", "one.csv", "xxh3_128"),
        ("two", "two.sql", "xxh3_128"),
    ]
    with store.connect() as conn:
        done = conn.execute(
            sa.select(schema.node_runs.c.rows_processed, schema.node_runs.c.duration_s).where(
                schema.node_runs.c.id == uuid.UUID(step.step_id).hex
            )
        ).one()
    assert done.rows_processed == 2**63 - 1
    assert done.duration_s is not None and 0 <= done.duration_s < 60


def test_a_step_is_compared_with_the_same_named_step(dpo: Executions, tmp_path: Path) -> None:
    write(tmp_path / "load" / "a.json", "a")
    write(tmp_path / "transform" / "a.sql", "other content, same name")
    first = dpo.init_execution()
    dpo.init_step(first, "LOAD", tmp_path / "load", ["*"])
    dpo.init_step(first, "TRANSFORM", tmp_path / "transform", ["*"])
    dpo.complete_execution(first, force=True)
    second = dpo.init_execution()
    load = dpo.init_step(second, "LOAD", tmp_path / "load", ["*"])
    extra = dpo.init_step(second, "EXTRA", tmp_path / "load", ["*"])
    assert dpo.compare_step_models(load.step_id, first).names() == []
    # no step of that name before: everything is new
    assert dpo.compare_step_models(extra.step_id, first).names() == ["a"]


def test_same_model_name_twice_is_an_error_unless_named_by_path(
    dpo: Executions, tmp_path: Path
) -> None:
    write(tmp_path / "m" / "staging" / "orders.sql", "a")
    write(tmp_path / "m" / "marts" / "orders.sql", "b")
    execution = dpo.init_execution()
    with pytest.raises(InvalidInput, match=r"marts/orders.sql and staging/orders.sql"):
        dpo.init_step(execution, "T", tmp_path / "m", ["**/*.sql"])
    step = dpo.init_step(execution, "T", tmp_path / "m", ["**/*.sql"], naming="path")
    assert sorted(step.models) == ["marts/orders.sql", "staging/orders.sql"]
    assert dpo.compare_step_models(step.step_id, "").names() == [
        "marts/orders.sql",
        "staging/orders.sql",
    ]


def test_step_rules(dpo: Executions, tmp_path: Path) -> None:
    write(tmp_path / "m" / "a.sql", "a")
    execution = dpo.init_execution()
    step = dpo.init_step(execution, "LOAD", tmp_path / "m", ["*.sql"])
    with pytest.raises(ExecutionStateError, match="already has a step 'LOAD'"):
        dpo.init_step(execution, "LOAD", tmp_path / "m", ["*.sql"])
    with pytest.raises(InvalidInput, match="does not exist"):
        dpo.init_step(execution, "OTHER", tmp_path / "missing", ["*.sql"])
    with pytest.raises(InvalidInput, match="is not a folder"):
        dpo.init_step(execution, "OTHER", tmp_path / "m" / "a.sql", ["*.sql"])
    with pytest.raises(InvalidInput):
        dpo.complete_step(step.step_id, 2**63)
    with pytest.raises(InvalidInput):
        dpo.complete_step(step.step_id, -1)
    dpo.complete_step(step.step_id.replace("-", ""), 0)
    dpo.complete_execution(execution)
    with pytest.raises(ExecutionStateError, match="already complete"):
        dpo.init_step(execution, "LATE", tmp_path / "m", ["*.sql"])


def test_a_step_with_no_models(dpo: Executions, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    execution = dpo.init_execution()
    step = dpo.init_step(execution, "LOAD", tmp_path / "empty", ["**/*.sql"])
    assert step.models == {}
    assert dpo.compare_step_models(step.step_id, "").names() == []


def test_failed_executions_and_steps(dpo: Executions, store: Store, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    good = dpo.init_execution()
    dpo.complete_execution(good)
    bad = dpo.init_execution()
    step = dpo.init_step(bad, "LOAD", tmp_path / "m", ["*"])
    dpo.complete_step(step.step_id, 10, failed=True)
    dpo.complete_execution(bad, failed=True)
    assert dpo.last_successful() == good
    assert dpo.completion_timestamp(bad) >= dpo.completion_timestamp(good)
    summaries = {s.run_id: s for s in History(store).runs()}
    assert (summaries[bad].status, summaries[bad].nodes_failed) == ("failed", 1)
    dpo.complete_execution(bad)  # completing again changes nothing
    assert History(store).runs(status="failed")[0].run_id == bad
