"""The journal: Waldo's domain API over the store.

Integrations (the Kedro plugin, the command line, later the DPO commands and
collectors) record runs through :class:`Recorder` and read them back through
:class:`History`; :class:`Journal` bundles both for one configured project.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from waldo.journal._checks import (
        CheckChange,
        CheckResult,
        check_changes,
        failed_check_counts,
        run_checks,
    )
    from waldo.journal._collect import CollectorJournal, RawRow, StateKey, raw_params
    from waldo.journal._diff import NodeDiff, RunDiff, flat_params
    from waldo.journal._executions import (
        NO_EXECUTION,
        Executions,
        ModelChanges,
        ModelNaming,
        Step,
        is_no_execution,
    )
    from waldo.journal._history import History
    from waldo.journal._journal import Journal
    from waldo.journal._jsonsafe import json_safe
    from waldo.journal._model import (
        RUN_STATUSES,
        DatasetPoint,
        NodePoint,
        NodeRun,
        PipelineNode,
        RunDetail,
        RunFilter,
        RunInfo,
        RunPage,
        RunSummary,
        stats_nulls,
        stats_rows,
    )
    from waldo.journal._node_record import DatasetAccess, ErrorFields, NodeRecord
    from waldo.journal._recorder import Recorder, RecordingError, get_recorder
    from waldo.journal._results import Comparison, ResultContext, Results, spearman
    from waldo.journal._secrets import mask_params, mask_secrets
    from waldo.journal._settings import (
        Settings,
        find_project_root,
        needs_credentials,
        project_root,
        resolve_settings,
    )
    from waldo.journal._staleness import MISSING, Decision, LastRun, NodeSpec, decide
else:
    from waldo._lazy import attach, members

    __getattr__, __dir__ = attach(
        __name__,
        {
            **members(
                "waldo.journal._checks",
                (
                    "CheckChange",
                    "CheckResult",
                    "check_changes",
                    "failed_check_counts",
                    "run_checks",
                ),
            ),
            **members(
                "waldo.journal._collect", ("CollectorJournal", "RawRow", "StateKey", "raw_params")
            ),
            **members("waldo.journal._diff", ("NodeDiff", "RunDiff", "flat_params")),
            **members(
                "waldo.journal._executions",
                (
                    "NO_EXECUTION",
                    "Executions",
                    "ModelChanges",
                    "ModelNaming",
                    "Step",
                    "is_no_execution",
                ),
            ),
            **members("waldo.journal._history", ("History",)),
            **members("waldo.journal._journal", ("Journal",)),
            **members("waldo.journal._jsonsafe", ("json_safe",)),
            **members(
                "waldo.journal._model",
                (
                    "RUN_STATUSES",
                    "DatasetPoint",
                    "NodePoint",
                    "NodeRun",
                    "PipelineNode",
                    "RunDetail",
                    "RunFilter",
                    "RunInfo",
                    "RunPage",
                    "RunSummary",
                    "stats_nulls",
                    "stats_rows",
                ),
            ),
            **members("waldo.journal._node_record", ("DatasetAccess", "ErrorFields", "NodeRecord")),
            **members("waldo.journal._recorder", ("Recorder", "RecordingError", "get_recorder")),
            **members(
                "waldo.journal._results", ("Comparison", "ResultContext", "Results", "spearman")
            ),
            **members("waldo.journal._secrets", ("mask_params", "mask_secrets")),
            **members(
                "waldo.journal._settings",
                (
                    "Settings",
                    "find_project_root",
                    "needs_credentials",
                    "project_root",
                    "resolve_settings",
                ),
            ),
            **members(
                "waldo.journal._staleness", ("MISSING", "Decision", "LastRun", "NodeSpec", "decide")
            ),
        },
    )

__all__ = [
    "MISSING",
    "NO_EXECUTION",
    "RUN_STATUSES",
    "CheckChange",
    "CheckResult",
    "CollectorJournal",
    "Comparison",
    "DatasetAccess",
    "DatasetPoint",
    "Decision",
    "ErrorFields",
    "Executions",
    "History",
    "Journal",
    "LastRun",
    "ModelChanges",
    "ModelNaming",
    "NodeDiff",
    "NodePoint",
    "NodeRecord",
    "NodeRun",
    "NodeSpec",
    "PipelineNode",
    "RawRow",
    "Recorder",
    "RecordingError",
    "ResultContext",
    "Results",
    "RunDetail",
    "RunDiff",
    "RunFilter",
    "RunInfo",
    "RunPage",
    "RunSummary",
    "Settings",
    "StateKey",
    "Step",
    "check_changes",
    "decide",
    "failed_check_counts",
    "find_project_root",
    "flat_params",
    "get_recorder",
    "is_no_execution",
    "json_safe",
    "mask_params",
    "mask_secrets",
    "needs_credentials",
    "project_root",
    "raw_params",
    "resolve_settings",
    "run_checks",
    "spearman",
    "stats_nulls",
    "stats_rows",
]
