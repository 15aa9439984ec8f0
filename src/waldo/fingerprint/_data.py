"""Fingerprints of data objects: the same data gives the same digest, cheaply.

Hashing is xxh3-128 over the objects' buffers, streamed without copies where the
memory is contiguous. Type, dtype or schema and shape go into the digest too, so
``1``, ``1.0`` and ``"1"`` differ, and so do two frames with the same numbers but
different column names, order or dtypes.

* numpy arrays: dtype, shape and the raw buffer (object arrays element by element);
* pandas DataFrame / Series / Index: per column its name, dtype and values (numeric,
  boolean and datetime columns are hashed from their numpy buffer; string, object and
  categorical columns through ``pandas.util.hash_array``), plus the index;
* pyarrow Table / RecordBatch / Array and polars frames (through Arrow): schema and
  buffers of every chunk;
* plain Python values (None, numbers, strings, bytes, lists, dicts, sets, dates):
  their canonical encoding.

Anything else is *unknown*: :func:`data_fingerprint` returns ``known=False`` and a
reason (which counts as changed), and logs one warning per type.
"""

from __future__ import annotations

import json
import logging
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple

import xxhash

from waldo._errors import Unfingerprintable
from waldo.fingerprint._canonical import canonical

log = logging.getLogger("waldo")
_warned_types: set[str] = set()


class Fingerprint(NamedTuple):
    """A data fingerprint: ``digest`` is None when the object could not be hashed.

    A named tuple rather than a frozen dataclass: one is made at every dataset save of
    a run, and a frozen dataclass's ``__init__`` costs four ``object.__setattr__`` calls.
    """

    digest: str | None
    kind: str
    known: bool = True
    reason: str | None = None


# What json.dumps(parts, default=str, separators=(",", ":")) builds on every call,
# built once: the same text, without constructing an encoder per tag.
_encode = json.JSONEncoder(default=str, separators=(",", ":")).encode


def _tag(h: Any, *parts: Any) -> None:
    h.update(_encode(parts).encode())
    h.update(b"\0")


def _numpy(h: Any, array: Any) -> None:
    import numpy as np

    _tag(h, "ndarray", array.dtype.str, list(array.shape))
    if array.dtype.hasobject:
        for item in array.ravel(order="C"):
            _plain(h, item)
        return
    contiguous = np.ascontiguousarray(array)
    if contiguous.dtype.kind in "mM":  # no buffer protocol: its int64 ticks (unit tagged)
        contiguous = contiguous.view(np.int64)
    h.update(memoryview(contiguous).cast("B"))  # type: ignore[arg-type]


def _pandas_values(h: Any, values: Any) -> None:
    import numpy as np
    import pandas as pd

    dtype = getattr(values, "dtype", None)
    if isinstance(values, np.ndarray) and not values.dtype.hasobject:
        _numpy(h, values)
        return
    if isinstance(dtype, pd.CategoricalDtype):
        _tag(h, "categorical", bool(dtype.ordered))
        _numpy(h, np.asarray(values.codes))
        _pandas_values(h, np.asarray(dtype.categories))
        return
    numpy_values = np.asarray(values)
    if not numpy_values.dtype.hasobject:
        _numpy(h, numpy_values)
        return
    hashed = pd.util.hash_array(numpy_values, categorize=False)
    _tag(h, "hashed", str(dtype))
    h.update(memoryview(np.ascontiguousarray(hashed)).cast("B"))  # type: ignore[arg-type]
    nulls = pd.isna(numpy_values)
    h.update(memoryview(np.packbits(nulls)).cast("B"))  # type: ignore[arg-type]


def _pandas(h: Any, obj: Any) -> str:
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        _tag(h, "DataFrame", list(obj.shape), [str(c) for c in obj.columns])
        for position in range(obj.shape[1]):
            column = obj.iloc[:, position]
            _tag(h, "column", str(obj.columns[position]), str(column.dtype))
            _pandas_values(
                h, column.array if column.dtype.kind not in "biufcmM" else column.to_numpy()
            )
        _tag(h, "index", str(obj.index.dtype), list(obj.index.names))
        _index(h, obj.index)
        return "pandas.DataFrame"
    if isinstance(obj, pd.Series):
        _tag(h, "Series", str(obj.name), str(obj.dtype), len(obj))
        _pandas_values(h, obj.array if obj.dtype.kind not in "biufcmM" else obj.to_numpy())
        _index(h, obj.index)
        return "pandas.Series"
    _tag(h, "Index", str(obj.dtype), len(obj))
    _index(h, obj)
    return "pandas.Index"


def _index(h: Any, index: Any) -> None:
    import pandas as pd

    if isinstance(index, pd.RangeIndex):
        _tag(h, "range", index.start, index.stop, index.step)
    elif isinstance(index, pd.MultiIndex):
        for level in range(index.nlevels):
            _pandas_values(h, index.get_level_values(level).array)
    else:
        _pandas_values(h, index.array if index.dtype.kind not in "biufcmM" else index.to_numpy())


def _arrow(h: Any, obj: Any) -> str:
    import pyarrow as pa

    if isinstance(obj, pa.RecordBatch):
        obj = pa.Table.from_batches([obj])
    if isinstance(obj, pa.Table):
        _tag(h, "arrow.Table", obj.schema.to_string(show_schema_metadata=False), obj.num_rows)
        for column in obj.columns:
            _arrow_chunked(h, column)
        return "pyarrow.Table"
    if isinstance(obj, pa.ChunkedArray):
        _tag(h, "arrow.ChunkedArray", str(obj.type))
        _arrow_chunked(h, obj)
        return "pyarrow.ChunkedArray"
    _tag(h, "arrow.Array", str(obj.type))
    _arrow_chunked(h, pa.chunked_array([obj]))
    return "pyarrow.Array"


def _arrow_chunked(h: Any, column: Any) -> None:
    import pyarrow as pa

    # One contiguous array without a slice offset, so equal data hashes equally
    # however it was chunked.
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if array.offset:
        array = pa.concat_arrays([array])
    _tag(h, "array", str(array.type), len(array), array.null_count)
    for buffer in array.buffers():
        if buffer is not None:
            h.update(memoryview(buffer))


def _plain(h: Any, value: Any) -> None:
    _tag(h, "plain", canonical(value))


def _feed(h: Any, obj: Any) -> str:
    module = type(obj).__module__.split(".")[0]
    if module == "numpy":
        import numpy as np

        if isinstance(obj, np.ndarray):
            _numpy(h, obj)
            return "numpy.ndarray"
    if module == "pandas":
        return _pandas(h, obj)
    if module == "pyarrow":
        return _arrow(h, obj)
    if module == "polars":
        to_arrow = getattr(obj, "to_arrow", None)
        if to_arrow is None:
            raise Unfingerprintable(f"a polars {type(obj).__qualname__}")
        _tag(h, "polars", type(obj).__qualname__)
        _arrow(h, to_arrow())
        return f"polars.{type(obj).__qualname__}"
    _plain(h, obj)
    return type(obj).__qualname__


def _scalar_tag(obj: Any) -> str | None:
    """The text ``_plain`` would hash for a plain scalar, written directly (the JSON
    encoder costs more than the rest of such a fingerprint); None for anything else."""
    kind = type(obj)
    if kind is int:
        return f'["plain",["int","{obj}"]]'
    if kind is str:
        return f'["plain",["str",{encode_basestring_ascii(obj)}]]'
    if kind is float:
        return f'["plain",["float","{"nan" if obj != obj else repr(obj)}"]]'
    if kind is bool:
        return '["plain",["bool",true]]' if obj else '["plain",["bool",false]]'
    if obj is None:
        return '["plain",["none"]]'
    return None


def data_fingerprint(obj: Any) -> Fingerprint:
    """Fingerprint a data object; unknown objects give ``known=False`` and a warning."""
    scalar = _scalar_tag(obj)
    if scalar is not None:  # a small node's output, saved between every pair of nodes
        digest = xxhash.xxh3_128_hexdigest(scalar.encode() + b"\0")
        return Fingerprint(digest, type(obj).__qualname__)
    h = xxhash.xxh3_128()
    try:
        described = _feed(h, obj)
    except Unfingerprintable as exc:
        return _unknown(obj, str(exc))
    except Exception as exc:  # a broken or exotic object must never break a run
        return _unknown(obj, f"{type(exc).__name__}: {exc}")
    return Fingerprint(h.hexdigest(), described)


def _unknown(obj: Any, reason: str) -> Fingerprint:
    name = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if name not in _warned_types:
        _warned_types.add(name)
        log.warning(
            "waldo: cannot fingerprint %s objects (%s); they count as changed", name, reason
        )
    return Fingerprint(None, name, known=False, reason=reason)
