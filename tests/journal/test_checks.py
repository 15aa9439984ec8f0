"""Check results in the journal: recorded through the Recorder, read back by History,
on SQLite and PostgreSQL; values GX reports (numpy, NaN, timestamps) stored as JSON."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers.journal import record_run, settings_for
from waldo.journal import CheckResult, Journal, Recorder, check_changes
from waldo.journal._checks import plain
from waldo.store import Spool, queries, schema, store_key
from waldo.store._checks import check_results_of


def result(run_id: str, **fields: object) -> CheckResult:
    values: dict[str, object] = {
        "run_id": run_id,
        "node_name": "clean",
        "dataset_name": "clean_out",
        "expectation": "expect_column_values_to_be_between",
        "kwargs": {"column": "rating", "min_value": 0, "max_value": 5},
        "success": True,
        "duration_s": 0.25,
    }
    values.update(fields)
    return CheckResult(**values)  # type: ignore[arg-type]


def test_plain_makes_gx_values_json() -> None:
    values = [np.int64(3), np.float64("nan"), pd.Timestamp("2026-01-02"), pd.NaT, None, "x"]
    assert plain(values) == [3, None, "2026-01-02T00:00:00", None, None, "x"]
    assert plain({"a": (np.bool_(True), math.inf)}) == {"a": [True, None]}


def test_outcome_label_and_observed_text() -> None:
    failed = result("r", success=False, unexpected_count=2, unexpected_values=[7.5, 9])
    assert failed.outcome == "failed"
    assert (
        failed.label
        == "expect_column_values_to_be_between(column=rating, min_value=0, max_value=5)"
    )
    assert failed.observed_text() == "2 unexpected, e.g. 7.5, 9"
    error = result("r", success=False, error='The column "x" does not exist.')
    assert (error.outcome, error.observed_text()) == ("error", 'The column "x" does not exist.')
    counted = result(
        "r",
        expectation="expect_table_row_count_to_be_between",
        kwargs={"min_value": {"$PARAMETER": "n_rows"}},
        observed_value=4,
    )
    assert counted.label == "expect_table_row_count_to_be_between(min_value=$n_rows)"
    assert counted.observed_text() == "observed 4"


def test_recorded_results_read_back(store_url: str, tmp_path: Path) -> None:
    settings = settings_for(store_url, tmp_path)
    recorder = Recorder(settings)
    record_run(recorder, "run-1", flush=False)
    recorder.record_checks(
        [
            result("run-1", dataset_version="v-explicit"),
            result(
                "run-1",
                success=False,
                unexpected_count=np.int64(3),
                unexpected_values=[np.float64(7.5), float("nan"), pd.Timestamp("2026-01-02")],
            ),
            result(
                "run-1",
                node_name=None,
                expectation="expect_table_row_count_to_equal",
                kwargs={"value": 3},
                observed_value=np.int64(4),
                success=False,
            ),
        ]
    )
    assert not recorder.flush().spooled
    journal = Journal(settings)
    found = journal.history.checks("run-1")
    assert [r.outcome for r in found] == ["passed", "failed", "failed"]
    assert found[0].dataset_version == "v-explicit"
    assert found[1].unexpected_count == 3
    assert found[1].unexpected_values == [7.5, None, "2026-01-02T00:00:00"]
    assert found[2].node_name is None and found[2].observed_value == 4
    assert found[0].duration_s == pytest.approx(0.25)
    with journal.store.connect() as conn:
        assert queries.count_rows(conn, schema.check_results) == 3
    journal.store.dispose()


def test_a_result_without_version_takes_the_runs_save(store_url: str, tmp_path: Path) -> None:
    settings = settings_for(store_url, tmp_path)
    recorder = Recorder(settings)
    record_run(recorder, "run-v", flush=False)
    recorder.writer.put(
        "dataset_versions",
        ("run-v", "clean", "clean_out", "save", "v-saved", None, None, None, 1.0e9, None),
    )
    recorder.record_checks([result("run-v")])
    recorder.flush()
    journal = Journal(settings)
    assert journal.history.checks("run-v")[0].dataset_version == "v-saved"
    assert journal.history.checks("latest")[0].run_id == "run-v"
    journal.store.dispose()


def test_changes_between_runs() -> None:
    a = [
        result("a"),
        result("a", expectation="expect_column_to_exist", kwargs={"column": "x"}),
        result("a", dataset_name="gone"),
    ]
    b = [
        result("b", success=False, unexpected_count=1, unexpected_values=[7]),
        result("b", expectation="expect_column_to_exist", kwargs={"column": "x"}),
        result("b", dataset_name="new", success=False, error="cannot run"),
    ]
    changes = check_changes(a, b)
    assert [(c.dataset_name, c.outcome_a, c.outcome_b) for c in changes] == [
        ("clean_out", "passed", "failed"),
        ("new", None, "error"),
        ("gone", "passed", None),
    ]
    assert changes[0].observed_b == "1 unexpected, e.g. 7"


def test_spooled_results_are_replayed_once(tmp_path: Path) -> None:
    """Results that went to the spool are written by `sync`, exactly once: here their
    batch was committed before, its acknowledgement lost, and spooled as well."""
    url = f"sqlite:///{tmp_path / 'waldo.db'}"
    settings = settings_for(url, tmp_path)
    records = [("check_results", result("run-s").row()), ("check_results", result("run-s").row())]
    journal = Journal(settings)
    journal.store.write(records, "batch-1")
    Spool(settings.spool_dir, store_key(url)).append(records, "batch-1")
    Spool(settings.spool_dir, store_key(url)).append(records[:1], "batch-2")
    report = journal.sync()
    assert report.records == 3 and journal.pending() == 0
    assert len(journal.store.run(check_results_of, "run-s")) == 3
    journal.store.dispose()
