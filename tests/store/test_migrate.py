"""The Alembic migrations create exactly the schema of ``waldo.store.schema``."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.helpers.postgres import wait_for
from waldo.journal import History
from waldo.store import Store, schema
from waldo.store._driver import configure_sqlite

PG_ONLY_INDEXES = {("events", "ix_events_run_id")}
JOURNAL_TABLES = {
    "runs",
    "node_runs",
    "events",
    "catalogs",
    "pipelines",
    "write_batches",
    "dataset_versions",
    "model_checksums",
    "samples",
    "contexts",
    "outlier_score",
    # 0006: the collectors' domain layer and state
    "cicd_scopes",
    "cicd_pipelines",
    "cicd_tasks",
    "cicd_pipeline_commits",
    "users",
    "collector_state",
    # 0007: data check results
    "check_results",
    # 0008: DevLake's code domain
    "repos",
    "commits",
    "pull_requests",
    "pull_request_commits",
}
CODE_DOMAIN = {"repos", "commits", "pull_requests", "pull_request_commits"}


def db_schema(conn: sa.Connection) -> str | None:
    return "waldo" if conn.dialect.name == "postgresql" else None


def tables(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names(schema=db_schema(conn))) - {"alembic_version"}


def indexes(store: Store, table: str) -> set[str]:
    with store.engine.connect() as conn:
        found = sa.inspect(conn).get_indexes(table, schema=db_schema(conn))
        return {str(i["name"]) for i in found}


def schema_differences(store: Store) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the metadata."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            target = sa.MetaData()
            for table in schema.metadata.sorted_tables:
                table.to_metadata(target, schema="waldo")
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_schemas": True,
                    "version_table_schema": "waldo",
                    "include_name": lambda name, kind, _parent: (
                        name == "waldo" if kind == "schema" else True
                    ),
                },
            )
        else:
            target = schema.metadata
            context = MigrationContext.configure(conn)
        return list(compare_metadata(context, target))


def unexpected_differences(store: Store) -> list[Any]:
    """The differences, minus the PostgreSQL-only index when the database is SQLite."""
    found = schema_differences(store)
    if store.dialect == "sqlite":
        found = [
            d
            for d in found
            if not (d[0] == "add_index" and (d[1].table.name, d[1].name) in PG_ONLY_INDEXES)
        ]
    return found


def test_upgrade_creates_every_table_at_head(store_url: str) -> None:
    store = Store(store_url, auto_migrate=False)
    assert store.current_revision() is None
    store.upgrade()
    assert store.current_revision() == Store.head_revision()
    assert tables(store) == JOURNAL_TABLES
    assert {"ix_runs_started_at", "ix_runs_status"} <= indexes(store, "runs")
    store.dispose()


def test_migrated_database_matches_the_metadata(store_url: str) -> None:
    store = Store(store_url, auto_migrate=False)
    store.upgrade()
    differences = schema_differences(store)
    if store.dialect == "postgresql":
        assert differences == []
        assert "ix_events_run_id" in indexes(store, "events")
    else:
        # The metadata declares ix_events_run_id for PostgreSQL only (ddl_if); Alembic's
        # comparison does not know that, so on SQLite it is the one expected difference.
        assert [(d[0], d[1].table.name, d[1].name) for d in differences] == [
            ("add_index", "events", "ix_events_run_id")
        ]
        assert "ix_events_run_id" not in indexes(store, "events")
    store.dispose()


def test_postgres_tables_live_in_the_waldo_schema(pg_url: str) -> None:
    store = Store(pg_url, auto_migrate=False)
    store.upgrade()
    with store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        assert set(inspector.get_table_names(schema="public")) == set()
        assert "alembic_version" in inspector.get_table_names(schema="waldo")
    store.dispose()


def test_downgrade_to_base_and_upgrade_again(store_url: str) -> None:
    store = Store(store_url, auto_migrate=False)
    store.upgrade()
    store.write(
        [("runs", {"run_id": "kept", "status": "success", "project": "p"})], uuid.uuid4().hex
    )

    store.downgrade("0001")  # the DPO revision goes, the run journal and its data stay
    assert store.current_revision() == "0001"
    assert "model_checksums" not in tables(store)
    with store.engine.connect() as conn:
        runs = sa.table("runs", sa.column("run_id"), sa.column("project"), schema=db_schema(conn))
        assert conn.execute(sa.select(runs.c.run_id, runs.c.project)).all() == [("kept", "p")]

    store.downgrade("base")
    assert store.current_revision() is None
    assert tables(store) == set()

    store.upgrade()
    assert store.current_revision() == Store.head_revision()
    assert tables(store) == JOURNAL_TABLES
    assert store.write([("runs", {"run_id": "new", "status": "running"})], uuid.uuid4().hex)
    with store.connect() as conn:
        assert conn.execute(sa.select(schema.runs.c.run_id)).scalars().all() == ["new"]
    assert unexpected_differences(store) == []
    store.dispose()


def test_auto_migration_on_first_write(store_url: str) -> None:
    store = Store(store_url)
    assert store.write([("events", ("r", "e", None, None, 1.0, None))], uuid.uuid4().hex)
    assert store.current_revision() == Store.head_revision()
    # a second store on the same database finds it current and does nothing
    other = Store(store_url)
    other.ensure_schema()
    assert other.current_revision() == Store.head_revision()
    store.dispose()
    other.dispose()


def test_results_tables_downgrade_and_upgrade_with_data(store_url: str) -> None:
    from waldo.journal import Results

    store = Store(store_url)
    results = Results(store)
    context = results.save_scores(algorithm="lof", sample_ids=[1, 2], scores=[0.5, 0.1])
    store.write([("runs", {"run_id": "kept", "status": "success"})], uuid.uuid4().hex)
    assert results.context(context).samples == 2

    store.downgrade("0004")  # the results tables go; the run journal stays
    assert {"samples", "contexts", "outlier_score"}.isdisjoint(tables(store))
    assert "runs" in tables(store)
    store.upgrade()
    assert results.contexts() == []
    assert [r.run_id for r in History(store).runs()] == ["kept"]
    store.dispose()


def test_the_head_without_alembic_is_alembics_head() -> None:
    """Opening a store reads the head from the scripts' names; Alembic must agree."""
    from alembic.script import ScriptDirectory

    from waldo.store._migrate import MIGRATIONS_DIR, head_revision

    assert head_revision() == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_opening_a_current_store_does_not_import_alembic(tmp_path: Path) -> None:
    """Alembic costs about 0.1 s to import; every run's process opens the store."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'w.db'}"
    Store(url).ensure_schema()
    code = (
        "import sys; from waldo.store import Store; s = Store(sys.argv[1]); s.ensure_schema(); "
        "print(s.current_revision(), 'alembic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, url], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [Store.head_revision(), "False"]


MIGRATE_AT_ONCE = """
import sys, time
from pathlib import Path
from waldo.store import Store

ready, go = Path(sys.argv[2]), Path(sys.argv[3])
store = Store(sys.argv[1])
ready.touch()  # imported and ready: wait for the others, then all migrate together
while not go.exists():
    time.sleep(0.005)
store.ensure_schema()
"""


def test_processes_creating_a_new_sqlite_store_at_once_all_succeed(tmp_path: Path) -> None:
    """Concurrent runs may all find a new SQLite file
    without tables: SQLite has no advisory lock, so the one that loses the race must
    wait for the other's tables, not fail (its batch would go to the spool)."""
    script = tmp_path / "migrate.py"
    script.write_text(MIGRATE_AT_ONCE)
    for attempt in range(3):
        url = f"sqlite:///{tmp_path / f'new-{attempt}.db'}"
        go = tmp_path / f"go-{attempt}"
        ready = [tmp_path / f"ready-{attempt}-{n}" for n in range(4)]
        procs = [
            subprocess.Popen(
                [sys.executable, str(script), url, str(flag), str(go)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for flag in ready
        ]
        assert wait_for(lambda: all(flag.exists() for flag in ready), timeout=120)  # noqa: B023
        go.touch()
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert all(p.returncode == 0 for p in procs), "\n".join(errors)
        assert Store(url).current_revision() == Store.head_revision()


def _migrate_with_others(
    store: Store, barrier: threading.Barrier, errors: list[BaseException]
) -> None:
    barrier.wait()
    try:
        store.ensure_schema()
    except BaseException as exc:
        errors.append(exc)


def test_threads_creating_a_new_store_at_once_all_succeed(store_url: str) -> None:
    """Two Store objects of one process may find a new store empty at once (a run's
    writer thread writing a batch itself while another thread reads the journal):
    Alembic's module-level state must not let their migrations break each other."""
    for attempt in range(3):
        url = store_url.replace("waldo.db", f"new-{attempt}.db")
        stores = [Store(url) for _ in range(3)]
        errors: list[BaseException] = []
        barrier = threading.Barrier(len(stores))

        threads = [
            threading.Thread(target=_migrate_with_others, args=(s, barrier, errors)) for s in stores
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert Store(url).current_revision() == Store.head_revision()
        for store in stores:
            store.dispose()
        if not url.startswith("sqlite"):
            break  # one fresh PostgreSQL database per test


def test_sqlite_settings_wait_for_a_lock_that_sqlite_does_not_wait_for(tmp_path: Path) -> None:
    """Switching a new journal to WAL while another process holds its lock: SQLite may
    answer "database is locked" at once, whatever the busy timeout (here none at all);
    the store's connections retry until the lock is gone instead of failing."""
    path = tmp_path / "new.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    waiter = sqlite3.connect(path, timeout=0)
    try:
        configure_sqlite(waiter)
        assert waiter.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        release.join()
        waiter.close()
        holder.close()


def test_code_domain_revision_downgrades_and_upgrades_with_data(store_url: str) -> None:
    store = Store(store_url, auto_migrate=False)
    store.upgrade()
    with store.connect() as conn:
        conn.execute(sa.insert(schema.cicd_pipelines).values(id="github:GitHubRun:1:7"))
        conn.execute(sa.insert(schema.pull_requests).values(id="pr", head_commit_sha="abc"))
    store.downgrade("0007")  # the revision before the code domain's
    assert store.current_revision() == "0007"
    assert tables(store) == JOURNAL_TABLES - CODE_DOMAIN
    store.upgrade("0008")
    assert tables(store) == JOURNAL_TABLES
    with store.connect() as conn:  # the CI/CD rows stayed; the code domain starts empty
        assert conn.execute(sa.select(schema.cicd_pipelines.c.id)).scalars().all() == [
            "github:GitHubRun:1:7"
        ]
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(schema.pull_requests)).scalar() == 0
        )
    assert unexpected_differences(store) == []
    store.dispose()


def before(revision: str) -> str:
    """The revision before ``revision`` (Waldo's revisions are numbered 0001, 0002...)."""
    return f"{int(revision) - 1:04d}"


def _alembic(ini: str, url: str, *command: str) -> subprocess.CompletedProcess[str]:
    """The seed's workflow: ``alembic -c <path>/alembic.ini -x URL COMMAND``."""
    alembic = Path(sys.executable).with_name("alembic")
    return subprocess.run(
        [str(alembic), "-c", ini, "-x", url, *command],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_seeds_alembic_workflow_with_the_shipped_ini(store_url: str) -> None:
    ini = Store.alembic_ini()
    # the seed writes its URLs for psycopg2; Waldo reads them with psycopg 3
    url = store_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    head = Store.head_revision()

    def alembic(*command: str) -> str:
        done = _alembic(ini, url, *command)
        assert done.returncode == 0, done.stderr
        return done.stdout

    alembic("upgrade", "head")
    store = Store(store_url, auto_migrate=False)
    assert store.current_revision() == head
    assert tables(store) == JOURNAL_TABLES
    assert alembic("current").split() == [head, "(head)"]
    listed = alembic("history").splitlines()
    assert listed[0].startswith(f"{before(head)} -> {head} (head), ")
    assert listed[-1].startswith("<base> -> 0001, ")
    alembic("downgrade", "-1")
    assert store.current_revision() == before(head)
    alembic("downgrade", "0002")
    assert store.current_revision() == "0002"
    assert "cicd_pipelines" not in tables(store)
    alembic("upgrade", "head")
    assert store.current_revision() == head
    assert unexpected_differences(store) == []
    store.dispose()


def test_the_alembic_workflow_without_a_url_says_how(tmp_path: Path) -> None:
    alembic = Path(sys.executable).with_name("alembic")
    done = subprocess.run(
        [str(alembic), "-c", Store.alembic_ini(), "upgrade", "head"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: give the store URL: alembic -c")


def test_waldo_db_history_and_downgrade_minus_one(store_url: str) -> None:
    from tests.helpers.cli import run_waldo

    head = Store.head_revision()
    assert run_waldo("--db", store_url, "db", "upgrade").returncode == 0
    listed = run_waldo("--db", store_url, "db", "history")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].startswith(f"{before(head)} -> {head} (current), ")
    down = run_waldo("--db", store_url, "db", "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip().endswith(f"from {head} to {before(head)}.")
    assert Store(store_url, auto_migrate=False).current_revision() == before(head)
    history = run_waldo("--db", store_url, "db", "history").stdout
    assert f"{before(before(head))} -> {before(head)} (current)" in history
