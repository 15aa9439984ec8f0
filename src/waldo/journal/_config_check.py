"""What a check of ``waldo.yml`` found, and remembering it while the file is unchanged.

Validating ``waldo.yml`` against its schema (:mod:`waldo.journal._config`) means
importing pydantic and building its models, which costs more than the rest of Waldo's
start-up in a ``kedro run``. The outcome depends only on the configuration and the
schema, so it is kept in ``.waldo/config-check.json`` under a key of both, and a run
whose ``waldo.yml`` did not change reads it back without pydantic. The file holds the
problems and the keys they concern, never a value (a store URL carries a password).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waldo._version import __version__

CACHE_FILE = "config-check.json"
KeyPath = tuple[Any, ...]


@dataclass
class ConfigCheck:
    """The problems found in a configuration, worded for a person, and the keys they
    concern, which are left out of it (their defaults then apply)."""

    problems: list[str] = field(default_factory=list)
    removed: list[KeyPath] = field(default_factory=list)

    def usable(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """``raw`` without the keys this check found wrong."""
        config = without_yaml_quirks(copy.deepcopy(dict(raw)))
        for path in self.removed:
            remove_at(config, path)
        return config


def without_yaml_quirks(raw: dict[str, Any]) -> dict[str, Any]:
    """YAML 1.1 reads a bare ``on:`` as ``true``: in ``notify:`` it means ``when:``."""
    notify = raw.get("notify")
    if isinstance(notify, dict):
        for alias in (True, "on"):
            if alias in notify:
                notify.setdefault("when", notify.pop(alias))
    return raw


def value_at(raw: Any, path: KeyPath) -> Any:
    """The value at ``path`` in nested mappings and lists; None if there is none."""
    for part in path:
        try:
            raw = raw[part]
        except (KeyError, IndexError, TypeError):
            return None
    return raw


def remove_at(raw: Any, path: KeyPath) -> None:
    """Leave the value at ``path`` out of ``raw``."""
    if not path:
        raw.clear()
        return
    parent = value_at(raw, path[:-1])
    key = path[-1]
    if isinstance(parent, dict):
        parent.pop(key, None)
    elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
        parent.pop(key)
    else:
        remove_at(raw, path[:-1])


def _key(raw: Mapping[str, Any], schema: Path) -> str:
    stat = schema.stat()
    text = f"{__version__}\n{stat.st_mtime_ns}:{stat.st_size}\n{raw!r}"
    return hashlib.sha256(text.encode()).hexdigest()


def recall(raw: Mapping[str, Any], folder: Path, schema: Path) -> ConfigCheck | None:
    """What the check said last time for the same ``raw`` and ``schema``, if it is kept
    in ``folder``."""
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        kept = json.loads((folder / CACHE_FILE).read_text())
        if kept["key"] == _key(raw, schema):
            return ConfigCheck(list(kept["problems"]), [tuple(p) for p in kept["removed"]])
    return None


def remember(raw: Mapping[str, Any], folder: Path, schema: Path, found: ConfigCheck) -> None:
    """Keep what the check found in ``folder`` (one that cannot be written only costs
    the check next time)."""
    data = {"key": _key(raw, schema), "problems": found.problems, "removed": found.removed}
    _keep(folder / CACHE_FILE, data)


def _keep(path: Path, data: dict[str, Any]) -> None:
    try:
        text = json.dumps(data)
    except (TypeError, ValueError):
        return  # a key that JSON cannot hold: check again next time
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".config-check-")
        try:
            with os.fdopen(handle, "w") as out:
                out.write(text)
            os.replace(temporary, path)
        except OSError:
            os.unlink(temporary)
            raise
