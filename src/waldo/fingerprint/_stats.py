"""Dataset statistics (the brainstorm's "save stats/meta data"): pure, no database.

For tabular data: rows, columns, schema, null counts, and min/max of numeric, boolean
and datetime columns. Frames longer than ``max_rows`` are summarised on their first
``max_rows`` rows (and say so with ``"sampled": true``); ``max_rows=0`` means all
rows. Anything that is not a table gets None: file sizes are added by the caller.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

DEFAULT_MAX_ROWS = 1_000_000


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar (numpy and pandas scalars, timestamps, NaN as None)."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        with contextlib.suppress(ValueError, TypeError):
            value = item()
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


def _pandas_stats(frame: Any, max_rows: int) -> dict[str, Any]:
    rows = len(frame)
    sampled = bool(max_rows) and rows > max_rows
    part = frame.iloc[:max_rows] if sampled else frame
    nulls: dict[str, int] = {}
    bounds: dict[str, dict[str, Any]] = {}
    for column, dtype in part.dtypes.items():
        missing, low_high = _column_stats(part[column], dtype)
        nulls[str(column)] = missing
        if low_high is not None:
            bounds[str(column)] = {"min": _plain(low_high[0]), "max": _plain(low_high[1])}
    stats: dict[str, Any] = {
        "kind": "table",
        "rows": rows,
        "columns": int(frame.shape[1]),
        "schema": {str(c): str(t) for c, t in frame.dtypes.items()},
        "nulls": nulls,
        "min_max": bounds,
    }
    if sampled:
        stats["sampled"] = True
        stats["sample_rows"] = max_rows
    return stats


def _column_stats(series: Any, dtype: Any) -> tuple[int, tuple[Any, Any] | None]:
    """A column's null count and, when it has an order, its (min, max): on its numpy
    values for plain numpy dtypes (pandas' own reductions cost several times more)."""
    import numpy as np

    if isinstance(dtype, np.dtype) and dtype.kind in "biufmM":
        values = series.to_numpy()
        missing: Any = None  # integers and booleans have no missing values
        if dtype.kind in "fc":
            missing = np.isnan(values)
        elif dtype.kind in "mM":
            missing = np.isnat(values)
        count = int(missing.sum()) if missing is not None else 0
        if count == len(values):
            return count, None
        present = values[~missing] if count else values
        low, high = present.min(), present.max()
        if dtype.kind in "mM":  # numpy's scalars of these would give bare integers
            import pandas as pd

            convert = pd.Timestamp if dtype.kind == "M" else pd.Timedelta
            low, high = convert(low), convert(high)
        return count, (low, high)
    count = int(series.isna().sum())
    plain_objects = isinstance(dtype, np.dtype) and dtype.kind == "O"
    if dtype.kind not in "biufmM" and not plain_objects:  # categories, strings...
        return count, None
    values = series.dropna()
    if len(values) and _ordered(values):
        return count, (values.min(), values.max())
    return count, None


def _ordered(values: Any) -> bool:
    """Numbers, booleans, datetimes, and object columns holding only dates (what Arrow's
    date types become in pandas) have a min and a max worth showing."""
    if values.dtype.kind in "biufmM":
        return True
    from pandas.api.types import infer_dtype

    return values.dtype.kind == "O" and infer_dtype(values, skipna=True) in ("date", "datetime")


def _arrow_stats(table: Any, max_rows: int) -> dict[str, Any]:
    """Statistics of a pyarrow table (rows counted whole, values read up to ``max_rows``),
    with its schema in Arrow's own type names."""
    head = table.slice(0, max_rows) if max_rows else table
    stats = _pandas_stats(head.to_pandas(), 0)
    stats["rows"] = int(table.num_rows)
    stats["schema"] = {field.name: str(field.type) for field in table.schema}
    if max_rows and stats["rows"] > max_rows:
        stats["sampled"] = True
        stats["sample_rows"] = max_rows
    return stats


def data_stats(obj: Any, max_rows: int = DEFAULT_MAX_ROWS) -> dict[str, Any] | None:
    """Statistics of a table-like object; None for anything else."""
    module = type(obj).__module__.split(".")[0]
    try:
        if module == "pandas" and hasattr(obj, "dtypes") and hasattr(obj, "columns"):
            return _pandas_stats(obj, max_rows)
        if module == "pandas" and hasattr(obj, "dtype") and hasattr(obj, "to_frame"):
            return _pandas_stats(obj.to_frame(), max_rows)
        if module == "pyarrow" and hasattr(obj, "schema"):
            return _arrow_stats(obj, max_rows)
        if module == "polars" and hasattr(obj, "schema"):
            stats = _arrow_stats(obj.to_arrow(), max_rows)
            stats["schema"] = {str(name): str(dtype) for name, dtype in obj.schema.items()}
            return stats
    except Exception:  # statistics are a courtesy: never break a run over them
        return None
    return None
