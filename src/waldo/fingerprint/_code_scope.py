"""Whose code a name refers to: the project's, a library's, or the standard library's.

A module belongs to the project when its top-level package is one of the project's
packages: the ones named explicitly (a Kedro project's ``package_name``, extra
``packages``) and the top-level package of the node function itself, unless that one
is the standard library or lies in an installation folder (``site-packages``,
``dist-packages``). Code outside any package (a script, a notebook) has the module
``__main__`` or its own file's name as its top level, so that module counts.

A library is code of an installed distribution (``importlib.metadata``); its version
stands for its code. Modules that are neither the project's nor a distribution's (the
standard library, a loose file on ``sys.path``) do not count.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import sys
from collections.abc import Iterable, Mapping

_INSTALLED = tuple(f"{os.sep}{name}{os.sep}" for name in ("site-packages", "dist-packages"))


def top_level(module: str) -> str:
    return module.partition(".")[0]


def is_stdlib(top: str) -> bool:
    return top in sys.stdlib_module_names or top in sys.builtin_module_names


def is_installed(module: str) -> bool:
    """Whether a module was loaded from an installation folder (``site-packages``)."""
    path = getattr(sys.modules.get(module), "__file__", None) or ""
    return any(folder in path for folder in _INSTALLED)


def project_tops(packages: Iterable[str], root_module: str | None) -> frozenset[str]:
    """The top-level packages that are the project's, for a node function defined in
    ``root_module``."""
    tops = set(packages)
    if root_module:
        top = top_level(root_module)
        if not is_stdlib(top) and not is_installed(root_module):
            tops.add(top)
    return frozenset(tops)


class Distributions:
    """The installed distributions that provide top-level modules, and their versions.

    A distribution is first looked up by the module's own name (``pandas`` is provided
    by ``pandas``: one metadata read); only a name that does not match (``sklearn``,
    ``yaml``) pays for the full map of every installed distribution, once.
    """

    def __init__(self) -> None:
        self._versions: dict[str, dict[str, str]] = {}
        self._all: Mapping[str, list[str]] | None = None

    def versions(self, top: str) -> dict[str, str]:
        """``{distribution: version}`` of what provides top-level module ``top``."""
        found = self._versions.get(top)
        if found is None:
            found = self._versions[top] = self._lookup(top)
        return found

    def _lookup(self, top: str) -> dict[str, str]:
        try:
            dist = metadata.distribution(top)
            listed = (dist.read_text("top_level.txt") or top).split()
            if top in listed and dist.version:
                return {dist.metadata["Name"] or top: dist.version}
        except Exception:  # not found, or metadata that cannot be read: look them all up
            pass
        if self._all is None:
            try:
                self._all = metadata.packages_distributions()
            except Exception:  # a broken distribution among the installed ones
                self._all = {}
        versions = {}
        for name in self._all.get(top, ()):
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        return versions
