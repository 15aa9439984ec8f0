"""Dataset statistics of pandas, pyarrow and polars tables (``waldo.fingerprint.data_stats``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from waldo.fingerprint import data_stats

DAYS = [dt.date(2024, 1, 3), None, dt.date(2023, 12, 31)]
WHEN = [dt.datetime(2024, 5, 1, 12), dt.datetime(2024, 5, 2, 8), None]


def expected(date_min: str, date_max: str) -> dict[str, object]:
    return {
        "kind": "table",
        "rows": 3,
        "columns": 4,
        "nulls": {"id": 0, "score": 1, "day": 1, "when": 1},
        "min_max": {
            "id": {"min": 1, "max": 3},
            "score": {"min": 0.5, "max": 2.5},
            "day": {"min": date_min, "max": date_max},
            "when": {"min": "2024-05-01T12:00:00", "max": "2024-05-02T08:00:00"},
        },
    }


def without_schema(stats: dict[str, object] | None) -> dict[str, object]:
    assert stats is not None
    return {k: v for k, v in stats.items() if k != "schema"}


def test_pandas_frame_with_dates() -> None:
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "score": [0.5, None, 2.5],
            "day": pd.Series(DAYS, dtype="datetime64[ns]"),
            "when": pd.Series(WHEN, dtype="datetime64[ns]"),
        }
    )
    stats = data_stats(frame)
    assert without_schema(stats) == expected("2023-12-31T00:00:00", "2024-01-03T00:00:00")
    assert stats is not None and stats["schema"] == {
        "id": "int64",
        "score": "float64",
        "day": "datetime64[ns]",
        "when": "datetime64[ns]",
    }


def test_pyarrow_table_with_date32_and_timestamps() -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "score": pa.array([0.5, None, 2.5], pa.float64()),
            "day": pa.array(DAYS, pa.date32()),
            "when": pa.array(WHEN, pa.timestamp("us")),
        }
    )
    stats = data_stats(table)
    assert without_schema(stats) == expected("2023-12-31", "2024-01-03")
    assert stats is not None and stats["schema"] == {
        "id": "int64",
        "score": "double",
        "day": "date32[day]",
        "when": "timestamp[us]",
    }


def test_polars_frame_with_dates() -> None:
    frame = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "score": [0.5, None, 2.5],
            "day": pl.Series(DAYS, dtype=pl.Date),
            "when": pl.Series(WHEN, dtype=pl.Datetime("us")),
        }
    )
    stats = data_stats(frame)
    assert without_schema(stats) == expected("2023-12-31", "2024-01-03")
    assert stats is not None and stats["schema"] == {
        "id": "Int64",
        "score": "Float64",
        "day": "Date",
        "when": "Datetime(time_unit='us', time_zone=None)",
    }


@pytest.mark.parametrize("make", [pa.table, pl.DataFrame], ids=["pyarrow", "polars"])
def test_long_arrow_and_polars_tables_are_sampled_but_counted_whole(make: object) -> None:
    table = make({"x": list(range(10))})  # type: ignore[operator]
    stats = data_stats(table, max_rows=4)
    assert stats is not None
    assert stats["rows"] == 10 and stats["sampled"] is True and stats["sample_rows"] == 4
    assert stats["min_max"] == {"x": {"min": 0, "max": 3}}  # of the rows read


def test_not_a_table_has_no_statistics() -> None:
    assert data_stats([1, 2, 3]) is None
    assert data_stats("text") is None
