"""What a function's bytecode uses: names, attributes read from globals, local imports.

:func:`code_names` are every global and attribute name (``co_names``) of a function
and the code nested in it: a superset of the module-level names it reads.
:func:`attribute_chains` say which attributes it reads from each global
(``config.LABEL`` gives ``config: [("LABEL",)]``), so that a project module used as a
namespace contributes only the names read from it. :func:`local_imports` are the
``import`` statements inside the function (a common way to import lazily). Each is
cached per code object.
"""

from __future__ import annotations

import dis
import json
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from waldo.fingerprint._code_source import SourceCache

_ATTRIBUTE_OPS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})
_IMPORT_NAME = dis.opmap["IMPORT_NAME"]
_NAMES: dict[types.CodeType, tuple[str, ...]] = {}
_CHAINS: dict[types.CodeType, dict[str, tuple[tuple[str, ...], ...]]] = {}
_IMPORTS: dict[types.CodeType, tuple[LocalImport, ...]] = {}


@dataclass(frozen=True)
class LocalImport:
    """``from <module> import <names>`` (``names`` empty for ``import module``) inside
    a function; ``level`` counts the leading dots of a relative import."""

    module: str
    level: int
    names: tuple[str, ...]


def _codes(code: types.CodeType) -> list[types.CodeType]:
    found, stack = [], [code]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return found


def code_names(code: types.CodeType) -> tuple[str, ...]:
    """Every global and attribute name ``code`` and the code nested in it use."""
    known = _NAMES.get(code)
    if known is None:
        names: dict[str, None] = {}
        for current in _codes(code):
            names.update(dict.fromkeys(current.co_names))
        known = _NAMES[code] = tuple(names)
    return known


def attribute_chains(
    code: types.CodeType, cache: SourceCache | None = None, key: str | None = None
) -> dict[str, tuple[tuple[str, ...], ...]]:
    """For each global name, the attribute chains read from it (``()`` when used
    bare). Reading the bytecode costs more than the rest: asked only for the globals
    that are the project's modules, and kept in ``cache`` under ``key`` if given."""
    known = _CHAINS.get(code)
    if known is None and cache is not None and key is not None:
        remembered = cache.code_text(f"chains|{key}")
        if remembered is not None:
            loaded = json.loads(remembered)
            known = _CHAINS[code] = {k: tuple(map(tuple, v)) for k, v in loaded.items()}
    if known is None:
        chains: dict[str, dict[tuple[str, ...], None]] = {}
        for current in _codes(code):
            instructions = list(dis.get_instructions(current))
            for at, instruction in enumerate(instructions):
                if instruction.opname == "LOAD_GLOBAL":
                    chain = []
                    for following in instructions[at + 1 :]:
                        if following.opname not in _ATTRIBUTE_OPS:
                            break
                        chain.append(str(following.argval))
                    chains.setdefault(str(instruction.argval), {})[tuple(chain)] = None
        known = _CHAINS[code] = {k: tuple(v) for k, v in chains.items()}
        if cache is not None and key is not None:
            cache.remember_code_text(f"chains|{key}", json.dumps(known))
    return known


def local_imports(code: types.CodeType) -> tuple[LocalImport, ...]:
    """The ``import`` statements inside ``code`` (its bytecode is read only when it
    has an ``IMPORT_NAME`` instruction)."""
    known = _IMPORTS.get(code)
    if known is None:
        found: dict[LocalImport, None] = {}
        for current in _codes(code):
            if _IMPORT_NAME not in current.co_code[::2]:
                continue
            instructions = list(dis.get_instructions(current))
            for at, instruction in enumerate(instructions):
                if instruction.opname == "IMPORT_NAME" and at >= 2:
                    level, fromlist = instructions[at - 2].argval, instructions[at - 1].argval
                    taken = tuple(fromlist) if isinstance(fromlist, tuple) else ()
                    level = level if isinstance(level, int) else 0
                    found[LocalImport(str(instruction.argval), level, taken)] = None
        known = _IMPORTS[code] = tuple(found)
    return known
