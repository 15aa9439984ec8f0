"""Where the journal lives and how it behaves, resolved from the user's configuration.

Precedence (first match wins):

1. the ``WALDO_DB_URL`` environment variable;
2. ``store:`` in ``waldo.yml`` (``conf/<env>/`` over ``conf/base/``): a database URL, or
   the name of a ``credentials.yml`` entry holding one (a string, or a mapping with
   ``con`` or ``url``);
3. the seed's ``postgres: con:`` entry in ``credentials.yml``;
4. a SQLite file in the project, ``.waldo/waldo.db``.

Everything here is plain data: the integrations read the files (Kedro through its
config loader) and pass the mappings in.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waldo._errors import ConfigError
from waldo.store import parse_store_url

DEFAULT_DIR = ".waldo"
DEFAULT_DB = "waldo.db"
ENV_URL = "WALDO_DB_URL"
ENV_DISABLE = "WALDO_DISABLE"


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one project's journal."""

    store_url: str
    project_path: Path
    spool_dir: Path
    strict: bool = False
    enabled: bool = True
    heartbeat_seconds: float = 10.0
    source: str = "default"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def lease_seconds(self) -> float:
        """How long a run may go without a heartbeat before it counts as interrupted."""
        return self.heartbeat_seconds * 3 + 5


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _url_from_credentials(name: str, credentials: Mapping[str, Any]) -> str:
    if name not in credentials:
        known = ", ".join(sorted(credentials)) or "none"
        raise ConfigError(
            f"waldo.yml names the credentials entry '{name}', but credentials.yml has no "
            f"such entry (entries: {known}); add it or put a database URL in `store:`."
        )
    entry = credentials[name]
    if isinstance(entry, str):
        return entry
    if isinstance(entry, Mapping):
        for key in ("con", "url"):
            if isinstance(entry.get(key), str):
                return str(entry[key])
    raise ConfigError(
        f"The credentials entry '{name}' has no `con:` or `url:` with a database URL."
    )


def needs_credentials(
    waldo_conf: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None
) -> bool:
    """Whether :func:`resolve_settings` may look the store up in ``credentials.yml``:
    not when ``WALDO_DB_URL`` or ``store:`` gives the URL itself (reading the
    credentials through a project's config loader takes milliseconds at every run)."""
    env = os.environ if environ is None else environ
    store = (waldo_conf or {}).get("store")
    if env.get(ENV_URL):
        return False
    return not (isinstance(store, str) and _is_url(store))


def _is_url(store: str) -> bool:
    """A ``store:`` value that is a URL, not the name of a credentials entry."""
    return "://" in store or store.startswith("sqlite:")


def resolve_settings(
    project_path: Path | str,
    waldo_conf: Mapping[str, Any] | None = None,
    credentials: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve the store URL and options for a project (see the module docstring)."""
    project = Path(project_path).resolve()
    conf = dict(waldo_conf or {})
    creds = credentials or {}
    env = os.environ if environ is None else environ
    unknown = set(conf) - {"store", "strict", "enabled", "spool_dir", "heartbeat_seconds"}
    # Everything else (e.g. ``preflight``, ``fingerprints``, ``dolt``) is for the
    # integrations, which read it from ``Settings.extra``.
    extra = {k: conf[k] for k in unknown}

    store = conf.get("store")
    if env.get(ENV_URL):
        url, source = env[ENV_URL], f"environment variable {ENV_URL}"
    elif store:
        if not isinstance(store, str):
            raise ConfigError("`store:` in waldo.yml must be a URL or a credentials entry name.")
        if _is_url(store):
            url, source = store, "waldo.yml"
        else:
            url, source = _url_from_credentials(store, creds), f"credentials entry '{store}'"
    elif isinstance(creds.get("postgres"), Mapping) and creds["postgres"].get("con"):
        url, source = str(creds["postgres"]["con"]), "credentials entry 'postgres'"
    else:
        url = f"sqlite:///{project / DEFAULT_DIR / DEFAULT_DB}"
        source = "default"
    parse_store_url(url)  # a URL that can never work is a ConfigError now, not at write

    spool = Path(conf.get("spool_dir") or project / DEFAULT_DIR / "spool")
    if not spool.is_absolute():
        spool = project / spool
    try:
        heartbeat = float(conf.get("heartbeat_seconds", env.get("WALDO_HEARTBEAT_SECONDS", 10)))
    except (TypeError, ValueError) as exc:
        raise ConfigError("`heartbeat_seconds:` in waldo.yml must be a number.") from exc
    enabled = _truthy(conf.get("enabled", True)) and not _truthy(env.get(ENV_DISABLE, ""))
    return Settings(
        store_url=url,
        project_path=project,
        spool_dir=spool,
        strict=_truthy(conf.get("strict", False)) or _truthy(env.get("WALDO_STRICT", "")),
        enabled=enabled,
        heartbeat_seconds=max(heartbeat, 0.2),
        source=source,
        extra=extra,
    )


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder holding a Kedro ``pyproject.toml`` or a ``.waldo`` folder."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_DIR).is_dir():
            return folder
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.kedro]" in pyproject.read_text(errors="replace"):
            return folder
    return here
