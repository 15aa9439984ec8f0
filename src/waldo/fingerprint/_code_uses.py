"""What a function's bytecode uses: names, attributes read from globals, local imports.

``names`` are every global and attribute name (``co_names``) of the function and the
code nested in it: a superset of the module-level names it reads. ``chains`` say which
attributes it reads from each global (``config.LABEL`` gives ``config: [("LABEL",)]``),
so that a project module used as a namespace contributes only the names read from it.
``imports`` are the ``import`` statements inside the function (a common way to import
lazily), with the names taken from each module.
"""

from __future__ import annotations

import dis
import types
from dataclasses import dataclass

_ATTRIBUTE_OPS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})
_USES: dict[types.CodeType, Uses] = {}


@dataclass(frozen=True)
class LocalImport:
    """``from <module> import <names>`` (``names`` empty for ``import module``) inside
    a function; ``level`` counts the leading dots of a relative import."""

    module: str
    level: int
    names: tuple[str, ...]


@dataclass(frozen=True)
class Uses:
    names: tuple[str, ...]
    chains: dict[str, tuple[tuple[str, ...], ...]]
    imports: tuple[LocalImport, ...]


def _codes(code: types.CodeType) -> list[types.CodeType]:
    found, stack = [], [code]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return found


def uses(code: types.CodeType) -> Uses:
    """What ``code`` and the code nested in it use (cached per code object)."""
    known = _USES.get(code)
    if known is not None:
        return known
    names: dict[str, None] = {}
    chains: dict[str, dict[tuple[str, ...], None]] = {}
    imports: list[LocalImport] = []
    for current in _codes(code):
        names.update(dict.fromkeys(current.co_names))
        _scan(current, chains, imports)
    found = Uses(
        tuple(names), {k: tuple(v) for k, v in chains.items()}, tuple(dict.fromkeys(imports))
    )
    _USES[code] = found
    return found


def _scan(
    code: types.CodeType,
    chains: dict[str, dict[tuple[str, ...], None]],
    imports: list[LocalImport],
) -> None:
    instructions = list(dis.get_instructions(code))
    for at, instruction in enumerate(instructions):
        if instruction.opname == "LOAD_GLOBAL":
            chain = []
            for following in instructions[at + 1 :]:
                if following.opname not in _ATTRIBUTE_OPS:
                    break
                chain.append(str(following.argval))
            chains.setdefault(str(instruction.argval), {})[tuple(chain)] = None
        elif instruction.opname == "IMPORT_NAME" and at >= 2:
            level, fromlist = instructions[at - 2].argval, instructions[at - 1].argval
            taken = tuple(fromlist) if isinstance(fromlist, tuple) else ()
            level = level if isinstance(level, int) else 0
            imports.append(LocalImport(str(instruction.argval), level, taken))
