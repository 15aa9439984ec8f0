"""Hostile and mistaken input on the command line: one line (exit 2), never a
traceback, never a journal made where there is no project, recorded names as text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.helpers.cli import run_waldo as waldo_process
from tests.helpers.journal import record_run, recorder_for
from waldo.cli import app

HOSTILE = ["[/bold]", "[red]red[/red]", ":warning:", "[link=http://x]y[/link]"]


def waldo(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args), env={"WALDO_DB_URL": None}, prog_name="waldo")
    assert result.exit_code == code, (result.output, result.stderr, result.exception)
    return result


def one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


# -- recorded names are text --------------------------------------------------------------


@pytest.fixture
def hostile(store_url: str, tmp_path: Path) -> Iterator[str]:
    """Two runs whose pipelines, nodes and parameters carry Rich markup and emoji codes."""
    recorder = recorder_for(store_url, tmp_path)
    record_run(recorder, "run-a", nodes=HOSTILE, pipeline="[/bold]", params={"[red]": "[/]"})
    record_run(recorder, "run-b", nodes=HOSTILE[:2], pipeline="[red]p", fail_at="[red]red[/red]")
    yield store_url


def test_markup_in_recorded_names_is_shown_as_text(hostile: str) -> None:
    listed = waldo("--db", hostile, "runs").stdout
    assert "[/bold]" in listed and "[red]p" in listed
    shown = waldo("--db", hostile, "show", "run-a").stdout
    for name in HOSTILE:
        assert name in shown
    assert '"[red]": "[/]"' in shown
    failed = waldo("--db", hostile, "show", "run-b").stdout
    assert "[red]red[/red] failed" in failed
    diff = waldo("--db", hostile, "diff", "run-a", "run-b", "--all").stdout
    for name in HOSTILE:
        assert name in diff
    assert "[/]" in diff  # the parameter's value


def test_markup_in_a_terminal_is_not_coloured(hostile: str) -> None:
    """Forced colours (a terminal): our own styles show, the names' markup does not."""
    result = CliRunner().invoke(
        app,
        ["--db", hostile, "runs"],
        env={"FORCE_COLOR": "1", "COLUMNS": "200", "WALDO_DB_URL": None},
    )
    assert result.exit_code == 0, result.output
    assert "\x1b[" in result.stdout  # the statuses are coloured
    assert "[red]p" in result.stdout and "[/bold]" in result.stdout


# -- numbers, dates, ports, paths ---------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "--limit", "99999999999999999999"),
        ("runs", "--limit", "-5"),
        ("runs", "--limit", "0"),
        ("runs", "--limit", "many"),
        ("results", "contexts", "--limit", "-1"),
        ("results", "top", "iforest", "-k", "99999999999999999999"),
        ("results", "compare", "--top", "0"),
        ("serve", "--port", "99999"),
        ("serve", "--port", "-1"),
        pytest.param(("demo", "--runs", "0"), marks=pytest.mark.slow),  # `waldo demo`
        ("export", "openlineage", "--since", "last tuesday"),
        ("export", "openlineage", "--until", "2026-13-45"),
        ("--no-such-option", "runs"),
        ("runs", "--no-such-option"),
    ],
)
def test_bad_values_are_one_line_and_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'j.db'}"
    done = waldo_process("--db", db, *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    line = one_line_error(done.stderr)
    assert "-h` for help" in line or "is not a date" in line


def test_the_largest_limit_and_the_ends_of_the_calendar_are_fine(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'j.db'}"
    record_run(recorder_for(db, tmp_path), "only-run")
    runs = json.loads(
        waldo("--db", db, "runs", "--limit", str(2**63 - 1), "--format", "json").stdout
    )
    assert [r["run_id"] for r in runs] == ["only-run"]
    for tz in ("UTC", "Asia/Tokyo", "America/Los_Angeles"):
        done = waldo_process(
            "--db",
            db,
            "export",
            "openlineage",
            "--transport",
            "file",
            "--path",
            str(tmp_path / "events.jsonl"),
            "--since",
            "0001-01-01",
            "--until",
            "9999-12-31",
            cwd=tmp_path,
            env={"TZ": tz},
        )
        assert done.returncode == 0, done.stderr
        assert "for 1 run(s)" in done.stderr


@pytest.mark.slow  # `waldo demo` starts kedro runs when it gets that far
def test_demo_in_a_folder_that_cannot_be_made(tmp_path: Path) -> None:
    done = waldo_process("demo", "/proc/waldo-demo-here", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "/proc/waldo-demo-here" in one_line_error(done.stderr)


@pytest.mark.parametrize("token", ["", " ", "short-token", " " * 20])
def test_serve_refuses_an_empty_or_short_token(token: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'j.db'}"
    done = waldo_process("--db", db, "serve", "--host", "0.0.0.0", "--token", token, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "at least 16 characters" in one_line_error(done.stderr)
    assert not (tmp_path / "j.db").exists()  # refused before touching anything


# -- no journal outside a project ---------------------------------------------------------


def test_outside_a_project_nothing_is_created(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-project"
    (folder / "below").mkdir(parents=True)
    for args in (("runs",), ("show", "latest"), ("sync",), ("db", "current"), ("serve",)):
        done = waldo_process(*args, cwd=folder)
        assert done.returncode == 2, (args, done.stderr)
        line = one_line_error(done.stderr)
        assert "not in a Waldo project" in line and "--db" in line
    done = waldo_process("runs", cwd=folder / "below")
    assert done.returncode == 2
    assert files_under(folder) == [folder / "below"]


def test_a_project_folder_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "project"
    for args in (("-C", str(missing), "runs"), ("-C", str(missing), "dpo", "init-execution")):
        done = waldo_process(*args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert str(missing) in one_line_error(done.stderr)
    assert not (tmp_path / "nowhere").exists()


def test_outside_a_project_a_given_store_is_used(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'given.db'}"
    folder = tmp_path / "plain"
    folder.mkdir()
    assert waldo_process("--db", db, "runs", cwd=folder).returncode == 0
    assert waldo_process("runs", cwd=folder, env={"WALDO_DB_URL": db}).returncode == 0
    assert files_under(folder) == []


def test_an_unknown_environment_is_one_line(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "conf" / "base").mkdir(parents=True)
    (project / "conf" / "local").mkdir()
    (project / ".waldo").mkdir()
    done = waldo_process("--env", "nosuchenv", "runs", cwd=project)
    assert done.returncode == 2, done.stderr
    line = one_line_error(done.stderr)
    assert "nosuchenv" in line and "base, local" in line
    assert waldo_process("--env", "local", "runs", cwd=project).returncode == 0
