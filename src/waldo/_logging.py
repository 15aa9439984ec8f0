"""Logging to stderr for Waldo's own command lines (``dpo``, ``waldo collect``, plugins).

``--log-level`` on those commands sets the level of the ``waldo`` logger and of one
stderr handler; calling again (a second command in one process, as tests do) reuses
that handler and points it at the current stderr.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import click

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def log_to_stderr(level: str) -> None:
    """Send the ``waldo`` logger's records at ``level`` and above to stderr."""
    logger = logging.getLogger("waldo")
    logger.setLevel(level.upper())
    # Only to stderr: a handler the host program put on the root logger (Kedro's writes
    # to stdout) would mix log lines into what the command prints for scripts.
    logger.propagate = False
    for each in logger.handlers:
        if getattr(each, "_waldo_stderr", False) and isinstance(each, logging.StreamHandler):
            each.setStream(sys.stderr)
            each.setLevel(level.upper())
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(level.upper())
    handler._waldo_stderr = True  # type: ignore[attr-defined]
    logger.addHandler(handler)


def log_level_option(default: str | None, help: str) -> Callable[[Any], Any]:
    """``-l/--log-level``, as ``dpo``, ``waldo collect`` and plugins spell it."""
    return click.option(
        "-l",
        "--log-level",
        type=click.Choice(LOG_LEVELS, case_sensitive=False),
        default=default,
        show_default=default is not None,
        help=help,
    )
