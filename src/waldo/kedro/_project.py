"""Writing small Kedro projects by hand, offline (for ``waldo demo`` and for tests).

A project is a folder with ``pyproject.toml`` (``[tool.kedro]``), ``conf/``, ``data/``
and ``src/<package>/`` holding ``settings.py``, ``pipeline_registry.py`` and the node
functions. Kedro adds ``src`` to ``sys.path`` itself, so nothing needs installing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import kedro


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))


def write_project(
    root: Path,
    package: str,
    *,
    nodes_py: str,
    registry_py: str,
    catalog_yml: str = "",
    parameters_yml: str = "",
    local_files: Mapping[str, str] | None = None,
    settings_py: str = "",
) -> Path:
    """Create a Kedro project at ``root`` with the given code and configuration."""
    root.mkdir(parents=True, exist_ok=True)
    write(
        root / "pyproject.toml",
        f"""
        [project]
        name = "{package.replace("_", "-")}"
        version = "0.1.0"
        requires-python = ">=3.10"

        [tool.kedro]
        package_name = "{package}"
        project_name = "{package}"
        kedro_init_version = "{kedro.__version__}"
        source_dir = "src"
        """,
    )
    write(root / "src" / package / "__init__.py", '"""A Kedro project."""\n')
    write(root / "src" / package / "settings.py", settings_py or '"""Project settings."""\n')
    write(root / "src" / package / "nodes.py", nodes_py)
    write(root / "src" / package / "pipeline_registry.py", registry_py)
    write(root / "conf" / "base" / "catalog.yml", catalog_yml or "{}\n")
    write(root / "conf" / "base" / "parameters.yml", parameters_yml or "{}\n")
    write(root / "conf" / "local" / "credentials.yml", "{}\n")
    for relative, text in (local_files or {}).items():
        write(root / relative, text)
    return root


def kedro_env() -> dict[str, str]:
    """Environment for a ``kedro`` subprocess: no telemetry prompt, unbuffered output."""
    env = dict(os.environ)
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def kedro_run(
    root: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``kedro run ARGS`` in ``root`` with this interpreter; capture its output."""
    full_env = kedro_env()
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "kedro", "run", *args],
        cwd=root,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
