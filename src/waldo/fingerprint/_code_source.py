"""Normalised source text of functions, classes and module-level definitions.

Source is parsed to an AST with docstrings and signature annotations removed and
dumped without positions, so comments, docstrings, type hints of arguments and return
values, blank lines and formatting never count, and any change of logic does. Code
without readable source (a lambda, whose line may hold several; a REPL; a C
extension) falls back to its bytecode, constants and names, stable for one Python
version.

Reading and normalising source costs about a millisecond (``inspect`` finds the lines,
``ast`` parses and dumps them), paid once per function or class per process. Given a
``cache`` (a :class:`~waldo.fingerprint.StatCache`), the text is also kept across
processes, keyed by the source file's stat (size, mtime, ctime, inode), the object's
first line or qualified name, and the Python version; a file modified less than two
seconds ago is not trusted (the stat cache's racy rule).
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import sys
import textwrap
import time
import types
from dataclasses import dataclass
from typing import Any, Protocol

from waldo._errors import Unfingerprintable
from waldo.fingerprint._canonical import canonical
from waldo.fingerprint._files import settled

_FUNCTION_TEXTS: dict[types.CodeType, str] = {}
_CLASS_SOURCES: dict[type, ClassSource] = {}
_MODULE_BINDINGS: dict[tuple[str, str], dict[str, Binding]] = {}
_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


class SourceCache(Protocol):
    """Where normalised sources are kept across processes."""

    def code_text(self, key: str) -> str | None: ...

    def remember_code_text(self, key: str, text: str) -> None: ...


@dataclass(frozen=True)
class ClassSource:
    """A class's normalised source and every name its body and methods use."""

    text: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Binding:
    """The module-level statements that bind one name: their normalised text, the
    names they read, and, for ``from m import x``, where the name comes from."""

    text: str
    names: tuple[str, ...]
    imported: tuple[str, str] | None = None


def _file_key(filename: str) -> str | None:
    """Stat part of a cache key for a source file, or None (no file, or racy)."""
    try:
        st = os.stat(filename)
    except (OSError, ValueError):
        return None  # no file (a REPL, a notebook cell)
    if not settled(st.st_mtime_ns, time.time_ns()):
        return None
    return f"{_PYTHON}|{filename}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}"


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """Remove docstrings, and the annotations of function signatures (they do not
    change what a function computes)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
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


def _dump(tree: ast.AST) -> str:
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def _source_tree(obj: Any) -> ast.AST | None:
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        return _strip_docstrings(ast.parse(source))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None


def _const_text(value: Any) -> Any:
    if isinstance(value, types.CodeType):
        return _bytecode(value)
    try:  # canonical, not repr: a frozenset's repr follows string hashing, per process
        return canonical(value)
    except Unfingerprintable:
        return repr(value)


def _bytecode(code: types.CodeType) -> list[Any]:
    """Bytecode, constants (nested code included) and names: no line numbers."""
    consts = [_const_text(c) for c in code.co_consts]
    return [code.co_code.hex(), consts, list(code.co_names)]


def function_key(func: types.FunctionType) -> str | None:
    """The key under which what is learnt of a function's code is kept across
    processes; None for a lambda (its line may hold several), without a file, or
    when its file is racy."""
    if func.__name__ == "<lambda>":
        return None
    code = func.__code__
    file_key = _file_key(code.co_filename)
    return f"{file_key}|{code.co_firstlineno}|{func.__qualname__}" if file_key else None


def function_text(func: types.FunctionType, cache: SourceCache | None = None) -> str:
    """The normalised source of a function (cached per code object, and in ``cache``)."""
    code = func.__code__
    cached = _FUNCTION_TEXTS.get(code)
    if cached is not None:
        return cached
    is_lambda = func.__name__ == "<lambda>"
    key = None if cache is None else function_key(func)
    remembered = cache.code_text(key) if cache is not None and key is not None else None
    if remembered is not None:
        _FUNCTION_TEXTS[code] = remembered
        return remembered
    tree = None if is_lambda else _source_tree(func)
    if tree is not None:
        text = _dump(tree)
        if cache is not None and key is not None:
            cache.remember_code_text(key, text)
    else:
        text = json.dumps(_bytecode(code))
    _FUNCTION_TEXTS[code] = text
    return text


def _names_read(tree: ast.AST) -> tuple[str, ...]:
    """Every name read and attribute used in ``tree``, in order of first use."""
    names: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names[node.id] = None
        elif isinstance(node, ast.Attribute):
            names[node.attr] = None
    return tuple(names)


def class_source(cls: type, cache: SourceCache | None = None) -> ClassSource | None:
    """The normalised source of a class and the names it uses; None without source."""
    found = _CLASS_SOURCES.get(cls)
    if found is not None:
        return found
    filename = getattr(sys.modules.get(cls.__module__), "__file__", None)
    file_key = _file_key(filename) if cache is not None and filename else None
    key = f"class|{file_key}|{cls.__qualname__}" if file_key else None
    remembered = cache.code_text(key) if cache is not None and key is not None else None
    if remembered is not None:
        text, names = json.loads(remembered)
        found = ClassSource(text, tuple(names))
    else:
        tree = _source_tree(cls)
        if tree is None:
            return None
        found = ClassSource(_dump(tree), _names_read(tree))
        if cache is not None and key is not None:
            cache.remember_code_text(key, json.dumps([found.text, list(found.names)]))
    _CLASS_SOURCES[cls] = found
    return found


def _bound_names(statement: ast.stmt) -> list[str]:
    """The module-level names a statement binds (not inside functions or classes)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).partition(".")[0] for a in statement.names]
    bound = []
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.append(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.extend(_bound_names(node))
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return bound


def _imported_from(module: str, statement: ast.stmt, name: str) -> tuple[str, str] | None:
    if not isinstance(statement, ast.ImportFrom):
        return None
    for alias in statement.names:
        if (alias.asname or alias.name) == name:
            package = module if _is_package(module) else module.rpartition(".")[0]
            base = "." * statement.level + (statement.module or "")
            try:
                from importlib.util import resolve_name

                return resolve_name(base, package) if statement.level else base, alias.name
            except (ImportError, ValueError):
                return None
    return None


def _is_package(module: str) -> bool:
    return hasattr(sys.modules.get(module), "__path__")


def module_binding(module: str, name: str) -> Binding | None:
    """How module-level ``name`` of ``module`` is defined, from the module's source."""
    filename = getattr(sys.modules.get(module), "__file__", None)
    if not filename:
        return None
    try:
        stamp = str(os.stat(filename).st_mtime_ns)
    except OSError:
        return None
    bindings = _MODULE_BINDINGS.get((filename, stamp))
    if bindings is None:
        bindings = _MODULE_BINDINGS[(filename, stamp)] = _bindings(module, filename)
    return bindings.get(name)


def _bindings(module: str, filename: str) -> dict[str, Binding]:
    try:
        with open(filename, encoding="utf-8") as handle:
            tree = _strip_docstrings(ast.parse(handle.read()))
    except (OSError, SyntaxError, ValueError):
        return {}
    statements: dict[str, list[ast.stmt]] = {}
    assert isinstance(tree, ast.Module)
    for statement in tree.body:
        for bound in _bound_names(statement):
            statements.setdefault(bound, []).append(statement)
    found = {}
    for bound, binding in statements.items():
        module_tree = ast.Module(body=binding, type_ignores=[])
        imported = _imported_from(module, binding[-1], bound) if len(binding) == 1 else None
        found[bound] = Binding(_dump(module_tree), _names_read(module_tree), imported)
    return found
