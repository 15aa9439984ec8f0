"""Catalog entries as change detection compares them.

A dataset's entry is its configuration in the catalog after factory patterns are
resolved (a factory dataset counts like one written out): type, filepath, load and save
arguments, versioning. Credentials count by name, never by value (the catalog is masked
the way its snapshot is stored, ``waldo.journal.mask_secrets``); local paths count
relative to the project, so a checkout elsewhere sees the same entries; ``metadata``
does not count (it describes the data, it does not change it).

The entry a node last ran with comes from the catalog snapshot of that run (the
``catalogs`` table, through ``runs.catalog_hash``); the entry now from the catalog
Kedro is about to run with.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from waldo.journal import json_safe, mask_secrets

log = logging.getLogger("waldo")

IGNORED_KEYS = frozenset({"metadata"})


class _ByName(dict[str, str]):
    """Credentials that resolve to their own name: entries keep credentials by name."""

    def __missing__(self, key: str) -> str:
        return key

    def __bool__(self) -> bool:  # Kedro takes an empty mapping for "no credentials"
        return True


def stored_form(conf_catalog: Mapping[str, Any], conf_creds: Mapping[str, Any]) -> Any:
    """The catalog as its snapshot stores it: secrets masked, JSON values only."""
    return json_safe(mask_secrets(dict(conf_catalog), dict(conf_creds)), "catalog entry")


class CatalogEntries:
    """The resolved entries of one catalog configuration (a snapshot, or the catalog now).

    ``root`` is the project folder the configuration's absolute paths are under.
    """

    def __init__(self, content: Mapping[str, Any] | None, root: str | Path | None) -> None:
        self._root = f"{Path(root).as_posix().rstrip('/')}/" if root else None
        self._entries: dict[str, dict[str, Any] | None] = {}
        self._resolver: Any = None
        try:
            self._resolver = _resolver(content or {})
        except Exception as exc:  # an old or odd snapshot: its entries are unknown
            log.debug("waldo: cannot read catalog entries: %s", exc)

    @property
    def known(self) -> bool:
        return self._resolver is not None

    def entry(self, name: str) -> dict[str, Any] | None:
        """The entry of dataset ``name``; None when the catalog does not configure it."""
        if name not in self._entries:
            self._entries[name] = self._resolve(name)
        return self._entries[name]

    def _resolve(self, name: str) -> dict[str, Any] | None:
        resolver = self._resolver
        if resolver is None:
            return None
        config = resolver.config.get(name)
        if config is None and (
            resolver.match_dataset_pattern(name) or resolver.match_user_catch_all_pattern(name)
        ):
            config = resolver.resolve_pattern(name)
        if not isinstance(config, Mapping):
            return None
        return {str(k): self._relative(v) for k, v in config.items() if str(k) not in IGNORED_KEYS}

    def _relative(self, value: Any) -> Any:
        root = self._root
        if root is None:
            return value
        if isinstance(value, str):
            return value[len(root) :] if value.startswith(root) else value
        if isinstance(value, Mapping):
            return {k: self._relative(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._relative(v) for v in value]
        return value


def _resolver(content: Mapping[str, Any]) -> Any:
    from kedro.io import CatalogConfigResolver
    from kedro.io.catalog_config_resolver import DEFAULT_RUNTIME_PATTERN

    config = {str(k): v for k, v in content.items() if isinstance(v, dict)}
    by_name: Any = _ByName()
    return CatalogConfigResolver(
        config=config, credentials=by_name, default_runtime_patterns=DEFAULT_RUNTIME_PATTERN
    )


# The catalog configuration of the catalog Kedro made last (after_catalog_created), for
# the incremental runner, which only gets the catalog object.
_last_config: tuple[weakref.ReferenceType[Any], Any] | None = None


def remember_catalog_config(
    catalog: Any, conf_catalog: Mapping[str, Any] | None, conf_creds: Mapping[str, Any] | None
) -> None:
    global _last_config
    _last_config = (weakref.ref(catalog), (dict(conf_catalog or {}), dict(conf_creds or {})))


def entries_now(catalog: Any, root: Path) -> CatalogEntries | None:
    """The entries of the catalog Kedro made for this run; None if it was not seen."""
    last = _last_config
    if catalog is None or last is None or last[0]() is not catalog:
        return None
    conf_catalog, conf_creds = last[1]
    return CatalogEntries(stored_form(conf_catalog, conf_creds), root)
