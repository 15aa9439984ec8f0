"""Small Python packages written for a test and imported afresh."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType


def forget(package: str) -> None:
    """Drop a package and its modules from ``sys.modules`` (the next import reloads)."""
    for name in [m for m in sys.modules if m.split(".")[0] == package]:
        del sys.modules[name]


def load_package(root: Path, files: Mapping[str, str], module: str) -> ModuleType:
    """Write ``files`` (paths relative to ``root``, such as ``pkg/a/b.py``; text is
    dedented), forget any earlier import of their top-level package, import ``module``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        for folder in path.relative_to(root).parents:
            if folder != Path("."):
                (root / folder / "__init__.py").touch()
    forget(module.partition(".")[0])
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(root))
