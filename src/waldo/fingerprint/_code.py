"""Fingerprints of code: a node function's logic, not its comments or layout.

The digest covers, for a function:

* its source parsed to an AST, with docstrings removed and without positions, so
  comments, docstrings, blank lines and formatting do not count, and any change of
  logic does;
* its default argument values and keyword-only defaults (canonically encoded);
* the values captured by its closure, when they are plain data;
* for ``functools.partial``: the wrapped function and the bound arguments;
* **the functions and classes of the user's own package that it refers to**, found
  among the global names its code uses, recursively up to ``depth`` levels (default
  2: the node function, the helpers it calls, and the helpers those call). "The
  user's own package" is the top-level package the function's module belongs to;
  the standard library and installed packages never count, so upgrading pandas does
  not make every node stale. Cycles are cut.

Functions without source (built-ins, C extensions, a REPL) fall back to their
module, qualified name and bytecode, so they still get a stable digest.

Reading and normalising a function's source costs about a millisecond (``inspect``
finds its lines, ``ast`` parses and dumps them), paid once per function per process.
Given a ``cache`` (a :class:`~waldo.fingerprint.StatCache`), the normalised text is
also kept across processes, keyed by the source file's stat (size, mtime, ctime,
inode), the function's first line and name, and the Python version; a file modified
less than two seconds ago is not trusted (the stat cache's racy rule).
"""

from __future__ import annotations

import ast
import functools
import inspect
import json
import os
import sys
import textwrap
import time
import types
from typing import Any, Protocol

import xxhash

from waldo.fingerprint._canonical import canonical
from waldo.fingerprint._files import settled

DEFAULT_DEPTH = 2
_AST_CACHE: dict[types.CodeType, str] = {}


class SourceCache(Protocol):
    """Where normalised function sources are kept across processes."""

    def code_text(self, key: str) -> str | None: ...

    def remember_code_text(self, key: str, text: str) -> None: ...


def _source_key(func: types.FunctionType) -> str | None:
    """The key under which a function's normalised source can be reused, or None."""
    code = func.__code__
    try:
        st = os.stat(code.co_filename)
    except (OSError, ValueError):
        return None  # no file (a REPL, a notebook cell)
    if not settled(st.st_mtime_ns, time.time_ns()):
        return None
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return (
        f"{version}|{code.co_filename}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|"
        f"{st.st_ino}|{code.co_firstlineno}|{func.__qualname__}"
    )


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _source_tree(obj: Any) -> ast.AST | None:
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        return _strip_docstrings(ast.parse(source))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None


def _code_text(func: types.FunctionType, cache: SourceCache | None = None) -> str:
    """The normalised AST of a function (cached per code object, and in ``cache``)."""
    code = func.__code__
    cached = _AST_CACHE.get(code)
    if cached is not None:
        return cached
    is_lambda = func.__name__ == "<lambda>"
    key = None if cache is None or is_lambda else _source_key(func)
    remembered = cache.code_text(key) if cache is not None and key is not None else None
    if remembered is not None:
        _AST_CACHE[code] = remembered
        return remembered
    tree = None if is_lambda else _source_tree(func)
    if tree is not None:
        text = ast.dump(tree, annotate_fields=False, include_attributes=False)
        if cache is not None and key is not None:
            cache.remember_code_text(key, text)
    else:
        # No (exact) source: bytecode and constants are stable for one Python version.
        consts = [c for c in code.co_consts if not isinstance(c, types.CodeType)]
        text = json.dumps([code.co_code.hex(), [repr(c) for c in consts], list(code.co_names)])
    _AST_CACHE[code] = text
    return text


def _is_users(obj: Any, package: str) -> bool:
    module = getattr(obj, "__module__", None) or ""
    if not module or module.split(".")[0] != package:
        return False
    if module in sys.builtin_module_names:
        return False
    mod = sys.modules.get(module)
    path = getattr(mod, "__file__", None) or ""
    return "site-packages" not in path and "dist-packages" not in path


def _referenced_globals(func: types.FunctionType) -> list[Any]:
    names: list[str] = []
    stack = [func.__code__]
    while stack:
        code = stack.pop()
        names.extend(code.co_names)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    found = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        if name in func.__globals__:
            found.append(func.__globals__[name])
    return found


def _safe_canonical(value: Any) -> Any:
    try:
        return canonical(value)
    except Exception:
        return ["opaque", f"{type(value).__module__}.{type(value).__qualname__}"]


class _Hasher:
    def __init__(self, depth: int, cache: SourceCache | None) -> None:
        self.depth = depth
        self.cache = cache
        self.parts: list[Any] = []
        self.seen: set[int] = set()

    def callable(self, obj: Any, level: int, package: str | None) -> None:
        if isinstance(obj, functools.partial):
            self.parts.append(["partial", _safe_canonical(obj.args), _safe_canonical(obj.keywords)])
            self.callable(obj.func, level, package)
            return
        if inspect.ismethod(obj):
            obj = obj.__func__
        if isinstance(obj, types.FunctionType):
            self.function(obj, level, package)
        elif inspect.isclass(obj):
            self.klass(obj, level, package)
        elif callable(obj) and not isinstance(obj, types.BuiltinFunctionType):
            self.parts.append(["object", type(obj).__module__, type(obj).__qualname__])
            self.callable(type(obj).__call__, level, package)
        else:
            name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
            self.parts.append(["builtin", getattr(obj, "__module__", None), str(name)])

    def function(self, func: types.FunctionType, level: int, package: str | None) -> None:
        if id(func.__code__) in self.seen:
            self.parts.append(["cycle", func.__qualname__])
            return
        self.seen.add(id(func.__code__))
        package = package or (func.__module__ or "").split(".")[0]
        closure = [
            _safe_canonical(_cell(cell))
            for cell in (func.__closure__ or ())
            if not callable(_cell(cell))
        ]
        self.parts.append(
            [
                "function",
                func.__qualname__,
                _code_text(func, self.cache),
                _safe_canonical(func.__defaults__ or ()),
                _safe_canonical(func.__kwdefaults__ or {}),
                closure,
            ]
        )
        if level >= self.depth:
            return
        for cell in func.__closure__ or ():
            value = _cell(cell)
            if callable(value) and _is_users(value, package):
                self.callable(value, level + 1, package)
        for value in _referenced_globals(func):
            if (inspect.isfunction(value) or inspect.isclass(value)) and _is_users(value, package):
                self.callable(value, level + 1, package)

    def klass(self, cls: type, level: int, package: str | None) -> None:
        if id(cls) in self.seen:
            return
        self.seen.add(id(cls))
        tree = _source_tree(cls)
        text = (
            ast.dump(tree, annotate_fields=False, include_attributes=False)
            if tree is not None
            else f"{cls.__module__}.{cls.__qualname__}"
        )
        self.parts.append(["class", cls.__qualname__, text])


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def code_fingerprint(
    func: Any, depth: int = DEFAULT_DEPTH, cache: SourceCache | None = None
) -> str:
    """xxh3-128 digest of a callable's logic (see the module docstring); ``cache``
    keeps normalised sources across processes."""
    hasher = _Hasher(depth, cache)
    hasher.callable(func, 0, None)
    text = json.dumps(hasher.parts, separators=(",", ":"), default=repr)
    return xxhash.xxh3_128_hexdigest(text.encode())
