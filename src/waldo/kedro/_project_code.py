"""What counts as a Kedro project's own code, for code fingerprints.

The project's packages are its Kedro package (``[tool.kedro] package_name`` in
``pyproject.toml``, or the package Kedro was configured with) and any listed under
``fingerprints: {packages: [...]}`` in ``waldo.yml``; each node function's own
top-level package counts too (see ``waldo.fingerprint._code_scope``).
``fingerprints: {libraries: true}`` makes installed libraries count by version.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waldo._errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Kedro installs tomli on Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class CodeOptions:
    """The code part of ``fingerprints:`` in ``waldo.yml``."""

    libraries: bool = False
    packages: tuple[str, ...] = ()


def code_options(raw: Any) -> CodeOptions:
    """Read ``fingerprints:`` (``true``, ``false`` or a mapping) for code fingerprints."""
    if not isinstance(raw, dict):
        return CodeOptions()
    libraries = raw.get("libraries", False)
    if not isinstance(libraries, bool):
        raise ConfigError(f"fingerprints: libraries must be true or false, not {libraries!r}.")
    packages = raw.get("packages") or []
    if isinstance(packages, str):
        packages = [packages]
    if not isinstance(packages, list) or not all(isinstance(p, str) for p in packages):
        raise ConfigError(f"fingerprints: packages must be a list of names, not {packages!r}.")
    return CodeOptions(libraries, tuple(packages))


def kedro_package(project_path: Path) -> str | None:
    """The project's Kedro package: from ``pyproject.toml``, else from Kedro."""
    try:
        with (project_path / "pyproject.toml").open("rb") as handle:
            name = tomllib.load(handle).get("tool", {}).get("kedro", {}).get("package_name")
        if isinstance(name, str) and name:
            return name
    except (OSError, tomllib.TOMLDecodeError):
        pass
    project = sys.modules.get("kedro.framework.project")
    name = getattr(project, "PACKAGE_NAME", None)
    return name if isinstance(name, str) and name else None


def project_packages(project_path: Path, options: CodeOptions) -> tuple[str, ...]:
    package = kedro_package(project_path)
    found = ([package] if package else []) + list(options.packages)
    return tuple(dict.fromkeys(p.partition(".")[0] for p in found))
