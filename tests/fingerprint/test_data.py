"""Data fingerprints: same data, same digest; any difference in values, types or shape
gives another one; objects that cannot be hashed are unknown, with one warning."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import xxhash

from waldo.fingerprint import Fingerprint, data_fingerprint
from waldo.fingerprint._data import _feed


def digest(obj: object) -> str | None:
    return data_fingerprint(obj).digest


def test_one_one_point_zero_and_string_one_differ() -> None:
    assert len({digest(1), digest(1.0), digest("1"), digest(True)}) == 4


def test_equal_frames_built_differently_have_equal_digests() -> None:
    a = pd.DataFrame({"x": [1.0, 2.0, np.nan], "y": ["a", "b", None]})
    b = pd.DataFrame.from_records([(1.0, "a"), (2.0, "b"), (np.nan, None)], columns=["x", "y"])
    assert digest(a) == digest(b)
    assert digest(a) == digest(a.copy())


@pytest.mark.parametrize(
    "change",
    [
        lambda df: df.assign(x=df["x"] + 1),
        lambda df: df[["y", "x"]],
        lambda df: df.astype({"x": "float32"}),
        lambda df: df.rename(columns={"x": "z"}),
        lambda df: df.set_axis([10, 11, 12]),
        lambda df: df.iloc[:2],
        lambda df: df.assign(y=["a", "b", "c"]),
    ],
    ids=["values", "column order", "dtype", "column name", "index", "shape", "strings"],
)
def test_any_change_changes_the_digest(change) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "b", None]})
    assert digest(change(df)) != digest(df)


def test_numpy_dtype_and_shape_count() -> None:
    a = np.arange(6, dtype="int64")
    assert digest(a) == digest(np.arange(6, dtype="int64"))
    assert digest(a) != digest(a.astype("int32"))
    assert digest(a) != digest(a.reshape(2, 3))
    assert digest(a[::2]) == digest(np.array([0, 2, 4]))  # strided views hash by value


def test_dates_and_durations_are_fingerprinted_by_value_and_unit() -> None:
    when = pd.to_datetime(["2024-01-01 00:00", "2024-06-30 12:00"])
    frame = pd.DataFrame({"when": when, "took": when - when[0]})
    assert data_fingerprint(frame).known
    assert digest(frame) == digest(frame.copy())
    assert digest(frame) != digest(frame.assign(when=when + pd.Timedelta(seconds=1)))
    assert digest(when.to_numpy()) != digest(when.to_numpy().astype("datetime64[s]"))


def test_arrow_chunking_does_not_matter() -> None:
    whole = pa.table({"a": [1, 2, 3, 4]})
    chunked = pa.Table.from_batches(whole.to_batches(max_chunksize=2))
    assert digest(whole) == digest(chunked)
    assert digest(whole) != digest(pa.table({"a": [1, 2, 3, 5]}))


def test_plain_python_containers() -> None:
    assert digest({"b": 1, "a": [1, 2]}) == digest({"a": [1, 2], "b": 1})
    assert digest([1, 2]) != digest([2, 1])


def test_unknown_objects_are_recorded_as_unknown_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Opaque:
        pass

    with caplog.at_level(logging.WARNING, logger="waldo"):
        first = data_fingerprint(Opaque())
        second = data_fingerprint(Opaque())
    assert not first.known and first.digest is None and "Opaque" in first.kind
    assert second.digest is None
    assert len([r for r in caplog.records if "Opaque" in r.getMessage()]) == 1


def test_polars_frames_hash_through_arrow() -> None:
    pl = pytest.importorskip("polars")
    a = pl.DataFrame({"x": [1, 2, 3], "y": ["a", "b", None]})
    assert digest(a) == digest(pl.DataFrame({"x": [1, 2, 3], "y": ["a", "b", None]}))
    assert digest(a) != digest(a.with_columns(pl.col("x") + 1))
    assert data_fingerprint(a).kind == "polars.DataFrame"
    assert digest(a) != digest(a.to_pandas())  # a different kind of object


@pytest.mark.parametrize(
    "value",
    [0, -3, 10**30, 1.5, -0.0, 1e300, float("nan"), float("inf"), "", "x", 'é☃"\\\n', True, None],
)
def test_plain_scalars_keep_the_digest_of_the_general_path(value: object) -> None:
    """Scalars take a short path (a small node's output is fingerprinted at every
    save); their digests must stay those of the general path, or every incremental
    run after an upgrade would see them as changed."""
    h = xxhash.xxh3_128()
    kind = _feed(h, value)
    assert data_fingerprint(value) == Fingerprint(h.hexdigest(), kind)
