"""``waldo checks``, and the checks in ``waldo show`` and ``waldo diff``, on a journal
filled through the Recorder (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.helpers.journal import record_run, recorder_for
from waldo.cli import app
from waldo.journal import CheckResult


def waldo(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args), env={"WALDO_DB_URL": None}, prog_name="waldo")
    assert result.exit_code == code, (result.output, result.stderr, result.exception)
    return result


def check(run_id: str, success: bool, **fields: object) -> CheckResult:
    values: dict[str, object] = {
        "run_id": run_id,
        "node_name": "clean",
        "dataset_name": "clean_out",
        "expectation": "expect_column_values_to_be_between",
        "kwargs": {"column": "rating", "max_value": 5},
        "success": success,
        "duration_s": 0.2,
        "checked_at": 1.0e9,
    }
    if not success:
        values.update(unexpected_count=2, unexpected_values=[7, 9])
    values.update(fields)
    return CheckResult(**values)  # type: ignore[arg-type]


@pytest.fixture
def journal(store_url: str, tmp_path: Path) -> Iterator[str]:
    """Two runs: in the second, the rating check fails and a row count check errs."""
    recorder = recorder_for(store_url, tmp_path)
    record_run(recorder, "run-1", flush=False)
    recorder.record_checks([check("run-1", True)])
    record_run(recorder, "run-2", flush=False)
    count = {"expectation": "expect_table_row_count_to_equal", "kwargs": {"value": 3}}
    recorder.record_checks(
        [
            check("run-2", False),
            check("run-2", False, node_name=None, error="cannot load clean_out: gone", **count),
        ]
    )
    assert not recorder.flush().spooled
    yield store_url


def test_checks_lists_a_runs_results(journal: str) -> None:
    listed = json.loads(waldo("--db", journal, "checks", "run-2", "--format", "json").stdout)
    assert [(c["node_name"], c["outcome"], c["observed"]) for c in listed] == [
        ("clean", "failed", "2 unexpected, e.g. 7, 9"),
        (None, "error", "cannot load clean_out: gone"),
    ]
    table = waldo("--db", journal, "checks").stdout  # latest: run-2
    assert "Checks of run run-2" in table and "(pipeline end)" in table
    assert "expect_column_values_to_be_between(column=rating, max_value=5)" in table
    passed = json.loads(
        waldo("--db", journal, "checks", "run-1", "--failed", "--format", "json").stdout
    )
    assert passed == []
    assert (
        "No failed checks in run run-1"
        in waldo("--db", journal, "checks", "run-1", "--failed").stdout
    )


def test_show_lists_failed_checks_under_their_node(journal: str) -> None:
    out = waldo("--db", journal, "show", "run-2").stdout
    assert "checks        1 failed, 1 error" in out
    lines = out.split("Failed checks\n", 1)[1].splitlines()
    assert lines[0].strip() == "clean"
    assert (
        lines[1].strip().startswith("check failed clean_out: expect_column_values_to_be_between(")
    )
    assert lines[2].strip() == "at the end of the pipeline"
    assert lines[3].strip() == (
        "check error clean_out: expect_table_row_count_to_equal(value=3): "
        "cannot load clean_out: gone"
    )
    shown = json.loads(waldo("--db", journal, "show", "run-2", "--format", "json").stdout)
    assert [c["outcome"] for c in shown["checks"]] == ["failed", "error"]
    assert "Failed checks" not in waldo("--db", journal, "show", "run-1").stdout


def test_diff_shows_checks_that_changed_outcome(journal: str) -> None:
    result = json.loads(waldo("--db", journal, "diff", "run-1", "run-2", "--format", "json").stdout)
    assert [(c["dataset_name"], c["outcome_a"], c["outcome_b"]) for c in result["checks"]] == [
        ("clean_out", "passed", "failed"),
        ("clean_out", None, "error"),
    ]
    table = waldo("--db", journal, "diff", "run-1", "run-2").stdout
    assert "check clean_out (clean)" in table and "passed" in table and "failed" in table
    same = json.loads(waldo("--db", journal, "diff", "run-2", "run-2", "--format", "json").stdout)
    assert same["checks"] == []


def test_checks_of_an_unknown_run_is_one_line(journal: str) -> None:
    result = waldo("--db", journal, "checks", "nope", code=2)  # a user's mistake
    assert "No run 'nope' in the journal" in result.stderr
    assert "Traceback" not in result.stderr
