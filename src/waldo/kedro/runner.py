"""Incremental runners: run only the nodes whose code, parameters or inputs changed.

Use ``kedro run --runner=waldo.kedro.IncrementalRunner`` (or ``kedro waldo run``).
Before running, the runner asks the journal for each node's last successful run and
compares it with the node as it is now (see ``waldo.journal._staleness`` for every
reason a node runs). Nodes that are up to date are skipped and recorded as
``skipped`` with their reason; everything else runs with the semantics of the
underlying Kedro runner:

* ``IncrementalRunner`` - ``SequentialRunner``;
* ``IncrementalThreadRunner`` - ``ThreadRunner`` (``max_workers``);
* ``IncrementalParallelRunner`` - ``ParallelRunner`` (``max_workers``), fork or spawn.

All accept ``is_async``. The plan is made once, in the main process, before any
node runs. Without an active Waldo recording (the plugin disabled) nothing is
skipped and a warning says so.
"""

from __future__ import annotations

import logging
from typing import Any

from kedro.pipeline import Pipeline
from kedro.runner import ParallelRunner, SequentialRunner, ThreadRunner

from waldo.kedro._incremental import plan

log = logging.getLogger("waldo")
if log.level == logging.NOTSET:
    # Kedro's logging setup shows INFO for its own loggers only; the plan of an
    # incremental run ("N of M nodes to run", and why) is the point of using it.
    log.setLevel(logging.INFO)


class _Incremental:
    """Mixed into a Kedro runner: filter the pipeline down to the stale nodes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from waldo.kedro.hooks import hooks

        # Built before the session starts: the plan will read the journal in this
        # process, so the recording connects here too while Kedro builds the catalog.
        hooks.expect_journal_reads()

    def run(
        self,
        pipeline: Pipeline,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
    ) -> dict[str, Any]:
        from waldo.kedro.hooks import hooks

        context = hooks.incremental_context()
        if context is None:
            log.warning("waldo: not recording this run, so nothing is skipped: running all nodes")
            return super().run(  # type: ignore[misc,no-any-return]
                pipeline, catalog, hook_manager, run_id, only_missing_outputs
            )
        recorder, history, project, fingerprints, current_run = context
        decisions = plan(pipeline, catalog, history, project, fingerprints)
        to_run = [d.node for d in decisions if d.run]
        log.info("waldo: %d of %d nodes to run", len(to_run), len(decisions))
        for decision in decisions:
            if decision.run:
                log.info("waldo: run %s: %s", decision.node, decision.summary)
            else:
                reason = (
                    f"up to date (same code, parameters and inputs as run {decision.last_run_id})"
                )
                log.info("waldo: skip %s: %s", decision.node, reason)
                record = decision.record
                recorder.node_skipped(
                    current_run,
                    decision.node,
                    reason,
                    code_hash=record.code_hash if record else None,
                    params_hashes=record.params_hashes if record else None,
                    input_versions=record.input_versions if record else None,
                    output_versions=record.output_versions if record else None,
                )
        hooks.note_plan(decisions)
        filtered = pipeline.filter(node_names=to_run) if to_run else Pipeline([])
        return super().run(  # type: ignore[misc,no-any-return]
            filtered, catalog, hook_manager, run_id, only_missing_outputs
        )


class IncrementalRunner(_Incremental, SequentialRunner):
    """``SequentialRunner`` that runs only stale nodes (and what they invalidate)."""


class IncrementalThreadRunner(_Incremental, ThreadRunner):
    """``ThreadRunner`` that runs only stale nodes."""


class IncrementalParallelRunner(_Incremental, ParallelRunner):
    """``ParallelRunner`` that runs only stale nodes."""
