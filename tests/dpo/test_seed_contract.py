"""What a script written against the seed relies on, on SQLite and PostgreSQL: patterns
that match nothing, running steps at completion, abandoned executions, step-name case,
deleted models, the seed's older commands and execution names."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from waldo._errors import ExecutionStateError, InvalidInput, StepNotFound
from waldo.dpo import dpo as dpo_group
from waldo.journal import Executions, History
from waldo.store import Store, executions, schema


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def store(store_url: str) -> Store:
    return Store(store_url)


@pytest.fixture
def dpo(store: Store) -> Executions:
    return Executions(store)


@pytest.fixture
def models(tmp_path: Path) -> Path:
    write(tmp_path / "models/a.sql", "a")
    write(tmp_path / "models/sub/b.sql", "b")
    return tmp_path / "models"


def invoke(url: str, *args: str) -> Result:
    return CliRunner().invoke(dpo_group, [url, *args])


def test_a_pattern_matching_nothing_is_a_warning_or_with_strict_an_error(
    dpo: Executions, store: Store, models: Path
) -> None:
    execution = dpo.init_execution()
    step = dpo.init_step(execution, "LOAD", models, ["**/*.sql", "*.sqll"])
    assert sorted(step.models) == ["a", "b"]
    assert len(step.warnings) == 1
    assert step.warnings[0].startswith("the pattern '*.sqll' matches no file under")
    with pytest.raises(InvalidInput, match=r"'\*\.sqll' matches no file.*\(--strict\)"):
        dpo.init_step(execution, "TRANSFORM", models, ["*.sqll"], strict=True)
    assert [s["node_name"] for s in store.run(executions.steps_of_execution, execution)] == [
        "LOAD"
    ]  # the strict failure recorded nothing


def test_pattern_warnings_on_the_command_line_at_any_log_level(
    store_url: str, models: Path
) -> None:
    execution = invoke(store_url, "init-execution").stdout.strip()
    quiet = invoke(
        store_url, "--log-level", "CRITICAL", "init-step", execution, "LOAD", str(models), "*.sqll"
    )
    assert quiet.exit_code == 0
    assert quiet.stderr.startswith("warning: the pattern '*.sqll' matches no file under")
    strict = invoke(
        store_url, "persist-models", "--strict", execution, "load2", str(models), "*.sqll"
    )
    assert strict.exit_code == 2
    assert strict.stderr.startswith("error: The pattern '*.sqll' matches no file")
    assert len(strict.stderr.splitlines()) == 1


def test_complete_execution_refuses_running_steps_unless_forced(
    dpo: Executions, store: Store, models: Path
) -> None:
    execution = dpo.init_execution()
    step = dpo.init_step(execution, "LOAD", models, ["**/*.sql"])
    with pytest.raises(ExecutionStateError, match="still has running steps: LOAD"):
        dpo.complete_execution(execution)
    assert dpo.last_successful() is None
    dpo.complete_execution(execution, force=True)
    assert dpo.last_successful() == execution
    statuses = {s["id"]: s["status"] for s in store.run(executions.steps_of_execution, execution)}
    assert statuses == {uuid.UUID(step.step_id).hex: "interrupted"}


def test_complete_execution_with_a_running_step_exits_2(store_url: str, models: Path) -> None:
    execution = invoke(store_url, "init-execution").stdout.strip()
    assert invoke(store_url, "init-step", execution, "LOAD", str(models), "*.sql").exit_code == 0
    refused = invoke(store_url, "complete-execution", execution)
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: The execution")
    assert "--force" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert invoke(store_url, "get-last-successful-execution").stdout == "\n"
    assert invoke(store_url, "complete-execution", "--force", execution).exit_code == 0
    assert invoke(store_url, "get-last-successful-execution").stdout.strip() == execution


def _age(store: Store, run_id: str, hours: float) -> None:
    """Pretend no DPO command touched the execution for ``hours``."""
    past = datetime.now(timezone.utc) - timedelta(hours=hours)
    with store.connect() as conn:
        conn.execute(
            sa.update(schema.runs)
            .where(schema.runs.c.run_id == run_id)
            .values(updated_at=past, heartbeat_at=past)
        )


def test_an_abandoned_execution_is_interrupted_after_its_lease(
    dpo: Executions, store: Store, models: Path
) -> None:
    abandoned = dpo.init_execution()
    dpo.init_step(abandoned, "LOAD", models, ["**/*.sql"])
    short = dpo.init_execution(lease_seconds=60)
    alive = dpo.init_execution()
    _age(store, abandoned, hours=7)  # past the default lease of six hours
    _age(store, short, hours=0.1)  # past its own lease of a minute
    _age(store, alive, hours=5)  # within the default lease
    listed = {r.run_id: r.status for r in History(store).runs(kind="dpo")}
    assert listed == {abandoned: "interrupted", short: "interrupted", alive: "running"}
    detail = History(store).run_detail(abandoned)
    assert [n.status for n in detail.nodes] == ["interrupted"]
    assert "lease" in (detail.error_message or "")
    with pytest.raises(ExecutionStateError, match="was interrupted"):
        dpo.init_step(abandoned, "TRANSFORM", models, ["**/*.sql"])
    with pytest.raises(ExecutionStateError, match="was interrupted"):
        dpo.complete_execution(abandoned)


def test_step_names_match_in_any_case_and_a_missing_counterpart_warns(
    dpo: Executions, models: Path
) -> None:
    first = dpo.init_execution()
    load = dpo.init_step(first, "LOAD", models, ["**/*.sql"])
    with pytest.raises(ExecutionStateError, match="already has a step 'LOAD'"):
        dpo.init_step(first, "load", models, ["**/*.sql"])
    dpo.complete_step(load.step_id)
    dpo.complete_execution(first)

    second = dpo.init_execution()
    same = dpo.init_step(second, "load", models, ["**/*.sql"])
    changes = dpo.compare_step_models(same.step_id, first)
    assert (changes.names(), changes.unchanged, changes.warnings) == ([], ["a", "b"], [])
    other = dpo.init_step(second, "TRANSFORM", models, ["**/*.sql"])
    changes = dpo.compare_step_models(other.step_id, first)
    assert changes.names() == ["a", "b"]
    assert changes.warnings == [
        f"the previous execution {first} has no step 'TRANSFORM' (its steps: LOAD); "
        "every model counts as new."
    ]
    assert dpo.compare_step_models(other.step_id, "").warnings == []  # no previous: expected


def test_deleted_models_have_their_own_command(store_url: str, models: Path) -> None:
    def run(*args: str) -> str:
        done = invoke(store_url, *args)
        assert done.exit_code == 0, done.output
        return done.stdout.strip()

    first = run("init-execution")
    step = run("init-step", first, "LOAD", str(models), "**/*.sql")
    run("complete-step", step)
    run("complete-execution", first)
    (models / "sub/b.sql").unlink()
    write(models / "c.sql", "c")
    second = run("init-execution")
    step = run("init-step", second, "LOAD", str(models), "**/*.sql")
    assert run("compare-step-models", step, first) == "c"  # only models to run
    assert run("deleted-step-models", step, first) == "b"


def test_the_seeds_older_commands(dpo: Executions, store_url: str, models: Path) -> None:
    def run(*args: str) -> str:
        done = invoke(store_url, *args)
        assert done.exit_code == 0, done.output
        assert done.stderr == ""
        return done.stdout.strip()

    first = run("init-execution")
    assert run("persist-models", first, "load", str(models), "**/*.sql") == ""
    assert run("compare-models", "", first, "load") == "a,b"
    assert run("complete-execution", first) == ""  # persist-models steps are complete
    stamp = run("get-execution-last-updated-timestamp", first)
    assert stamp == run("get-execution-completion-timestamp", first)
    write(models / "a.sql", "changed")
    second = run("init-execution")
    run("persist-models", second, "LOAD", str(models), "**/*.sql")
    assert run("compare-models", first, second, "Load") == "a"
    missing = invoke(store_url, "compare-models", first, second, "transform")
    assert missing.exit_code == 2
    assert "has no models of type 'transform'" in missing.stderr
    with pytest.raises(StepNotFound):
        dpo.compare_execution_models(first, second, "transform")


def test_an_execution_is_named(dpo: Executions, store: Store, tmp_path: Path) -> None:
    named = dpo.init_execution(name="nightly")
    unnamed = dpo.init_execution()
    found = {r.run_id: r.pipeline_names for r in History(store).runs(kind="dpo")}
    assert found[named] == ["nightly"]
    assert found[unnamed] == [Path.cwd().name]
    assert [r.run_id for r in History(store).runs(pipeline="nightly")] == [named]
    with pytest.raises(InvalidInput, match="name is empty"):
        dpo.init_execution(name=" ")
