"""Great Expectations 1.x on real frames, in process: verdicts, and every way a check
can fail to run turned into an error verdict, never an exception."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from waldo.kedro._checks_config import Expectation
from waldo.kedro._gx import GxRunner


@pytest.fixture(scope="module")
def runner() -> GxRunner:
    return GxRunner()


def frame() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, None, 4], "rating": [1.0, 7.0, 3.0, 2.5]})


def expect(type_: str, **kwargs: object) -> Expectation:
    return Expectation(type_, kwargs)


def test_verdicts_of_a_suite(runner: GxRunner) -> None:
    prepared = runner.prepare(
        [
            expect("expect_column_values_to_not_be_null", column="id"),
            expect("expect_column_values_to_be_between", column="rating", min_value=0, max_value=5),
            expect("expect_table_row_count_to_be_between", min_value=1),
        ]
    )
    not_null, between, rows = runner.validate(frame(), prepared)
    assert (not_null.success, not_null.unexpected_count, not_null.error) == (False, 1, None)
    assert (between.success, between.unexpected_values) == (False, [7.0])
    assert (rows.success, rows.observed_value) == (True, 4)


def test_what_cannot_run_is_an_error_verdict(runner: GxRunner) -> None:
    prepared = runner.prepare(
        [
            expect("expect_nonsense", column="id"),
            expect("expect_column_values_to_not_be_null"),
            expect("expect_column_values_to_not_be_null", column="nope"),
            expect("expect_table_row_count_to_equal", value={"$PARAMETER": "n"}),
            expect("expect_column_values_to_not_be_null", column="rating"),
        ]
    )
    unknown, no_column_arg, missing_column, no_parameter, fine = runner.validate(frame(), prepared)
    assert (
        unknown.error == "unknown expectation expect_nonsense (see the Great Expectations gallery)"
    )
    assert no_column_arg.error == "bad argument column: field required"
    assert missing_column.error == 'The column "nope" in BatchData does not exist.'
    assert no_parameter.error == "suite parameter n has no value (see `parameters:`)"
    assert fine.success and fine.error is None
    assert not any(v.success for v in (unknown, no_column_arg, missing_column, no_parameter))


def test_suite_parameters(runner: GxRunner) -> None:
    prepared = runner.prepare(
        [expect("expect_table_row_count_to_equal", value={"$PARAMETER": "n"})]
    )
    assert runner.validate(frame(), prepared, {"n": 4})[0].success
    assert not runner.validate(frame(), prepared, {"n": 5})[0].success


def test_other_tables_and_values(runner: GxRunner) -> None:
    prepared = runner.prepare([expect("expect_column_values_to_be_unique", column="id")])
    assert runner.validate(pl.DataFrame({"id": [1, 2, 3]}), prepared)[0].success
    (verdict,) = runner.validate(np.arange(3), prepared)
    assert verdict.error is not None and verdict.error.startswith("checks run on tables")
    assert "numpy.ndarray" in verdict.error


def test_no_files_are_written(
    runner: GxRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    fresh = GxRunner()
    prepared = fresh.prepare([expect("expect_column_to_exist", column="id")])
    assert fresh.validate(frame(), prepared)[0].success
    assert list(tmp_path.iterdir()) == []
