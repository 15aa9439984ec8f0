"""Finding the journal a command talks to: ``--db``, else the project's configuration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from waldo._errors import ConfigError
from waldo.journal import Journal, Settings, find_project_root, resolve_settings


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


def cli_settings(project: Path | None, env: str | None, db: str | None) -> Settings:
    root = find_project_root(project)
    if project is not None and not Path(project).is_dir():
        raise ConfigError(f"The project folder {project} does not exist.")
    if db:
        settings = resolve_settings(root, {}, {}, environ={"WALDO_DB_URL": db})
        return replace(settings, source="--db")
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
