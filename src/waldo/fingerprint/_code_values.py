"""Values that code depends on, encoded by value: module-level names, default
arguments, closure cells, the arguments of a ``functools.partial``.

Plain data takes its canonical encoding (``waldo.fingerprint.canonical``); containers
are walked, so a dict of functions or a tuple holding a compiled regex is encoded too.
Code found inside a value (a function, a class, a partial, a bound method, a named
object of a library such as ``numpy.add``) is encoded by name and handed back to be
fingerprinted in its own right. Compiled regexes encode their pattern and flags, enum
members their class and name, dataclass instances and instances of the project's own
classes their attributes, and numpy, pandas, pyarrow and polars objects their data
fingerprint. Anything else raises :class:`~waldo.Unfingerprintable`: the caller then
falls back to the value's source.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import json
import logging
import re
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

import xxhash

from waldo._errors import Unfingerprintable
from waldo.fingerprint._canonical import canonical
from waldo.fingerprint._data import _feed as feed_data

MAX_DEPTH = 32
_PLAIN = (str, int, float, bool, type(None), bytes)
_DATA_LIBRARIES = frozenset({"numpy", "pandas", "pyarrow", "polars"})


def dotted_name(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or "?"
    return f"{module}.{name}" if module else str(name)


def is_named_global(obj: Any) -> bool:
    """Whether ``obj`` is what its module holds under its own name (``numpy.add``)."""
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    name = getattr(obj, "__name__", None)
    return module is not None and isinstance(name, str) and getattr(module, name, None) is obj


def is_code(obj: Any) -> bool:
    """Code to follow by name rather than to encode by value."""
    return (
        inspect.isfunction(obj)
        or inspect.isclass(obj)
        or inspect.ismodule(obj)
        or (inspect.isroutine(obj) and not _has_state(obj))
        or (callable(obj) and is_named_global(obj))
    )


def _has_state(routine: Any) -> bool:
    owner = getattr(routine, "__self__", None)
    return owner is not None and not inspect.ismodule(owner) and not inspect.isclass(owner)


class ValueEncoder:
    """Encodes values; ``refs`` collects the code found in them, in order."""

    def __init__(self, is_project_type: Callable[[type], bool]) -> None:
        self.is_project_type = is_project_type
        self.refs: list[Any] = []

    def encode(self, value: Any, depth: int = 0) -> Any:
        if type(value) in _PLAIN:
            return canonical(value)
        if depth > MAX_DEPTH:
            raise Unfingerprintable("a value nested too deeply")
        if isinstance(value, functools.partial):
            return self._partial(value, depth)
        if inspect.ismethod(value) or (inspect.isroutine(value) and _has_state(value)):
            owner = getattr(value, "__self__", None)
            return ["method", self.encode(owner, depth + 1), value.__name__]
        if is_code(value):
            self.refs.append(value)
            return ["code", dotted_name(value)]
        return self._data(value, depth)

    def _partial(self, value: functools.partial[Any], depth: int) -> Any:
        return [
            "partial",
            self.encode(value.func, depth + 1),
            self.encode(value.args, depth + 1),
            self.encode(value.keywords, depth + 1),
        ]

    def _data(self, value: Any, depth: int) -> Any:
        if isinstance(value, enum.Enum):
            self.refs.append(type(value))
            return ["enum", dotted_name(type(value)), value.name]
        if isinstance(value, Mapping):
            inner = depth + 1
            pairs = [[self.encode(k, inner), self.encode(v, inner)] for k, v in value.items()]
            return ["map", sorted(pairs, key=json.dumps)]
        if isinstance(value, (list, tuple)):
            return ["seq", [self.encode(v, depth + 1) for v in value]]
        if isinstance(value, (set, frozenset)):
            return ["set", sorted((self.encode(v, depth + 1) for v in value), key=json.dumps)]
        if isinstance(value, re.Pattern):
            return ["regex", self.encode(value.pattern), value.flags]
        if isinstance(value, logging.Logger):  # what it logs does not change a result
            return ["logger", value.name]
        if type(value).__module__ == "typing":  # a type alias or a TypeVar
            return ["typing", repr(value)]
        if type(value).__module__.partition(".")[0] in _DATA_LIBRARIES:
            return self._library_data(value)
        if dataclasses.is_dataclass(value) or self.is_project_type(type(value)):
            return self._instance(value, depth)
        return canonical(value)  # dates, decimals, paths, numpy scalars; else refused

    def _library_data(self, value: Any) -> Any:
        try:
            return canonical(value)  # a numpy scalar
        except Unfingerprintable:
            pass
        h = xxhash.xxh3_128()
        try:
            kind = feed_data(h, value)
        except Exception as exc:  # an object of these libraries that is not data
            raise Unfingerprintable(f"a {dotted_name(type(value))} object") from exc
        return ["data", kind, h.hexdigest()]

    def _instance(self, value: Any, depth: int) -> Any:
        attributes = getattr(value, "__dict__", None)
        if not isinstance(attributes, dict) or isinstance(value, types.ModuleType):
            raise Unfingerprintable(f"a {dotted_name(type(value))} object without attributes")
        self.refs.append(type(value))
        return ["object", dotted_name(type(value)), self.encode(attributes, depth + 1)]
