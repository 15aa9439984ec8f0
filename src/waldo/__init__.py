"""Waldo: the flight recorder and change detector for data pipelines.

The public surface is small: the error tree (catch :class:`WaldoError` to handle every
error Waldo raises on purpose), the journal to read runs back, and the recorder API
integrations use. Everything else lives in private modules.

>>> from waldo import Journal, resolve_settings
>>> journal = Journal(resolve_settings("path/to/kedro/project"))  # doctest: +SKIP
>>> [run.status for run in journal.history.runs(limit=5)]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from waldo._errors import (
    ApiAuthError,
    ApiError,
    CollectorError,
    ConfigError,
    ContextNotFound,
    ExecutionNotFound,
    ExecutionStateError,
    InvalidId,
    InvalidInput,
    MigrationError,
    PluginError,
    RunNotFound,
    SpoolError,
    StepNotFound,
    StoreError,
    StoreUnavailable,
    WaldoError,
)
from waldo._version import __version__


def _plain_text(record: logging.LogRecord) -> bool:
    # Kedro logs through Rich, which reads "[...]" in a message as markup and drops it:
    # `pip install 'waldo[postgres]'` would be shown as `pip install 'waldo'`.
    record.markup = False
    return True


logging.getLogger("waldo").addFilter(_plain_text)

if TYPE_CHECKING:
    from waldo.journal import (
        History,
        Journal,
        Recorder,
        RecordingError,
        ResultContext,
        Results,
        RunDetail,
        RunInfo,
        RunSummary,
        Settings,
        get_recorder,
        resolve_settings,
    )
else:
    from waldo._lazy import attach, members

    # The journal's names are imported on first use: a process that only needs the
    # store or the DPO commands does not pay for the whole journal.
    __getattr__, __dir__ = attach(
        __name__,
        members(
            "waldo.journal",
            (
                "History",
                "Journal",
                "Recorder",
                "RecordingError",
                "ResultContext",
                "Results",
                "RunDetail",
                "RunInfo",
                "RunSummary",
                "Settings",
                "get_recorder",
                "resolve_settings",
            ),
        ),
    )


__all__ = [
    "ApiAuthError",
    "ApiError",
    "CollectorError",
    "ConfigError",
    "ContextNotFound",
    "ExecutionNotFound",
    "ExecutionStateError",
    "History",
    "InvalidId",
    "InvalidInput",
    "Journal",
    "MigrationError",
    "PluginError",
    "Recorder",
    "RecordingError",
    "ResultContext",
    "Results",
    "RunDetail",
    "RunInfo",
    "RunNotFound",
    "RunSummary",
    "Settings",
    "SpoolError",
    "StepNotFound",
    "StoreError",
    "StoreUnavailable",
    "WaldoError",
    "__version__",
    "get_recorder",
    "resolve_settings",
]
