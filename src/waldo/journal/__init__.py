"""The journal: Waldo's domain API over the store.

Integrations (the Kedro plugin, the command line, later the DPO commands and
collectors) record runs through :class:`Recorder` and read them back through
:class:`History`; :class:`Journal` bundles both for one configured project.
"""

from __future__ import annotations

from waldo.journal._history import History
from waldo.journal._journal import Journal
from waldo.journal._jsonsafe import json_safe
from waldo.journal._model import RUN_STATUSES, NodeRun, RunDetail, RunInfo, RunSummary
from waldo.journal._recorder import Recorder, RecordingError, get_recorder, node_run_id
from waldo.journal._secrets import mask_secrets
from waldo.journal._settings import Settings, find_project_root, resolve_settings

__all__ = [
    "RUN_STATUSES",
    "History",
    "Journal",
    "NodeRun",
    "Recorder",
    "RecordingError",
    "RunDetail",
    "RunInfo",
    "RunSummary",
    "Settings",
    "find_project_root",
    "get_recorder",
    "json_safe",
    "mask_secrets",
    "node_run_id",
    "resolve_settings",
]
