"""Waldo's Kedro integration: auto-registered hooks and the ``kedro waldo`` commands.

Installing ``waldo[kedro]`` is all a project needs: Kedro discovers the hooks through
the ``kedro.hooks`` entry point and records every ``kedro run``.
"""

from __future__ import annotations

from waldo.kedro.hooks import WaldoHooks, hooks
from waldo.kedro.runner import (
    IncrementalParallelRunner,
    IncrementalRunner,
    IncrementalThreadRunner,
)

__all__ = [
    "IncrementalParallelRunner",
    "IncrementalRunner",
    "IncrementalThreadRunner",
    "WaldoHooks",
    "hooks",
]
