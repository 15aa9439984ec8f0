"""Package attributes imported on first use (PEP 562), so importing a package is cheap.

A package lists its public names and where each lives; ``from package import Name``
and ``package.Name`` import that one module then, not the whole package. The
package keeps the same names under ``if TYPE_CHECKING:`` imports for type checkers
and the import linter.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def members(module: str, names: Iterable[str]) -> dict[str, str]:
    """``{name: "module:name"}`` for names a package takes unchanged from ``module``."""
    return {name: f"{module}:{name}" for name in names}


def attach(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``.

    ``exports`` maps each public name to ``"module:attribute"`` or to ``"module"`` (the
    module itself), the form of an entry point's object reference.
    """

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, _, attribute = target.partition(":")
        value = importlib.import_module(module_name)
        if attribute:
            value = getattr(value, attribute)
        # Later look-ups find the name in the package and skip this function.
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
