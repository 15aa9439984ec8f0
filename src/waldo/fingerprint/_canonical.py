"""Canonical, type-tagged encoding of plain values (parameters, small data).

Two values get the same encoding only if they are equal *and* of the same kind:
``1``, ``1.0``, ``True`` and ``"1"`` all differ; key order of mappings does not matter;
lists and tuples are both sequences. Anything else raises :class:`Unfingerprintable`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from waldo._errors import Unfingerprintable


def canonical(value: Any) -> Any:
    """A JSON-ready, type-tagged form of ``value``."""
    if value is None:
        return ["none"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", "nan" if math.isnan(value) else repr(value)]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ["bytes", bytes(value).hex()]
    if isinstance(value, Mapping):
        items = [(canonical(k), canonical(v)) for k, v in value.items()]
        items.sort(key=lambda kv: repr(kv[0]))
        return ["map", items]
    if isinstance(value, (list, tuple)):
        return ["seq", [canonical(v) for v in value]]
    if isinstance(value, (set, frozenset)):
        return ["set", sorted((canonical(v) for v in value), key=repr)]
    if isinstance(value, dt.datetime):
        return ["datetime", value.isoformat()]
    if isinstance(value, dt.date):
        return ["date", value.isoformat()]
    if isinstance(value, dt.timedelta):
        return ["timedelta", value.total_seconds()]
    if isinstance(value, decimal.Decimal):
        return ["decimal", str(value)]
    if isinstance(value, PurePath):
        return ["path", value.as_posix()]
    item = getattr(value, "item", None)
    dtype = getattr(value, "dtype", None)
    if callable(item) and dtype is not None and getattr(value, "shape", None) == ():
        return ["scalar", str(dtype), canonical(item())]  # numpy scalars
    raise Unfingerprintable(f"a {type(value).__module__}.{type(value).__qualname__} value")
