"""Reading Waldo's settings from a Kedro project.

Inside a run the project's own config loader is used (so ``waldo.yml`` and
``credentials.yml`` get the same environments, merging and resolvers as the rest of the
configuration). Outside a run (``waldo runs`` in a project folder) the same files are
read with a fresh ``OmegaConfigLoader``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from waldo.journal import Settings, needs_credentials, resolve_settings

log = logging.getLogger("waldo")

WALDO_PATTERNS = ["waldo*", "waldo*/**"]


def _read(loader: Any, key: str) -> dict[str, Any]:
    from kedro.config import MissingConfigException

    try:
        if key == "waldo" and "waldo" not in loader.config_patterns:
            loader.config_patterns["waldo"] = WALDO_PATTERNS
        value = loader[key]
    except (MissingConfigException, KeyError):
        return {}
    return dict(value or {})


# The ``waldo`` section last read, with its loader: the recording hooks and the Dolt
# hooks both read it from the same loader as a session starts, and every read globs
# and parses the files again. Each session's context makes a new loader, so the last
# one's section is never served for another.
_last_waldo: tuple[Any, dict[str, Any]] | None = None


def waldo_config(loader: Any) -> dict[str, Any]:
    """The project's ``waldo.yml`` (``conf/<env>/waldo*``) as a dict; empty if none."""
    global _last_waldo
    last = _last_waldo
    if last is None or last[0] is not loader:
        last = _last_waldo = (loader, _read(loader, "waldo"))
    return copy.deepcopy(last[1])


def settings_from_loader(loader: Any, project_path: Path) -> Settings:
    waldo_conf = waldo_config(loader)
    credentials = _read(loader, "credentials") if needs_credentials(waldo_conf) else {}
    return resolve_settings(project_path, waldo_conf, credentials)


def credentials_from_loader(loader: Any) -> dict[str, Any]:
    """The project's credentials (for notifiers); empty when there are none."""
    return _read(loader, "credentials")


def strict_requested(loader: Any) -> bool:
    """Whether the user asked for strict mode, readable even when the store config is bad."""
    values = (waldo_config(loader).get("strict", False), os.environ.get("WALDO_STRICT", ""))
    return any(
        v.strip().lower() in ("1", "true", "yes", "on") if isinstance(v, str) else bool(v)
        for v in values
    )


@contextlib.contextmanager
def quiet_kedro() -> Iterator[None]:
    """Keep Kedro's own log lines (it logs to stdout) out of a command's output.

    ``waldo ... --format json`` must print JSON and nothing else, but importing Kedro's
    project machinery or creating a session logs through a handler writing to stdout.
    """
    kedro_log = logging.getLogger("kedro")
    level = kedro_log.level
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        kedro_log.setLevel(logging.WARNING)  # "Loading data from ..." is noise here
        try:
            yield
        finally:
            kedro_log.setLevel(level)


def settings_for_project(project_path: Path, env: str | None = None) -> Settings:
    """Settings of a Kedro project on disk, for commands run outside ``kedro run``."""
    conf = project_path / "conf"
    if not conf.is_dir():
        return resolve_settings(project_path)
    with quiet_kedro():
        from kedro.config import OmegaConfigLoader

        loader = OmegaConfigLoader(
            conf_source=str(conf), base_env="base", default_run_env=env or "local"
        )
        return settings_from_loader(loader, project_path)


def waldo_section(conf: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(conf or {})
