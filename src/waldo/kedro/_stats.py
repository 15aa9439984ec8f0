"""Statistics of a saved dataset, as ``stats:`` in waldo.yml asks for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from waldo.fingerprint import DEFAULT_MAX_ROWS, data_stats


def stats_rows(option: Any) -> int | None:
    """How many rows of a saved table its statistics read, from ``stats:`` in waldo.yml
    (``false``: no statistics; ``{max_rows: N}``: the first N rows of long tables)."""
    if option is False:
        return None
    if isinstance(option, dict):
        return int(option.get("max_rows", DEFAULT_MAX_ROWS))
    return DEFAULT_MAX_ROWS


def saved_stats(data: Any, path: str | None, max_rows: int) -> dict[str, Any] | None:
    """Rows, columns, schema... of a saved value, and its size on disk."""
    stats = data_stats(data, max_rows)
    if path is not None:
        size = _size_on_disk(Path(path))
        if size is not None:
            stats = {**(stats or {"kind": "file"}), "bytes": size}
    return stats


def _size_on_disk(path: Path) -> int | None:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return None
