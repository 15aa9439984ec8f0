"""Finding the journal a command talks to: ``--db``, else the project's configuration."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from waldo._errors import ConfigError
from waldo.journal import Journal, Settings, project_root, resolve_settings

ENV_URL = "WALDO_DB_URL"


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level.")
    return data


def _plain_settings(root: Path, env: str) -> Settings:
    """Without Kedro installed: read conf/base and conf/<env> YAML directly."""
    waldo: dict[str, Any] = {}
    credentials: dict[str, Any] = {}
    for folder in ("base", env):
        waldo.update(_read_yaml(root / "conf" / folder / "waldo.yml"))
        credentials.update(_read_yaml(root / "conf" / folder / "credentials.yml"))
    return resolve_settings(root, waldo, credentials)


def _check_env(root: Path, env: str) -> None:
    """``--env`` must name one of the project's configuration folders."""
    conf = root / "conf"
    if not conf.is_dir():
        raise ConfigError(f"--env {env}: {root} has no Kedro configuration (conf/) to read.")
    if not (conf / env).is_dir():
        known = ", ".join(sorted(p.name for p in conf.iterdir() if p.is_dir()))
        raise ConfigError(f"--env {env}: no such environment in {conf} ({known}).")


def cli_settings(
    project: Path | None,
    env: str | None,
    db: str | None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The settings of the journal a command reads: ``--db``, else the project's.

    Outside a project (no Kedro project, no ``.waldo`` folder, here or above) without
    ``--db`` or ``WALDO_DB_URL`` there is no journal: a ConfigError, and nothing is
    created (a journal made in any folder would then be found from every folder below).
    """
    if project is not None and not Path(project).is_dir():
        raise ConfigError(f"The project folder {project} does not exist.")
    found = project_root(project)
    here = Path(project or Path.cwd()).resolve()
    environ = os.environ if environ is None else environ
    if found is None and not db and not environ.get(ENV_URL):
        raise ConfigError(
            f"{here} is not in a Waldo project (no Kedro project, no .waldo folder here "
            f"or above): run this in a project, pass --db URL or set {ENV_URL}, or "
            "`mkdir .waldo` to keep a journal here."
        )
    root = found or here
    if db:
        settings = resolve_settings(root, {}, {}, environ={ENV_URL: db})
        return replace(settings, source="--db")
    if env is not None:  # the environment whose waldo.yml is read
        _check_env(root, env)
    if (root / "conf").is_dir():
        try:
            from waldo.kedro._config import settings_for_project
        except ImportError:
            return _plain_settings(root, env or "local")
        try:
            return settings_for_project(root, env)
        except ConfigError:
            raise
        except Exception as exc:  # a broken Kedro config: say which, in one line
            raise ConfigError(
                f"Cannot read the Kedro configuration in {root / 'conf'}: {exc}"
            ) from exc
    return resolve_settings(root)


class CliState:
    """What the command group hands to its subcommands."""

    def __init__(self, project: Path | None, env: str | None, db: str | None) -> None:
        self.project = project
        self.env = env
        self.db = db
        self._journal: Journal | None = None

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal(cli_settings(self.project, self.env, self.db))
        return self._journal
