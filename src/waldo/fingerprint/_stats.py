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
    stats: dict[str, Any] = {
        "kind": "table",
        "rows": rows,
        "columns": int(frame.shape[1]),
        "schema": {str(c): str(t) for c, t in frame.dtypes.items()},
        "nulls": {str(c): int(n) for c, n in part.isna().sum().items()},
    }
    bounds: dict[str, dict[str, Any]] = {}
    for column in part.columns:
        series = part[column]
        if series.dtype.kind in "biufmM" and len(series.dropna()):
            bounds[str(column)] = {"min": _plain(series.min()), "max": _plain(series.max())}
    stats["min_max"] = bounds
    if sampled:
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
        if module in ("pyarrow", "polars") and hasattr(obj, "schema"):
            head = obj.slice(0, max_rows) if max_rows else obj
            stats = _pandas_stats(head.to_pandas(), 0)
            stats["rows"] = int(obj.num_rows if module == "pyarrow" else obj.height)
            if max_rows and stats["rows"] > max_rows:
                stats["sampled"] = True
                stats["sample_rows"] = max_rows
            return stats
    except Exception:  # statistics are a courtesy: never break a run over them
        return None
    return None
