"""Incremental runners: run only the nodes whose code, parameters or inputs changed.

Use ``kedro run --runner=waldo.kedro.IncrementalRunner`` (or ``waldo run``). Before
running, the runner asks the journal for each node's last successful run and compares
it with the node as it is now (see ``waldo.journal._staleness`` for every reason a
node runs). Nodes that are up to date are skipped and recorded as ``skipped`` with
their reason; everything else runs with the semantics of the underlying Kedro runner:

* ``IncrementalRunner`` - ``SequentialRunner``;
* ``IncrementalThreadRunner`` - ``ThreadRunner`` (``max_workers``);
* ``IncrementalParallelRunner`` - ``ParallelRunner`` (``max_workers``), fork or spawn.

Early cutoff: a node that is stale only because upstream nodes re-make some of its
persisted inputs is decided when those nodes are done, in the main process, before it
is scheduled: if every input they re-made came out identical to what it read last time,
it is skipped (``input d re-made, identical``). All three runners do this; the
schedule is otherwise Kedro's (a node starts once the nodes it depends on are done).

All accept ``is_async``. Without an active Waldo recording (the plugin disabled)
nothing is skipped and a warning says so.
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import chain
from typing import Any

from kedro.pipeline import Pipeline
from kedro.runner import ParallelRunner, SequentialRunner, ThreadRunner
from kedro.runner.task import Task

from waldo.journal import Decision, Recorder
from waldo.kedro._entries import entries_now
from waldo.kedro._incremental import Gate, plan
from waldo.kedro._run_catalog import prepared

log = logging.getLogger("waldo")
if log.level == logging.NOTSET:
    # Kedro's logging setup shows INFO for its own loggers only; the plan of an
    # incremental run ("N of M nodes to run", and why) is the point of using it.
    log.setLevel(logging.INFO)


class _Incremental:
    """Mixed into a Kedro runner: skip the up-to-date nodes, decide the waiting ones
    as their inputs are made."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gate: Gate | None = None
        # While a run goes: record a waiting node that is skipped; log one that runs.
        self._skip: Any = None
        self._decided: Any = None

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
        run_catalog = prepared(catalog)
        the_plan = plan(
            pipeline,
            catalog,
            history,
            project,
            fingerprints,
            branch=run_catalog.branch if run_catalog is not None else None,
            entries=entries_now(catalog, fingerprints.project_path),
        )
        decisions = the_plan.decisions
        to_run = [d.node for d in decisions if d.run]
        waiting = the_plan.waiting
        later = f" ({waiting} of them only if their re-made inputs change)" if waiting else ""
        log.info("waldo: %d of %d nodes to run%s", len(to_run), len(decisions), later)
        for decision in decisions:
            if decision.run:
                log.info("waldo: run %s: %s", decision.node, decision.summary)
            else:
                _skipped(recorder, current_run, decision)
        hooks.note_plan(decisions)
        self._gate = Gate(decisions, the_plan.datasets)

        def skip(decision: Decision) -> None:
            _skipped(recorder, current_run, decision)

        def decided(decision: Decision) -> None:
            log.info("waldo: run %s: %s", decision.node, decision.summary)
            hooks.note_plan(decisions)  # the node run records this reason

        self._skip, self._decided = skip, decided
        filtered = pipeline.filter(node_names=to_run) if to_run else Pipeline([])
        try:
            return super().run(  # type: ignore[misc,no-any-return]
                filtered, catalog, hook_manager, run_id, only_missing_outputs
            )
        finally:
            self._gate = None

    def _run(
        self,
        pipeline: Pipeline,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
    ) -> None:
        gate = self._gate
        if gate is None or not gate.waiting:
            super()._run(pipeline, catalog, hook_manager, run_id)  # type: ignore[misc]
            return
        runner: Any = self
        runner._validate_catalog(catalog)
        runner._validate_nodes(pipeline.nodes)
        runner._set_manager_datasets(catalog)
        pool = runner._get_executor(runner._get_required_workers_count(pipeline))
        if pool is None:
            self._run_in_order(pipeline, catalog, hook_manager, run_id, gate)
        else:
            with pool as executor:
                self._run_in_pool(pipeline, catalog, hook_manager, run_id, gate, executor)

    def _starts(self, gate: Gate, node: Any) -> bool:
        """Whether ``node`` runs now that its upstream nodes are done."""
        decision = gate.decide(node.name)
        if decision is None:
            return True
        if decision.run:
            self._decided(decision)
        else:
            self._skip(decision)
        return decision.run

    def _task(self, node: Any, catalog: Any, hook_manager: Any, run_id: str | None) -> Task:
        runner: Any = self
        return Task(
            node=node,
            catalog=catalog,
            hook_manager=hook_manager,
            is_async=runner._is_async,
            run_id=run_id,
        )

    def _run_in_order(
        self, pipeline: Pipeline, catalog: Any, hook_manager: Any, run_id: str | None, gate: Gate
    ) -> None:
        runner: Any = self
        load_counts = Counter(chain.from_iterable(n.inputs for n in pipeline.nodes))
        done: list[Any] = []
        for node in pipeline.nodes:
            if self._starts(gate, node):
                try:
                    self._task(node, catalog, hook_manager, run_id).execute()
                except Exception:
                    runner._suggest_resume_scenario(pipeline, done, catalog)
                    raise
                done.append(node)
                gate.ran(node.name)
            runner._release_datasets(node, catalog, load_counts, pipeline)

    def _run_in_pool(
        self,
        pipeline: Pipeline,
        catalog: Any,
        hook_manager: Any,
        run_id: str | None,
        gate: Gate,
        executor: Any,
    ) -> None:
        runner: Any = self
        in_processes = isinstance(executor, ProcessPoolExecutor)
        load_counts = Counter(chain.from_iterable(n.inputs for n in pipeline.nodes))
        needs = pipeline.node_dependencies
        todo = set(needs)
        finished: set[Any] = set()
        ran: list[Any] = []
        futures: set[Future[Any]] = set()
        while todo or futures:
            ready = {n for n in todo if needs[n] <= finished}
            todo -= ready
            for node in ready:
                if not self._starts(gate, node):  # skipped: its dependants may be ready
                    finished.add(node)
                    runner._release_datasets(node, catalog, load_counts, pipeline)
                    continue
                task = self._task(node, catalog, None if in_processes else hook_manager, run_id)
                task.parallel = in_processes
                futures.add(executor.submit(task))
            if ready and not futures:
                continue
            if not futures:
                raise RuntimeError(f"cannot schedule nodes {sorted(n.name for n in todo)}")
            done, futures = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    node = future.result()
                except Exception:
                    runner._suggest_resume_scenario(pipeline, ran, catalog)
                    raise
                finished.add(node)
                ran.append(node)
                gate.ran(node.name)
                runner._release_datasets(node, catalog, load_counts, pipeline)


def _skipped(recorder: Recorder, run_id: str, decision: Decision) -> None:
    """Log and record a node that is skipped, with its reason."""
    reason = decision.summary if decision.reasons else None
    if reason is None:
        reason = f"up to date (same code, parameters and inputs as run {decision.last_run_id})"
    log.info("waldo: skip %s: %s", decision.node, reason)
    record = decision.record
    recorder.node_skipped(
        run_id,
        decision.node,
        reason,
        code_hash=record.code_hash if record else None,
        params_hashes=record.params_hashes if record else None,
        input_versions=record.input_versions if record else None,
        output_versions=record.output_versions if record else None,
    )


class IncrementalRunner(_Incremental, SequentialRunner):
    """``SequentialRunner`` that runs only stale nodes (and what they invalidate)."""


class IncrementalThreadRunner(_Incremental, ThreadRunner):
    """``ThreadRunner`` that runs only stale nodes."""


class IncrementalParallelRunner(_Incremental, ParallelRunner):
    """``ParallelRunner`` that runs only stale nodes."""
