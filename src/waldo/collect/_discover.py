"""Finding a plugin class: by entry point name, or by a ``module:Class`` path.

Installed plugins register under the ``waldo.collectors`` entry point group (Waldo's
built-in collectors do, in its ``pyproject.toml``); a plugin still being written is
named by its import path, with the current folder importable.
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib.metadata import EntryPoint, entry_points

from waldo._errors import InvalidInput
from waldo.collect.plugin import Plugin

ENTRY_POINT_GROUP = "waldo.collectors"

#: The built-in collectors, also found when Waldo's entry points are not installed
#: (a source checkout on ``PYTHONPATH``).
BUILTIN = {
    "dbt": "waldo.collect.plugins.dbt:DbtArtifacts",
    "github": "waldo.collect.plugins.github:GitHubActions",
    "waldo": "waldo.collect.plugins.waldo_runs:WaldoRuns",
}


def installed() -> dict[str, str]:
    """Plugin names and their ``module:Class`` targets, built-in and installed."""
    found = dict(BUILTIN)
    eps: list[EntryPoint] = list(entry_points(group=ENTRY_POINT_GROUP))
    for ep in eps:
        found[ep.name] = ep.value
    return dict(sorted(found.items()))


def load_plugin(spec: str) -> type[Plugin]:
    """The plugin class named by ``spec`` (an entry point name or ``module:Class``)."""
    target = installed().get(spec, spec)
    if ":" not in target:
        names = ", ".join(installed())
        raise InvalidInput(
            f"Unknown collector '{spec}': installed collectors are {names}; "
            "or name a plugin class as module:Class."
        )
    module_name, _, attr = target.partition(":")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInput(f"Cannot import the collector module '{module_name}': {exc}") from exc
    found = getattr(module, attr, None)
    if not (isinstance(found, type) and issubclass(found, Plugin)):
        raise InvalidInput(f"'{target}' is not a waldo.collect.Plugin class.")
    return found
