"""Every runner records every node exactly once under the parent's run id.

SequentialRunner, ThreadRunner and ParallelRunner with ``KEDRO_MP_CONTEXT=fork`` and
``=spawn``, on SQLite (the project's default journal) and on PostgreSQL, configured
through ``conf/<env>/waldo.yml``, the ``WALDO_DB_URL`` variable, or the seed's
``credentials.yml`` ``postgres: con:`` entry with no waldo.yml at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers.projects import chain_project
from tests.kedro._e2e import (
    event_counts,
    expected_events,
    journal_at,
    output_of,
    run_kedro,
    waldo_json,
    waldo_warnings,
)
from waldo.journal import Journal
from waldo.store import schema

pytestmark = pytest.mark.slow

NODES = 3
RUNNERS = [
    ("SequentialRunner", None),
    ("ThreadRunner", None),
    ("ParallelRunner", "fork"),
    ("ParallelRunner", "spawn"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chain_project(tmp_path_factory.mktemp("runners") / "proj", nodes=NODES)


@pytest.fixture(scope="module")
def pg_project(project: Path, pg_url: str) -> tuple[Path, str]:
    """The same project with two Kedro environments pointing at PostgreSQL."""
    (project / "conf" / "pg").mkdir(exist_ok=True)
    (project / "conf" / "pg" / "waldo.yml").write_text(f"store: {pg_url}\n")
    (project / "conf" / "pgcreds").mkdir(exist_ok=True)
    (project / "conf" / "pgcreds" / "credentials.yml").write_text(f"postgres:\n  con: {pg_url}\n")
    return project, pg_url


def _count(journal: Journal, table: sa.Table) -> int:
    return journal.store.run(lambda c: len(c.execute(table.select()).all()))


def _run_and_check(
    root: Path,
    url: str | None,
    runner: str,
    context: str | None,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> str:
    """Run ``kedro run --runner RUNNER`` and check the journal; return the run id."""
    journal = journal_at(root, url)
    journal.store.ensure_schema()
    before = {t: _count(journal, getattr(schema, t)) for t in ("runs", "node_runs", "events")}
    full_env = dict(env or {})
    if context:
        full_env["KEDRO_MP_CONTEXT"] = context
    result = run_kedro(root, "run", "--runner", runner, *args, env=full_env)
    assert result.returncode == 0, output_of(result)[-3000:]
    assert waldo_warnings(output_of(result)) == []

    run_id = journal.history.resolve_run_id("latest")
    detail = journal.history.run_detail(run_id)
    assert detail.summary.status == "success"
    assert detail.summary.runner == runner
    assert [n.node_name for n in detail.nodes] == [f"step_{i}" for i in range(NODES)]
    assert all(n.status == "success" and n.outputs for n in detail.nodes)
    assert event_counts(journal, run_id) == expected_events(NODES)

    # exactly one new run, its nodes and its events: nothing under another run id
    after = {t: _count(journal, getattr(schema, t)) for t in before}
    assert after["runs"] == before["runs"] + 1
    assert after["node_runs"] == before["node_runs"] + NODES
    assert after["events"] == before["events"] + sum(expected_events(NODES).values())

    pids = journal.store.run(
        lambda c: {
            r.node_name: r.pid
            for r in c.execute(schema.node_runs.select().where(schema.node_runs.c.run_id == run_id))
        }
    )
    run_pid = journal.store.run(
        lambda c: c.execute(schema.runs.select().where(schema.runs.c.run_id == run_id)).one().pid
    )
    if runner == "ParallelRunner":  # recorded by the worker processes themselves
        assert run_pid not in pids.values()
    else:
        assert set(pids.values()) == {run_pid}
    return run_id


@pytest.mark.parametrize(("runner", "context"), RUNNERS, ids=[f"{r}-{c}" for r, c in RUNNERS])
def test_sqlite(project: Path, runner: str, context: str | None) -> None:
    _run_and_check(project, None, runner, context)


PG_CASES = [
    ("SequentialRunner", None, "waldo.yml"),
    ("ThreadRunner", None, "WALDO_DB_URL"),
    ("ParallelRunner", "fork", "waldo.yml"),
    ("ParallelRunner", "spawn", "WALDO_DB_URL"),
    ("ParallelRunner", "spawn", "credentials.yml"),
    ("ParallelRunner", "fork", "credentials.yml"),
]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("runner", "context", "config"), PG_CASES, ids=[f"{r}-{c}-{s}" for r, c, s in PG_CASES]
)
def test_postgres(
    pg_project: tuple[Path, str], runner: str, context: str | None, config: str
) -> None:
    root, url = pg_project
    if config == "WALDO_DB_URL":
        run_id = _run_and_check(root, url, runner, context, env={"WALDO_DB_URL": url})
    else:
        env_name = "pg" if config == "waldo.yml" else "pgcreds"
        run_id = _run_and_check(root, url, runner, context, args=["--env", env_name])
    assert run_id
    assert not list((root / ".waldo").glob("spool/*.jsonl"))


@pytest.mark.postgres
def test_cli_reads_postgres_through_the_project_config(pg_project: tuple[Path, str]) -> None:
    root, url = pg_project
    before = {r["run_id"] for r in waldo_json(root, "--env", "pg", "runs", "--limit", "1000")}
    made = {
        _run_and_check(root, url, "SequentialRunner", None, args=["--env", "pg"]),
        _run_and_check(root, url, "SequentialRunner", None, args=["--env", "pgcreds"]),
    }
    runs = waldo_json(root, "--env", "pg", "runs", "--limit", "1000")
    new = [r for r in runs if r["run_id"] not in before]
    assert {r["run_id"] for r in new} == made
    assert all(r["status"] == "success" and r["nodes_ok"] == NODES for r in new)
    assert waldo_json(root, "--env", "pgcreds", "runs", "--limit", "1000") == runs
    # the project's default SQLite journal never saw them
    sqlite_runs = waldo_json(root, "runs", "--limit", "1000")
    assert not {r["run_id"] for r in sqlite_runs} & made
