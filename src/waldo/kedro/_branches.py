"""Data branches ("steel toes"): a run on a branch never writes main data.

A run is on a data branch when ``kedro run --params waldo_branch=NAME`` (or the
seed's ``dolt_branch=NAME``) says so, or when ``waldo.yml`` picks it from git::

    branch:
      from: git              # the current git branch is the data branch (none on main/master)
      shared: [orders_db]    # datasets a branch run may write all the same

On a branch every file dataset the run uses is branch-local: saves go to
``<stem>@<branch>.<suffix>`` next to the main file, loads read that copy when it
exists and the main file otherwise. Dolt tables use the Dolt branch of the same name.
A dataset the run writes that has no file to copy (a SQL table, an API) stops the run
before any node runs, unless it is listed under ``shared``.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from waldo._errors import ConfigError

BRANCH_PARAMS = ("waldo_branch", "dolt_branch")
MAIN_BRANCHES = frozenset({"main", "master"})
_KEYS = ("from", "shared")


@dataclass(frozen=True)
class BranchConfig:
    """The ``branch:`` section of ``waldo.yml``."""

    from_git: bool = False
    shared: frozenset[str] = frozenset()


def branch_config(waldo_conf: Mapping[str, Any]) -> BranchConfig:
    """Validate ``branch:`` from waldo.yml (absent: no git branches, nothing shared)."""
    section = waldo_conf.get("branch")
    if section is None:
        return BranchConfig()
    if not isinstance(section, Mapping):
        raise ConfigError("`branch:` in waldo.yml must be a mapping, e.g. {from: git}.")
    unknown = sorted(set(map(str, section)) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"`branch:` in waldo.yml: unknown key {unknown[0]!r} (known: from, shared)."
        )
    source = section.get("from")
    if source not in (None, "git"):
        raise ConfigError(f"`branch: {{from: ...}}` in waldo.yml must be `git`, not {source!r}.")
    shared = section.get("shared") or []
    if not isinstance(shared, list) or not all(isinstance(s, str) for s in shared):
        raise ConfigError("`branch: {shared: ...}` in waldo.yml must be a list of dataset names.")
    return BranchConfig(from_git=source == "git", shared=frozenset(shared))


def git_branch(path: Path) -> str | None:
    """The git branch checked out at ``path``; None when detached or outside git."""
    try:
        name = subprocess.run(
            ["git", "symbolic-ref", "--quiet", "--short", "HEAD"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return name or None


def data_branch(
    runtime_params: Mapping[str, Any] | None, config: BranchConfig, project_path: Path
) -> str | None:
    """The data branch of a run: ``--params waldo_branch=`` / ``dolt_branch=``, else the
    git branch when ``branch: {from: git}`` (none on main or master)."""
    given = {
        str(value)
        for name in BRANCH_PARAMS
        if (value := (runtime_params or {}).get(name)) not in (None, "")
    }
    if len(given) > 1:
        raise ConfigError(
            f"--params waldo_branch and dolt_branch name different branches "
            f"({', '.join(sorted(given))}); give one."
        )
    if given:
        return given.pop()
    if config.from_git:
        branch = git_branch(project_path)
        if branch is not None and branch not in MAIN_BRANCHES:
            return branch
    return None


def branch_path(filepath: str, branch: str) -> str:
    """``data/summary.csv`` on branch ``exp`` -> ``data/summary@exp.csv``."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", branch)
    head, sep, name = filepath.rpartition("/")
    stem, dot, suffix = name.partition(".")
    return f"{head}{sep}{stem}@{safe}{dot}{suffix}"


class BranchLocalDataset(AbstractDataset[Any, Any]):
    """A file dataset on a branch: saves go to the branch copy of the file; loads read
    the branch copy when it exists and the main file otherwise."""

    def __init__(self, main: AbstractDataset[Any, Any], branch: AbstractDataset[Any, Any]):
        self._main = main
        self._branch = branch

    def visible(self) -> AbstractDataset[Any, Any]:
        """The dataset a load reads now: the branch copy once it exists."""
        return self._branch if self._branch.exists() else self._main

    def _describe(self) -> dict[str, Any]:
        return {"main": self._main._describe(), "branch": self._branch._describe()}

    def load(self) -> Any:
        return self.visible().load()

    def save(self, data: Any) -> None:
        self._branch.save(data)

    def _exists(self) -> bool:
        return self._branch.exists() or self._main.exists()

    def _release(self) -> None:
        self._main.release()
        self._branch.release()
