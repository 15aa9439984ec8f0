"""The ``waldo`` command line: runs, show, sync, db, errors as one line, help."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from tests.helpers.journal import record_run, recorder_for
from waldo.cli import app
from waldo.store import Spool, Store, schema

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"
ENV = {k: v for k, v in os.environ.items() if not k.startswith("WALDO_")}


def waldo_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``waldo ...`` in its own process, as a user types it."""
    return subprocess.run(
        [sys.executable, "-m", "waldo.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=ENV,
        timeout=120,
    )


def waldo(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args), env={"WALDO_DB_URL": None}, prog_name="waldo")
    assert result.exit_code == code, (result.output, result.stderr, result.exception)
    return result


def assert_one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / ".waldo").mkdir(parents=True)  # makes it the project root for -C
    return folder


@pytest.fixture
def filled(store_url: str, project: Path) -> Iterator[str]:
    """A journal with two runs recorded through the Recorder; yields its URL."""
    recorder = recorder_for(store_url, project)
    record_run(recorder, "11111111-aaaa", params={"factor": 2})
    record_run(recorder, "22222222-bbbb", fail_at="clean", pipeline="reporting")
    yield store_url


# -- runs and show ----------------------------------------------------------------------


def test_runs_on_an_empty_journal(project: Path) -> None:
    done = waldo_process("-C", str(project), "runs", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "No runs recorded yet" in done.stdout
    assert (project / ".waldo" / "waldo.db").is_file()  # the default store, created
    assert json.loads(waldo("-C", str(project), "runs", "--format", "json").stdout) == []


def test_runs_as_json_has_the_run_fields(filled: str) -> None:
    runs = json.loads(waldo("--db", filled, "runs", "--format", "json").stdout)
    assert [r["run_id"] for r in runs] == ["22222222-bbbb", "11111111-aaaa"]
    failed, ok = runs
    assert (ok["status"], ok["nodes_ok"], ok["nodes_failed"]) == ("success", 3, 0)
    assert (failed["status"], failed["nodes_ok"], failed["nodes_failed"]) == ("failed", 1, 1)
    assert failed["pipeline_names"] == ["reporting"]
    assert ok["env"] == "local" and ok["runner"] == "SequentialRunner"
    assert ok["started_at"] and ok["finished_at"] and ok["duration_s"] >= 0
    filtered = json.loads(
        waldo("--db", filled, "runs", "--status", "failed", "--format", "json").stdout
    )
    assert [r["run_id"] for r in filtered] == ["22222222-bbbb"]


def test_runs_table_and_show(filled: str) -> None:
    table = waldo("--db", filled, "runs").stdout
    assert "11111111-aaaa" in table and "22222222-bbbb" in table
    assert "success" in table and "failed" in table

    shown = waldo("--db", filled, "show", "2222").stdout  # a unique prefix
    assert "22222222-bbbb" in shown
    assert "load" in shown and "clean" in shown and "train" not in shown
    assert "clean failed on purpose" in shown

    detail = json.loads(waldo("--db", filled, "show", "latest", "--format", "json").stdout)
    assert detail["run_id"] == "22222222-bbbb"
    assert [(n["node_name"], n["status"]) for n in detail["nodes"]] == [
        ("load", "success"),
        ("clean", "failed"),
    ]
    first = json.loads(waldo("--db", filled, "show", "1111", "--format", "json").stdout)
    assert first["runtime_params"] == {"factor": 2}


# -- errors -----------------------------------------------------------------------------


def test_show_unknown_run_is_one_line_and_exit_2(project: Path) -> None:
    done = waldo_process("-C", str(project), "show", "does-not-exist", cwd=project)
    assert done.returncode == 2
    line = assert_one_line_error(done.stderr)
    assert "does-not-exist" in line
    assert done.stdout == ""


@pytest.mark.parametrize("url", ["notaurl", "mysql://x"])
def test_bad_url_is_one_line_and_exit_2(url: str, project: Path) -> None:
    done = waldo_process("--db", url, "runs", cwd=project)
    assert done.returncode == 2, done.stderr
    line = assert_one_line_error(done.stderr)
    assert url.split(":")[0] in line


def test_unreachable_database_is_one_line_and_exit_1(project: Path) -> None:
    done = waldo_process("--db", "postgresql://u:s3cret@127.0.0.1:1/x", "runs", cwd=project)
    assert done.returncode == 1
    line = assert_one_line_error(done.stderr)
    assert "Cannot reach" in line and "s3cret" not in line


# -- db ---------------------------------------------------------------------------------


def test_db_upgrade_current_downgrade(store_url: str) -> None:
    head = Store.head_revision()
    current = waldo("--db", store_url, "db", "current").stdout
    assert "(from --db): revision none" in current
    assert f"from an empty database to {head}" in waldo("--db", store_url, "db", "upgrade").stdout
    assert f"revision {head}, newest {head}" in waldo("--db", store_url, "db", "current").stdout
    assert "already at revision" in waldo("--db", store_url, "db", "upgrade").stdout

    assert f"from {head} to base" in waldo("--db", store_url, "db", "downgrade", "base").stdout
    store = Store(store_url, auto_migrate=False)
    with store.engine.connect() as conn:
        where = "waldo" if conn.dialect.name == "postgresql" else None
        assert set(sa.inspect(conn).get_table_names(schema=where)) <= {"alembic_version"}
    store.dispose()
    assert "revision none" in waldo("--db", store_url, "db", "current").stdout
    assert "to 0001" in waldo("--db", store_url, "db", "upgrade", "0001").stdout
    assert f"from 0001 to {head}" in waldo("--db", store_url, "db", "upgrade").stdout


@pytest.mark.parametrize(
    "args",
    [("downgrade", "nonsense"), ("upgrade", "0999"), ("downgrade", "0002")],
    ids=["unknown-down", "unknown-up", "down-to-newer"],
)
def test_db_to_a_bad_revision_is_one_line_and_exit_2(args: tuple[str, str], project: Path) -> None:
    db = f"sqlite:///{project / 'j.db'}"
    waldo("--db", db, "db", "upgrade", "0001")
    done = waldo_process("--db", db, "db", *args, cwd=project)
    assert done.returncode == 2, done.stderr
    line = assert_one_line_error(done.stderr)
    assert f"'{args[1]}'" in line
    assert "revision 0001," in waldo("--db", db, "db", "current").stdout  # untouched


# -- sync -------------------------------------------------------------------------------


def spool_a_run(project: Path) -> Path:
    """Record a run while the database is unreachable: everything lands in the spool."""
    recorder = recorder_for(UNREACHABLE, project)
    record_run(recorder, "spooled-run", nodes=["a", "b"])
    spool = Spool(project / ".waldo" / "spool")
    assert spool.count_pending_records() > 0
    return spool.directory


def event_count(url: str) -> int:
    store = Store(url)
    with store.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar()
    store.dispose()
    return int(count or 0)


def test_sync_with_an_empty_spool(project: Path) -> None:
    out = waldo("-C", str(project), "sync").stdout
    assert "Nothing to sync" in out


def test_sync_writes_the_spool_once(store_url: str, project: Path, tmp_path: Path) -> None:
    spool_dir = spool_a_run(project)
    pending = Spool(spool_dir).count_pending_records()
    backup = tmp_path / "backup"
    shutil.copytree(spool_dir, backup)

    refused = waldo("-C", str(project), "--db", store_url, "sync")
    assert refused.stdout.splitlines() == [  # spooled for UNREACHABLE: one line says so
        f"Nothing to sync into {store_url}: {pending} spooled row(s) belong to another "
        "store; run `waldo --db URL sync` with that store (or --any-store) to write them."
    ]
    assert Spool(spool_dir).count_pending_records() == pending
    out = waldo("-C", str(project), "--db", store_url, "sync", "--any-store").stdout
    assert out == f"Wrote {pending} of {pending} spooled row(s) into {store_url}.\n"
    runs = json.loads(waldo("--db", store_url, "runs", "--format", "json").stdout)
    assert [(r["run_id"], r["status"], r["nodes_ok"]) for r in runs] == [
        ("spooled-run", "success", 2)
    ]
    events = event_count(store_url)
    assert events == 2 + 2 * 6  # the pipeline's start and end, six per node (load, run, save)

    again = waldo("-C", str(project), "--db", store_url, "sync", "--any-store").stdout
    assert "Nothing to sync" in again
    # the same spool files again (a sync that died before deleting them): no duplicates
    shutil.rmtree(spool_dir)
    shutil.copytree(backup, spool_dir)
    replayed = waldo("-C", str(project), "--db", store_url, "sync", "--any-store").stdout
    assert replayed.startswith(f"Wrote 0 of {pending} spooled row(s) into {store_url}; ")
    assert f"{pending} were already there" in replayed
    assert event_count(store_url) == events
    assert not Spool(spool_dir).has_pending()


def test_sync_while_the_database_is_down_keeps_the_spool(project: Path) -> None:
    spool_dir = spool_a_run(project)
    pending = Spool(spool_dir).count_pending_records()
    done = waldo_process("-C", str(project), "--db", UNREACHABLE, "sync", cwd=project)
    assert done.returncode == 1
    assert_one_line_error(done.stderr)
    assert Spool(spool_dir).count_pending_records() == pending


def test_sync_reports_corrupt_lines(project: Path) -> None:
    spool_dir = spool_a_run(project)
    [path] = Spool(spool_dir).pending_files()
    with open(path, "ab") as handle:
        handle.write(b"{not json\n")
    db = f"sqlite:///{project / 'j.db'}"
    result = waldo("-C", str(project), "--db", db, "sync", "--any-store")
    assert "Skipped 1 corrupt line(s) that do not parse" in result.stderr
    assert (spool_dir / f"{path.name}.corrupt").read_bytes() == b"{not json\n"
    assert event_count(db) == 2 + 2 * 6


def test_sync_writes_repaired_corrupt_lines(project: Path) -> None:
    """A line set aside as corrupt is written by the next sync once it parses."""
    spool_dir = spool_a_run(project)
    [path] = Spool(spool_dir).pending_files()
    lines = path.read_bytes().splitlines()
    broken = next(i for i, line in enumerate(lines) if b"after_node_run" in line)
    original = lines[broken]
    lines[broken] = original[: len(original) // 2]
    path.write_bytes(b"\n".join(lines) + b"\n")
    db = f"sqlite:///{project / 'j.db'}"
    first = waldo("-C", str(project), "--db", db, "sync", "--any-store")
    assert "Skipped 1 corrupt line(s)" in first.stderr
    assert event_count(db) == 2 + 2 * 6 - 1  # every event but the broken line's
    corrupt = spool_dir / f"{path.name}.corrupt"
    assert stat.S_IMODE(corrupt.stat().st_mode) == 0o600

    corrupt.write_bytes(original + b"\n")  # repaired
    second = waldo("-C", str(project), "--db", db, "sync", "--any-store")
    assert second.exit_code == 0, second.stderr
    assert second.stdout == (
        f"Wrote 1 of 1 spooled row(s) into {db} (1 from repaired corrupt lines).\n"
    )
    assert second.stderr == ""
    assert event_count(db) == 2 + 2 * 6
    assert "Nothing to sync" in waldo("-C", str(project), "--db", db, "sync").stdout


# -- help -------------------------------------------------------------------------------


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_help_of_every_command() -> None:
    paths = list(command_paths(app))
    assert {("runs",), ("show",), ("sync",), ("db", "upgrade"), ("db", "current")} <= set(paths)
    for path in paths:
        out = waldo(*path, "--help").stdout
        assert out.startswith("Usage: "), path
        assert " ".join(("waldo", *path)) in out.splitlines()[0]


def test_help_as_a_process(tmp_path: Path) -> None:
    done = waldo_process("--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "runs" in done.stdout and "sync" in done.stdout and "db" in done.stdout
