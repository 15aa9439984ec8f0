"""Catalog path rewriting (the brainstorm's "filepath replacer / bucket replacer").

Rules in ``waldo.yml`` rewrite where datasets read and write, per Kedro environment
(``conf/<env>/waldo.yml`` overrides ``conf/base/waldo.yml``)::

    paths:
      - from: data/                  # a path prefix...
        to: /mnt/scratch/data/       # ...and what replaces it
      - from: s3://prod-bucket/
        to: s3://dev-bucket/

The first rule whose ``from`` starts a dataset's ``filepath`` (or ``path``) wins. Every
dataset the run uses is rewritten, whether written out in the catalog or made by a
factory pattern; each is rebuilt from its configuration with the new path, so a change
of protocol (local to s3) works too (see ``waldo.kedro._run_catalog``). Every rewrite
is recorded on the run and shown by ``waldo show``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from waldo._errors import ConfigError

PATH_KEYS = ("filepath", "path")


def path_rules(value: Any) -> list[tuple[str, str]]:
    """Validate ``paths:`` from waldo.yml into (from, to) pairs."""
    if not value:
        return []
    if not isinstance(value, list):
        raise ConfigError("`paths:` in waldo.yml must be a list of {from: ..., to: ...} rules.")
    rules = []
    for rule in value:
        if not isinstance(rule, Mapping) or not isinstance(rule.get("from"), str):
            raise ConfigError(f"`paths:` rule {rule!r} needs `from:` and `to:` strings.")
        rules.append((str(rule["from"]), str(rule.get("to", ""))))
    return rules


def anchored(rules: list[tuple[str, str]], project: Path) -> list[tuple[str, str]]:
    """Kedro hands the catalog over with local paths made absolute (under the project),
    so a relative rule is also tried as an absolute one."""
    out: list[tuple[str, str]] = []
    for prefix, replacement in rules:
        out.append((prefix, replacement))
        if "://" not in prefix and not prefix.startswith("/"):
            target = replacement
            if "://" not in replacement and not replacement.startswith("/"):
                target = f"{project.as_posix().rstrip('/')}/{replacement}"
            out.append((f"{project.as_posix().rstrip('/')}/{prefix}", target))
    return out


def rewrite(path: str, rules: list[tuple[str, str]]) -> str | None:
    for prefix, replacement in rules:
        if path.startswith(prefix):
            return replacement + path[len(prefix) :]
    return None
