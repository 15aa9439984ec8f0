"""Waldo's Kedro integration: auto-registered hooks and the ``kedro waldo`` commands.

Installing ``waldo[kedro]`` is all a project needs: Kedro discovers the hooks through
the ``kedro.hooks`` entry point and records every ``kedro run``. The names below are
imported on first use, so ``import waldo.kedro`` (e.g. by the ``waldo`` command line)
does not load Kedro's project machinery, which configures logging when imported.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DoltError": "waldo.kedro._dolt_client",
    "DoltImportOrderError": "waldo.kedro._dolt_client",
    "DoltTableDataset": "waldo.kedro.dolt",
    "IncrementalParallelRunner": "waldo.kedro.runner",
    "IncrementalRunner": "waldo.kedro.runner",
    "IncrementalThreadRunner": "waldo.kedro.runner",
    "SamplesDataset": "waldo.kedro.results",
    "ScoresDataset": "waldo.kedro.results",
    "WaldoHooks": "waldo.kedro.hooks",
    "hooks": "waldo.kedro.hooks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'waldo.kedro' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
