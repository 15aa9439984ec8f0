"""Where the journal lives and how it behaves, resolved from the user's configuration.

Precedence (first match wins):

1. the ``WALDO_DB_URL`` environment variable;
2. ``store:`` in ``waldo.yml`` (``conf/<env>/`` over ``conf/base/``): a database URL, or
   the name of a ``credentials.yml`` entry holding one (a string, or a mapping with
   ``con`` or ``url``);
3. the seed's ``postgres: con:`` entry in ``credentials.yml``;
4. a SQLite file in the project, ``.waldo/waldo.db``.

Everything here is plain data: the integrations read the files (Kedro through its
config loader) and pass the mappings in. ``waldo.yml`` is checked against its schema
(:mod:`waldo.journal._config`): each problem is one warning and the key is ignored, or,
in strict mode, the problems are one ConfigError.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waldo._errors import ConfigError
from waldo._masking import mask_url
from waldo.journal._config_check import ConfigCheck, recall, remember
from waldo.store import parse_store_url

log = logging.getLogger("waldo")

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
    #: Extra parameter names (or patterns) to store masked, from ``mask:`` in waldo.yml.
    mask: tuple[str, ...] = ()

    def __repr__(self) -> str:
        # Settings end up in logs and tracebacks: never with the store's password.
        return (
            f"Settings(store_url={mask_url(self.store_url)!r}, "
            f"project_path={str(self.project_path)!r}, source={self.source!r}, "
            f"strict={self.strict}, enabled={self.enabled})"
        )

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
            f"waldo.yml names the credentials entry '{mask_url(name)}', but credentials.yml has no "
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
    """A ``store:`` value that is a URL, not the name of a credentials entry (a name
    holds no ``:``; a mistyped URL is then named as a bad URL, its password masked)."""
    return ":" in store


CONFIG_SCHEMA = Path(__file__).with_name("_config.py")
CORE_KEYS = frozenset({"store", "strict", "enabled", "spool_dir", "heartbeat_seconds", "mask"})
_warned: set[str] = set()


def checked_config(
    waldo_conf: Mapping[str, Any] | None, project: Path, environ: Mapping[str, str]
) -> tuple[dict[str, Any], ConfigCheck | None]:
    """``waldo.yml`` without the keys that are wrong: each is one warning (once per
    process), or, when strict mode is asked for, all of them are one ConfigError.
    Also the check just made (None when it was recalled), for :func:`remember`."""
    if not waldo_conf:
        return {}, None
    folder = project / DEFAULT_DIR
    fresh = None
    check = recall(waldo_conf, folder, CONFIG_SCHEMA)
    if check is None:
        from waldo.journal._config import check_config  # pydantic: when waldo.yml changed

        check = fresh = check_config(waldo_conf)
    usable = check.usable(waldo_conf)
    if not check.problems:
        return usable, fresh
    if _truthy(usable.get("strict", False)) or _truthy(environ.get("WALDO_STRICT", "")):
        raise ConfigError("; ".join(check.problems) + " (strict mode: fix waldo.yml)")
    for problem in check.problems:
        if problem not in _warned:
            _warned.add(problem)
            log.warning("waldo: %s", problem)
    return usable, fresh


def resolve_settings(
    project_path: Path | str,
    waldo_conf: Mapping[str, Any] | None = None,
    credentials: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve the store URL and options for a project (see the module docstring)."""
    project = Path(project_path).resolve()
    creds = credentials or {}
    env = os.environ if environ is None else environ
    conf, fresh_check = checked_config(waldo_conf, project, env)
    if "store" in (waldo_conf or {}) and "store" not in conf:  # never another store instead
        raise ConfigError("`store:` in waldo.yml must be a URL or a credentials entry name.")
    # Everything else (e.g. ``preflight``, ``fingerprints``, ``dolt``) is for the
    # integrations, which read it from ``Settings.extra``.
    extra = {k: v for k, v in conf.items() if k not in CORE_KEYS}

    store = conf.get("store")
    if env.get(ENV_URL):
        url, source = env[ENV_URL], f"environment variable {ENV_URL}"
    elif store:
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
    if fresh_check is not None and waldo_conf:  # a usable configuration: worth keeping
        remember(waldo_conf, project / DEFAULT_DIR, CONFIG_SCHEMA, fresh_check)

    spool = Path(conf.get("spool_dir") or project / DEFAULT_DIR / "spool")
    if not spool.is_absolute():
        spool = project / spool
    enabled = _truthy(conf.get("enabled", True)) and not _truthy(env.get(ENV_DISABLE, ""))
    return Settings(
        store_url=url,
        project_path=project,
        spool_dir=spool,
        strict=_truthy(conf.get("strict", False)) or _truthy(env.get("WALDO_STRICT", "")),
        enabled=enabled,
        heartbeat_seconds=max(_heartbeat(conf, env), 0.2),
        source=source,
        extra=extra,
        mask=tuple(conf.get("mask") or ()),
    )


def _heartbeat(conf: Mapping[str, Any], env: Mapping[str, str]) -> float:
    if "heartbeat_seconds" in conf:
        return float(conf["heartbeat_seconds"])
    try:
        return float(env.get("WALDO_HEARTBEAT_SECONDS", 10))
    except ValueError as exc:
        raise ConfigError("WALDO_HEARTBEAT_SECONDS must be a number of seconds.") from exc


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder (``start`` or above) holding a Kedro ``pyproject.toml`` or a
    ``.waldo`` folder; None when there is none."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_DIR).is_dir():
            return folder
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.kedro]" in pyproject.read_text(errors="replace"):
            return folder
    return None


def find_project_root(start: Path | None = None) -> Path:
    """:func:`project_root`, or ``start`` itself (the current folder) when there is none."""
    return project_root(start) or (start or Path.cwd()).resolve()
