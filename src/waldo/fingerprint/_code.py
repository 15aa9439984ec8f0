"""Fingerprints of code: what a node function's result depends on in the project's code.

Starting from the node function, the fingerprint follows, transitively and with
cycles cut, every piece of the project's code it can reach:

* functions: their normalised source (see ``_code_source``: comments, docstrings and
  layout do not count), default argument values (positional and keyword-only) and
  closure cells, by value;
* the module-level names their code reads (``co_names``), in their own module or
  through a module of the project (``utils.LABEL``): functions and classes are
  followed, any other value is a *constant*, fingerprinted by value (see
  ``_code_values``) or, when that is impossible, by the source of the statements that
  define it, with a note (the integration warns once);
* classes: their normalised source (methods and class attributes) and the names it
  reads, so a method calling a helper follows the helper; the class that owns a
  method, and the function that made a closure;
* ``functools.partial`` arguments, the instance of a bound method, the attributes of a
  callable object, the function a decorator wraps (``__wrapped__``).

What is the project's is decided by ``_code_scope``. Code of installed distributions
counts by version only when ``libraries`` is set; the standard library never counts.

The result, :class:`CodeManifest`, keeps the digest of each piece under a readable
name (``helper scen.utils.normalise``, ``constant scen.nodes.LABEL``), so that what
changed between two runs can be named; the node's digest is the digest of those parts
(and of the library versions).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import itertools
import json
import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import xxhash

from waldo._errors import Unfingerprintable
from waldo.fingerprint._code_scope import (
    Distributions,
    is_stdlib,
    project_tops,
    top_level,
)
from waldo.fingerprint._code_source import (
    Binding,
    SourceCache,
    class_source,
    function_key,
    function_text,
    module_binding,
)
from waldo.fingerprint._code_uses import (
    LocalImport,
    attribute_chains,
    code_names,
    local_imports,
)
from waldo.fingerprint._code_values import ValueEncoder, dotted_name, is_code

_MISSING = object()

__all__ = ["CodeFingerprinter", "CodeManifest", "SourceCache", "code_fingerprint", "code_manifest"]


@dataclass(frozen=True)
class CodeManifest:
    """A node function's code fingerprint, and what it is made of.

    ``parts`` maps each piece of project code reached (``function m.f``, ``helper m.g``,
    ``class m.C``, ``constant m.X``, ``partial m.f``, ...) to its digest; ``libraries``
    maps each distribution reached to its version (empty unless libraries count);
    ``notes`` say which values were fingerprinted by source instead of by value.
    """

    digest: str
    parts: Mapping[str, str]
    libraries: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Constant:
    """A module-level name whose value is data, not code."""

    module: str
    name: str
    value: Any = field(compare=False)


@dataclass(frozen=True)
class _Library:
    """A library imported inside a function, known by its top-level module."""

    top: str


@dataclass(frozen=True, eq=False)
class _Piece:
    """What one reached object contributes: a part (``kind`` ``name`` -> ``digest``,
    none for code outside the project), the objects it refers to, the top-level
    modules of the libraries it uses, and a note when a value was read by source."""

    kind: str
    name: str
    digest: str | None
    refs: tuple[Any, ...] = ()
    libraries: tuple[str, ...] = ()
    note: str | None = None

    @functools.cached_property
    def part(self) -> str:
        """The part's name when reached from another node function's code."""
        return f"{'helper' if self.kind == 'function' else self.kind} {self.name}"


def _digest(content: Any) -> str:
    text = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    return xxhash.xxh3_128_hexdigest(text.encode())


def _manifest_digest(parts: Mapping[str, str], versions: Mapping[str, str]) -> str:
    text = "".join(f"{name}\0{digest}\0" for name, digest in sorted(parts.items()))
    text += "\1" + "".join(f"{name}\0{version}\0" for name, version in sorted(versions.items()))
    return xxhash.xxh3_128_hexdigest(text.encode())


def _unreadable(what: str, value: Any, reason: Exception) -> str:
    """``what (a T) cannot be fingerprinted by value``, and what it holds that cannot."""
    kind = dotted_name(type(value))
    holds = "" if str(reason) == f"a {kind} value" else f" (it holds {reason})"
    return f"{what} (a {kind}) cannot be fingerprinted by value{holds}"


def _wrapped(obj: Any) -> Any:
    try:
        return obj.__dict__.get("__wrapped__") if hasattr(obj, "__dict__") else None
    except Exception:  # an exotic object's __dict__
        return None


def _own_function(obj: Any) -> Any:
    """The node's own function: under a partial, a bound method or a decorator."""
    while True:
        if isinstance(obj, functools.partial):
            obj = obj.func
        elif inspect.ismethod(obj):
            obj = obj.__func__
        elif _wrapped(obj) is not None:
            obj = _wrapped(obj)
        else:
            return obj


class CodeFingerprinter:
    """Code manifests of node functions, sharing what they reach.

    One fingerprinter serves one run or one ``waldo status``: each piece of code or
    module-level value is fingerprinted once, when first reached, and reused for every
    node that reaches it.
    """

    def __init__(
        self,
        packages: Iterable[str] = (),
        libraries: bool = False,
        cache: SourceCache | None = None,
    ) -> None:
        self.packages = frozenset(packages)
        self.libraries = libraries
        self.cache = cache
        self._pieces: dict[tuple[Any, frozenset[str]], tuple[Any, _Piece | None]] = {}
        self._child_lists: dict[int, list[_Piece]] = {}
        self._reaches: dict[int, list[_Piece]] = {}
        self._distributions = Distributions()

    def manifest(self, func: Any) -> CodeManifest:
        own = _own_function(func)
        tops = project_tops(self.packages, _module_name(own))
        reached = self._reached(func, tops)
        if reached and reached[0].digest is None:  # a library's function as the node's
            name = reached[0].name
            digest = _digest(["outside", name])
            reached[0] = _Piece("function", name, digest, (), reached[0].libraries)
        own_name = dotted_name(own)
        parts: dict[str, str] = {}
        for piece in reached:
            if piece.digest is None:
                continue
            is_own = piece.kind == "function" and piece.name == own_name
            key = f"function {own_name}" if is_own else piece.part
            if key in parts:
                _add_part(parts, key, piece.digest)
            else:
                parts[key] = piece.digest
        libraries = {top for piece in reached for top in piece.libraries}
        versions = self._versions(libraries)
        notes = tuple(piece.note for piece in reached if piece.note is not None)
        return CodeManifest(_manifest_digest(parts, versions), parts, versions, notes)

    def _reached(self, root: Any, tops: frozenset[str]) -> list[_Piece]:
        """Every piece reachable from ``root``, each once: the root first, then what
        each of its references reaches (remembered per piece, as nodes share them)."""
        first = self._piece(root, tops)
        if first is None:
            return []
        reached = (self._reach(child, tops) for child in self._children(first, tops))
        return list(dict.fromkeys(itertools.chain([first], *reached)))

    def _reach(self, start: _Piece, tops: frozenset[str]) -> list[_Piece]:
        """Every piece reachable from ``start``, breadth first, each once."""
        known = self._reaches.get(id(start))
        if known is not None:
            return known
        order, seen = [start], {id(start)}
        for piece in order:  # the list grows as it is walked
            for child in self._children(piece, tops):
                if id(child) not in seen:
                    seen.add(id(child))
                    order.append(child)
        self._reaches[id(start)] = order
        return order

    def _children(self, piece: _Piece, tops: frozenset[str]) -> list[_Piece]:
        """The pieces a piece refers to, resolved once (pieces are kept, so ids hold)."""
        known = self._child_lists.get(id(piece))
        if known is None:
            pieces = (self._piece(ref, tops) for ref in piece.refs)
            known = self._child_lists[id(piece)] = [p for p in pieces if p is not None]
        return known

    def _versions(self, tops: set[str]) -> dict[str, str]:
        versions: dict[str, str] = {}
        for top in sorted(tops):
            versions.update(self._distributions.versions(top))
        return versions

    # -- pieces -----------------------------------------------------------------------
    def _piece(self, target: Any, tops: frozenset[str]) -> _Piece | None:
        key = (_key(target), tops)
        known = self._pieces.get(key)
        if known is not None:
            return known[1]
        piece = self._make(target, tops)
        self._pieces[key] = (target, piece)  # the target kept alive: its id stays its own
        return piece

    def _make(self, target: Any, tops: frozenset[str]) -> _Piece | None:
        if isinstance(target, _Constant):
            return self._constant(target, tops)
        if isinstance(target, _Library):
            uses = (target.top,) if self.libraries and not is_stdlib(target.top) else ()
            return _Piece("library", target.top, None, (), uses)
        if isinstance(target, functools.partial):
            return self._partial(target, tops)
        if inspect.ismethod(target):
            return self._bound(target, tops)
        module = target.__name__ if inspect.ismodule(target) else _module_name(target)
        if not self._is_project(module, tops):
            return self._outside(target, module)
        if inspect.isfunction(target):
            return self._function(target, tops)
        if inspect.isclass(target):
            return self._class(target, tops)
        if inspect.ismodule(target):
            return None  # its names are followed where they are read (see _named)
        wrapped = _wrapped(target)
        if wrapped is not None:  # a decorator's wrapper object (functools.lru_cache)
            return _Piece("wrapper", dotted_name(target), None, (wrapped,))
        return self._instance(target, tops)

    def _is_project(self, module: str | None, tops: frozenset[str]) -> bool:
        return bool(module) and top_level(module or "") in tops

    def _is_project_module(self, value: Any, tops: frozenset[str]) -> bool:
        return isinstance(value, types.ModuleType) and self._is_project(value.__name__, tops)

    def _outside(self, target: Any, module: str | None) -> _Piece:
        """Code that is not the project's: only a library's version may count."""
        wrapped = _wrapped(target)
        top = top_level(module) if module else ""
        uses = (top,) if self.libraries and top and not is_stdlib(top) else ()
        refs = (wrapped,) if wrapped is not None else ()
        return _Piece("library", dotted_name(target), None, refs, uses)

    def _encoder(self, tops: frozenset[str]) -> ValueEncoder:
        return ValueEncoder(lambda kind: self._is_project(_module_name(kind), tops))

    def _encode(
        self, encoder: ValueEncoder, value: Any, what: str, instead: str
    ) -> tuple[Any, str | None, tuple[str, ...]]:
        """A value's encoding; when it has none, its type's, a note and its library."""
        try:
            return encoder.encode(value), None, ()
        except Unfingerprintable as exc:
            kind = type(value)
            note = f"{_unreadable(what, value, exc)}; {instead}"
            return ["opaque", dotted_name(kind)], note, self._library_of(kind)

    def _library_of(self, obj: Any) -> tuple[str, ...]:
        module = _module_name(obj)
        top = top_level(module) if module else ""
        return (top,) if self.libraries and top and not is_stdlib(top) else ()

    def _function(self, func: types.FunctionType, tops: frozenset[str]) -> _Piece:
        name = dotted_name(func)
        encoder = self._encoder(tops)
        content: list[Any] = [function_text(func, self.cache)]
        notes: list[str] = []
        libraries: list[str] = []
        opaque_cell = False
        for what, value in _arguments_and_cells(func):
            default = what.startswith("default")
            instead = (
                "the function's source counts instead"
                if default
                else "its type and the source of the function that made it count instead"
            )
            encoded, note, used = self._encode(encoder, value, f"{what} of {name}", instead)
            content.append([what, encoded])
            notes += [note] if note else []
            libraries += used
            opaque_cell = opaque_cell or (note is not None and not default)
        refs = [*encoder.refs, *self._function_refs(func, tops), *_owner(func, opaque_cell)]
        wrapped = _wrapped(func)
        refs += [wrapped] if wrapped is not None else []
        note = "; ".join(notes) or None
        return _Piece("function", name, _digest(content), tuple(refs), tuple(libraries), note)

    def _class(self, cls: type, tops: frozenset[str]) -> _Piece:
        source = class_source(cls, self.cache)
        module = sys.modules.get(cls.__module__)
        refs: list[Any] = []
        if source is not None and module is not None:
            refs = self._module_names(module, source.names, tops)
        text = source.text if source is not None else dotted_name(cls)
        return _Piece("class", dotted_name(cls), _digest(text), tuple(refs))

    def _constant(self, constant: _Constant, tops: frozenset[str]) -> _Piece:
        name = f"{constant.module}.{constant.name}"
        encoder = self._encoder(tops)
        try:
            encoded = encoder.encode(constant.value)
            return _Piece("constant", name, _digest(["value", encoded]), tuple(encoder.refs))
        except Unfingerprintable as exc:
            reason = exc
        libraries = self._library_of(type(constant.value))
        found = self._binding(constant.module, constant.name, tops)
        if found is None:
            note = (
                f"{_unreadable(name, constant.value, reason)} and its definition "
                "cannot be read; only its type counts"
            )
            digest = _digest(["type", dotted_name(type(constant.value))])
            return _Piece("constant", name, digest, (), libraries, note)
        where, binding = found
        names = [n for n in binding.names if n != constant.name]
        refs = self._module_names(sys.modules[where], names, tops)
        note = (
            f"{_unreadable(name, constant.value, reason)}; "
            "the source of its definition counts instead"
        )
        digest = _digest(["source", binding.text])
        return _Piece("constant", name, digest, tuple(refs), libraries, note)

    def _binding(self, module: str, name: str, tops: frozenset[str]) -> tuple[str, Binding] | None:
        """The statements defining ``module.name``, through ``from m import name`` of
        the project's modules; with the module they are in."""
        for _ in range(16):
            binding = module_binding(module, name)
            if binding is None:
                return None
            imported = binding.imported
            if imported is None or not self._is_project(imported[0], tops):
                return module, binding
            if module_binding(*imported) is None:
                return module, binding
            module, name = imported
        return None

    def _partial(self, target: functools.partial[Any], tops: frozenset[str]) -> _Piece:
        name = dotted_name(target.func)
        encoder = self._encoder(tops)
        what = f"an argument of partial({name})"
        instead = "its type counts instead"
        args, note, used = self._encode(encoder, target.args, what, instead)
        keywords, note_kw, used_kw = self._encode(encoder, target.keywords, what, instead)
        digest = _digest(["partial", args, keywords])
        refs = (target.func, *encoder.refs)
        return _Piece("partial", name, digest, refs, used + used_kw, note or note_kw)

    def _bound(self, target: types.MethodType, tops: frozenset[str]) -> _Piece:
        name = dotted_name(target.__func__)
        encoder = self._encoder(tops)
        what = f"the instance of bound method {name}"
        instead = "its type counts instead"
        encoded, note, used = self._encode(encoder, target.__self__, what, instead)
        refs = (target.__func__, *encoder.refs)
        return _Piece("bound method", name, _digest(["self", encoded]), refs, used, note)

    def _instance(self, target: Any, tops: frozenset[str]) -> _Piece:
        name = dotted_name(type(target))
        encoder = self._encoder(tops)
        what = f"callable object {name}"
        encoded, note, used = self._encode(encoder, target, what, "its class counts instead")
        refs = (type(target), *encoder.refs)
        return _Piece("instance", name, _digest(["object", encoded]), refs, used, note)

    # -- what names refer to ---------------------------------------------------------
    def _function_refs(self, func: types.FunctionType, tops: frozenset[str]) -> list[Any]:
        """What the module-level names and the local imports of ``func`` refer to."""
        code = func.__code__
        names = code_names(code)
        namespace = func.__globals__
        module = str(namespace.get("__name__", ""))
        refs: list[Any] = []
        for name in names:
            if name not in namespace:
                continue
            value = namespace[name]
            chains = (
                self._chains(func).get(name, ()) if self._is_project_module(value, tops) else ()
            )
            if chains and all(chains):
                for chain in chains:  # read only through attributes: config.LABEL
                    refs += self._through(value, chain, names, tops)
            else:
                refs += self._named(module, name, value, names, tops)
        for local in local_imports(code):
            refs += self._local_import(local, namespace, names, tops)
        return refs

    def _chains(self, func: types.FunctionType) -> dict[str, tuple[tuple[str, ...], ...]]:
        key = function_key(func) if self.cache is not None else None
        return attribute_chains(func.__code__, self.cache, key)

    def _named(
        self, module: str, name: str, value: Any, names: Iterable[str], tops: frozenset[str]
    ) -> list[Any]:
        """What ``module.name`` contributes: code to follow, a constant, or the names
        ``names`` of a project module."""
        if self._is_project_module(value, tops):
            return self._module_names(value, names, tops)
        if _is_followed(value):
            return [value]
        return [] if name.startswith("__") else [_Constant(module, name, value)]

    def _through(
        self,
        module: types.ModuleType,
        chain: tuple[str, ...],
        names: Iterable[str],
        tops: frozenset[str],
    ) -> list[Any]:
        """What ``module.a.b`` refers to, through the project's modules."""
        value: Any = module
        for at, attribute in enumerate(chain):
            owner, value = value, getattr(value, attribute, _MISSING)
            if value is _MISSING:
                return []
            if not self._is_project_module(value, tops) or at == len(chain) - 1:
                return self._named(owner.__name__, attribute, value, names, tops)
        return []

    def _module_names(
        self, module: types.ModuleType, names: Iterable[str], tops: frozenset[str]
    ) -> list[Any]:
        """What ``names`` refer to in a project module and the project modules it holds
        (any of them may be read through it)."""
        names = list(names)
        found: list[Any] = []
        seen = {module.__name__}
        stack = [module]
        while stack:
            current = stack.pop()
            space = vars(current)
            for name in names:
                if name not in space:
                    continue
                value = space[name]
                if self._is_project_module(value, tops):
                    if value.__name__ not in seen:
                        seen.add(value.__name__)
                        stack.append(value)
                elif _is_followed(value):
                    found.append(value)
                elif not name.startswith("__"):
                    found.append(_Constant(current.__name__, name, value))
        return found

    def _local_import(
        self,
        local: LocalImport,
        namespace: Mapping[str, Any],
        names: Iterable[str],
        tops: frozenset[str],
    ) -> list[Any]:
        """What an ``import`` inside a function brings: the project's module is
        imported (as running the function would), a library counts by name."""
        absolute = local.module
        if local.level:
            relative = "." * local.level + local.module
            try:
                absolute = importlib.util.resolve_name(relative, namespace.get("__package__"))
            except (ImportError, ValueError):
                return []
        if not self._is_project(absolute, tops):
            return [_Library(top_level(absolute))]
        try:
            module = importlib.import_module(absolute)
        except Exception:  # an import that fails here fails when the node runs
            return []
        if not local.names:
            return self._module_names(module, names, tops)
        found: list[Any] = []
        for name in local.names:
            value = getattr(module, name, _MISSING)
            if value is not _MISSING:
                found += self._named(absolute, name, value, names, tops)
        return found


def _is_followed(value: Any) -> bool:
    return (
        is_code(value)
        or isinstance(value, functools.partial)
        or inspect.ismethod(value)
        or _wrapped(value) is not None
    )


def _module_name(obj: Any) -> str | None:
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str):
        module = getattr(type(obj), "__module__", None)
    return module if isinstance(module, str) else None


def _key(target: Any) -> Any:
    if isinstance(target, (_Constant, _Library)):
        return target
    return id(target)


def _add_part(parts: dict[str, str], key: str, digest: str) -> None:
    """Add a part; a second piece with the same name (two lambdas of one module) is
    numbered in the order reached, which the code alone decides."""
    name, number = key, 1
    while name in parts:
        number += 1
        name = f"{key} #{number}"
    parts[name] = digest


def _arguments_and_cells(func: types.FunctionType) -> Iterator[tuple[str, Any]]:
    """(what, value) of each default argument value and closure cell of ``func``."""
    code = func.__code__
    defaults = func.__defaults__ or ()
    positional = code.co_varnames[: code.co_argcount]
    for name, value in zip(positional[len(positional) - len(defaults) :], defaults, strict=True):
        yield f"default value of {name}", value
    for name, value in sorted((func.__kwdefaults__ or {}).items()):
        yield f"default value of {name}", value
    for name, cell in zip(code.co_freevars, func.__closure__ or (), strict=False):
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        yield f"closure variable {name}", value


def _owner(func: types.FunctionType, made_with_opaque_cells: bool) -> list[Any]:
    """The class a method belongs to (a method may call its others through ``self``),
    or, for a closure with cells that have no value fingerprint, the function that
    made it (its source says what they were made of)."""
    qualname = func.__qualname__
    maker, _, _ = qualname.rpartition(".<locals>.")
    path = (maker if made_with_opaque_cells else "") if maker else qualname.rpartition(".")[0]
    if not path or "<locals>" in path:
        return []
    owner: Any = sys.modules.get(func.__module__)
    for part in path.split("."):
        owner = getattr(owner, part, None)
        if owner is None:
            return []
    return [owner]


def code_manifest(
    func: Any,
    cache: SourceCache | None = None,
    *,
    packages: Iterable[str] = (),
    libraries: bool = False,
) -> CodeManifest:
    """The code manifest of one callable (see the module docstring); ``packages`` are
    the project's top-level packages besides the callable's own, ``libraries`` makes
    installed distributions count by version, ``cache`` keeps normalised sources
    across processes."""
    return CodeFingerprinter(packages, libraries, cache).manifest(func)


def code_fingerprint(
    func: Any,
    cache: SourceCache | None = None,
    *,
    packages: Iterable[str] = (),
    libraries: bool = False,
) -> str:
    """xxh3-128 digest of a callable's code (see :func:`code_manifest`)."""
    return code_manifest(func, cache, packages=packages, libraries=libraries).digest
