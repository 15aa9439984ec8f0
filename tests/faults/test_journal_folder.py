"""Faults of the journal's own files during a real ``kedro run``: a read-only ``.waldo``
folder and a corrupt database file. The pipeline succeeds with one clear warning and
no traceback; where rows could be kept (the spool elsewhere), they arrive exactly once
once the fault is repaired and ``waldo sync`` runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults._local import read_only
from tests.helpers.projects import chain_project
from tests.kedro._e2e import (
    event_counts,
    expected_events,
    journal_at,
    output_of,
    run_kedro,
    waldo,
    waldo_warnings,
)
from waldo.store import Spool

pytestmark = pytest.mark.slow

NODES = 2


def fresh_project(root: Path, waldo_yml: str | None = None) -> Path:
    project = chain_project(root, nodes=NODES, waldo_yml=waldo_yml)
    first = run_kedro(project, "run")  # a journal exists before the fault
    assert first.returncode == 0, output_of(first)
    for output in (project / "data").glob("d*.csv"):
        output.unlink()  # the next run must write them again
    return project


def outputs_written(project: Path) -> bool:
    return all((project / "data" / f"d{i}.csv").is_file() for i in range(NODES))


def test_read_only_journal_folder_keeps_the_rows_in_the_spool(tmp_path: Path) -> None:
    """The journal's folder cannot be written; the spool (``spool_dir:``) can."""
    project = fresh_project(tmp_path / "proj", waldo_yml="spool_dir: spool\n")
    journal = journal_at(project)
    [before] = journal.history.runs()
    with read_only(project / ".waldo"):
        done = run_kedro(project, "run")
        output = output_of(done)
        assert done.returncode == 0, output
        assert outputs_written(project)
        assert "Traceback" not in output
        [warning] = waldo_warnings(output)
        # Its words vary with the moment SQLite notices ("unable to open database
        # file", "attempt to write a readonly database"); what it says is the spool.
        assert "spool" in warning
        pending = Spool(project / "spool").count_pending_records()
        assert pending > 0
    synced = waldo(project, "sync")
    assert synced.returncode == 0, synced.stderr
    assert f"Wrote {pending} of {pending} spooled row(s)" in synced.stdout
    runs = journal.history.runs()
    assert [r.run_id for r in runs][1:] == [before.run_id]
    assert (runs[0].status, runs[0].nodes_ok) == ("success", NODES)
    assert event_counts(journal, runs[0].run_id) == expected_events(NODES)
    assert "Nothing to sync" in waldo(project, "sync").stdout  # written once only
    assert event_counts(journal, runs[0].run_id) == expected_events(NODES)


def test_the_next_run_writes_what_a_run_left_in_the_spool(tmp_path: Path) -> None:
    """No `waldo sync`: the next `kedro run` that reaches the store replays the spool."""
    project = fresh_project(tmp_path / "proj", waldo_yml="spool_dir: spool\n")
    journal = journal_at(project)
    with read_only(project / ".waldo"):
        spooled = run_kedro(project, "run")
        assert spooled.returncode == 0, output_of(spooled)
    assert Spool(project / "spool").count_pending_records() > 0
    after = run_kedro(project, "run")
    assert after.returncode == 0, output_of(after)
    assert Spool(project / "spool").count_pending_records() == 0
    runs = journal.history.runs()
    assert [(r.status, r.nodes_ok) for r in runs] == [("success", NODES)] * 3
    for run in runs:
        assert event_counts(journal, run.run_id) == expected_events(NODES)  # each once


@pytest.fixture
def read_only_everything(tmp_path: Path) -> tuple[Path, str]:
    """A run whose journal folder, spool included, cannot be written at all."""
    project = fresh_project(tmp_path / "proj")
    with read_only(project / ".waldo"):
        done = run_kedro(project, "run")
    assert done.returncode == 0, output_of(done)
    assert outputs_written(project)
    return project, output_of(done)


def test_read_only_waldo_folder_never_fails_the_pipeline(
    read_only_everything: tuple[Path, str],
) -> None:
    _project, output = read_only_everything
    assert "Traceback" not in output
    warnings = waldo_warnings(output)
    assert any("lost" in w and "Read-only file system" in w for w in warnings), warnings


def test_read_only_waldo_folder_is_one_warning(read_only_everything: tuple[Path, str]) -> None:
    _project, output = read_only_everything
    assert len(waldo_warnings(output)) == 1


def test_corrupt_database_file(tmp_path: Path) -> None:
    project = fresh_project(tmp_path / "proj")
    database = project / ".waldo" / "waldo.db"
    for companion in project.glob(".waldo/waldo.db-*"):
        companion.unlink()
    database.write_bytes(b"not a database, whatever it was " * 512)

    done = run_kedro(project, "run")
    output = output_of(done)
    assert done.returncode == 0, output
    assert outputs_written(project)
    assert "Traceback" not in output
    [warning] = waldo_warnings(output)
    assert "file is not a database" in warning and str(database) in warning
    pending = Spool(project / ".waldo" / "spool").count_pending_records()
    assert pending > 0

    listed = waldo(project, "runs")  # the journal cannot be read: one line, no traceback
    assert listed.returncode == 1
    assert listed.stderr.strip().splitlines() == [listed.stderr.strip()]
    assert "file is not a database" in listed.stderr

    database.rename(database.with_suffix(".corrupt"))  # the repair: set it aside
    synced = waldo(project, "sync")
    assert synced.returncode == 0, synced.stderr
    assert f"Wrote {pending} of {pending} spooled row(s)" in synced.stdout
    journal = journal_at(project)
    [run] = journal.history.runs()  # the run recorded while the file was corrupt
    assert (run.status, run.nodes_ok) == ("success", NODES)
    assert event_counts(journal, run.run_id) == expected_events(NODES)
    assert "Nothing to sync" in waldo(project, "sync").stdout
