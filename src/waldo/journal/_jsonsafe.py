"""Making user values (runtime parameters, run params) safe to store as JSON.

A parameter Waldo cannot serialise must not break the pipeline: it is stored as its
``repr`` and the user gets one warning naming it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("waldo")


class _Unsafe(Exception):
    """A value that only its repr can store: the walk starts again, naming paths."""


def json_safe(value: Any, what: str = "value") -> Any:
    """Return a JSON-serialisable copy of ``value``; unknown objects become their repr,
    with one warning naming where they are.

    The common case, values that are all JSON already (a 1,000-node pipeline snapshot
    at every run start), is copied without building the path of every element; only
    a value holding something unserialisable is walked again to name it.
    """
    try:
        return _copy(value)
    except _Unsafe:
        return _safe_copy(value, what)


def _copy(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise _Unsafe
    if isinstance(value, Mapping):
        return {str(k): _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [_copy(v) for v in sorted(value, key=repr)]
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        raise _Unsafe from None


def _safe_copy(value: Any, what: str = "value", _path: str = "") -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping):
        return {
            str(k): _safe_copy(v, what, f"{_path}.{k}" if _path else str(k))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_safe_copy(v, what, f"{_path}[{i}]") for i, v in enumerate(items)]
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        pass
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not break the run either
        text = f"<unrepresentable {type(value).__name__}>"
    log.warning(
        "waldo: %s '%s' is a %s, which cannot be stored as JSON; recording its repr",
        what,
        _path or "<root>",
        type(value).__name__,
    )
    return text
