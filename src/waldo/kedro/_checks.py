"""Data checks in a Kedro run: Great Expectations on what nodes save (``checks:``).

:func:`start_checks` reads ``checks:`` when a run starts and keeps the checks of the
datasets this run's pipeline has; only then is Great Expectations imported. A forked
ParallelRunner worker inherits the run's checks; a spawned one starts them again for the
datasets the run context names. A run without checks never imports it.

:class:`RunChecks` checks each dataset right after a node saved it
(:meth:`RunChecks.after_save`) and, for ``when: pipeline_end``, once the pipeline ran
(:meth:`RunChecks.at_pipeline_end`), and records one result per expectation.

``on_failure: warn`` logs each failed check in one line and the run goes on. With
``fail``, a failed check (or one that cannot run) is returned as :class:`ChecksFailed`
for the hook to raise: the node fails and the run stops.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from waldo._errors import ConfigError, WaldoError
from waldo.journal import CheckResult, Recorder
from waldo.kedro._checks_config import (
    ChecksConfig,
    CheckSpec,
    Expectation,
    ParameterSource,
    default_on_failure,
    parse_checks,
)
from waldo.kedro._datasets import is_parameter

if TYPE_CHECKING:
    from waldo.kedro._gx import GxRunner, Prepared, Verdict

log = logging.getLogger("waldo")


class ChecksFailed(WaldoError):
    """A data check with ``on_failure: fail`` failed or could not run."""


@dataclass
class DatasetChecks:
    """What to check on one dataset at one moment (after its save, or at the end)."""

    dataset: str
    when: str
    prepared: Prepared
    parameters: Mapping[str, ParameterSource]


class RunChecks:
    """The checks of one run, bound to its recorder and catalog."""

    def __init__(
        self,
        runner: GxRunner,
        recorder: Recorder,
        run_id: str,
        catalog: Any,
        plans: list[DatasetChecks],
        lineage: Any = None,
    ) -> None:
        self._runner = runner
        self._lineage = lineage  # a waldo.lineage.LiveLineage when the run emits events
        self._recorder = recorder
        self._run_id = run_id
        self._catalog = catalog
        self._after_save = {p.dataset: p for p in plans if p.when == "after_save"}
        self._at_end = {p.dataset: p for p in plans if p.when == "pipeline_end"}
        self._counted = {
            source.name
            for plan in plans
            for source in plan.parameters.values()
            if source.kind == "rows_of"
        }
        self._rows: dict[str, int] = {}  # row counts of datasets a parameter counts
        self._kept: dict[str, Any] = {}  # values saved in this run, for pipeline_end
        self._lock = threading.Lock()

    def after_save(
        self, node_name: str, dataset: str, data: Any, version: str | None = None
    ) -> ChecksFailed | None:
        """Check what a node just saved; the failure to raise in ``fail`` mode."""
        if dataset in self._counted:
            with contextlib.suppress(TypeError), self._lock:  # no len(): loaded when needed
                self._rows[dataset] = len(data)
        if dataset in self._at_end:
            with self._lock:
                self._kept[dataset] = data
        plan = self._after_save.get(dataset)
        if plan is None:
            return None
        return self._check(plan, data, node_name, version)

    def at_pipeline_end(self) -> ChecksFailed | None:
        """The ``when: pipeline_end`` checks, once the pipeline ran (its values as
        saved in this process, else loaded from the catalog)."""
        failures = []
        for dataset, plan in self._at_end.items():
            try:
                data = self._kept[dataset] if dataset in self._kept else self._load(dataset)
            except Exception as exc:
                data = _Unloadable(f"cannot load {dataset}: {_one_line(exc)}")
            failure = self._check(plan, data, None, None)
            if failure is not None:
                failures.append(str(failure))
        self._kept = {}
        return ChecksFailed("; ".join(failures)) if failures else None

    def _check(
        self, plan: DatasetChecks, data: Any, node: str | None, version: str | None
    ) -> ChecksFailed | None:
        started = time.perf_counter()
        if isinstance(data, _Unloadable):
            verdicts = [_error_verdict(e, data.reason) for e in plan.prepared.expectations]
        else:
            values, problems = self._parameter_values(plan.parameters)
            verdicts = self._runner.validate(data, plan.prepared, values)
            verdicts = [_explained(v, problems) for v in verdicts]
        duration = time.perf_counter() - started
        now = time.time()
        results = [
            _result(self._run_id, node, plan.dataset, version, v, duration, now) for v in verdicts
        ]
        self._recorder.record_checks(results)
        if self._lineage is not None:
            self._lineage.checks_done(node, results)
        return _report(results)

    def _parameter_values(
        self, sources: Mapping[str, ParameterSource]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The suite parameters' values, and why any could not be had."""
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for name, source in sources.items():
            try:
                values[name] = self._parameter_value(source)
            except Exception as exc:
                problems[name] = f"suite parameter {name}: {_one_line(exc)}"
        return values, problems

    def _parameter_value(self, source: ParameterSource) -> Any:
        if source.kind == "param":
            return self._load(f"params:{source.name}")
        with self._lock:
            counted = self._rows.get(source.name)
        return counted if counted is not None else len(self._load(source.name))

    def _load(self, dataset: str) -> Any:
        return self._catalog.load(dataset)


class _Unloadable:
    """A value a pipeline_end check could not load, and why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _error_verdict(expectation: Expectation, reason: str) -> Verdict:
    from waldo.kedro._gx import Verdict

    return Verdict(expectation, False, error=reason)


def _explained(verdict: Verdict, problems: Mapping[str, str]) -> Verdict:
    """A verdict missing a parameter says why that parameter has no value."""
    if verdict.error is None or not problems:
        return verdict
    for name in sorted(verdict.expectation.parameters()):
        if name in problems:
            verdict.error = problems[name]
            break
    return verdict


def _result(
    run_id: str,
    node: str | None,
    dataset: str,
    version: str | None,
    verdict: Verdict,
    duration: float,
    checked_at: float,
) -> CheckResult:
    expectation = verdict.expectation
    return CheckResult(
        run_id=run_id,
        node_name=node,
        dataset_name=dataset,
        expectation=expectation.type,
        kwargs=dict(expectation.kwargs),
        success=verdict.success,
        dataset_version=version,
        observed_value=verdict.observed_value,
        unexpected_count=verdict.unexpected_count,
        unexpected_values=verdict.unexpected_values,
        error=verdict.error,
        suite=expectation.suite,
        on_failure=expectation.on_failure,
        duration_s=duration,
        checked_at=checked_at,
    )


def _report(results: list[CheckResult]) -> ChecksFailed | None:
    """Log every check that did not pass; the failure of those that stop the run."""
    stopping = []
    for result in results:
        if result.outcome == "passed":
            continue
        where = result.dataset_name + (f" (node {result.node_name})" if result.node_name else "")
        line = f"check {result.outcome} on {where}: {result.label}: {result.observed_text()}"
        if result.on_failure == "fail":
            stopping.append(line)
        else:
            log.warning("waldo: %s", line)
    if not stopping:
        return None
    more = f" (and {len(stopping) - 1} more)" if len(stopping) > 1 else ""
    return ChecksFailed(f"data {stopping[0]}{more}; on_failure: fail stops the run")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _plans(config: ChecksConfig, datasets: Sequence[str]) -> list[DatasetChecks]:
    """The checks of each dataset of the pipeline, one plan per moment."""
    from waldo.kedro._gx import GxRunner

    plans = []
    for dataset in datasets:
        specs = config.for_dataset(dataset)
        for when in ("after_save", "pipeline_end"):
            chosen = [spec for spec in specs if spec.when == when]
            if chosen:
                plans.append(_plan(dataset, when, chosen, GxRunner.prepare))
    return plans


def _plan(dataset: str, when: str, specs: list[CheckSpec], prepare: Any) -> DatasetChecks:
    expectations = [e for spec in specs for e in spec.expectations]
    parameters: dict[str, ParameterSource] = {}
    for spec in specs:
        parameters.update(spec.parameters)
    return DatasetChecks(dataset, when, prepare(expectations), parameters)


def pipeline_datasets(pipeline: Any) -> list[str]:
    """The datasets of a pipeline, parameters left out, in a stable order."""
    return sorted(name for name in pipeline.datasets() if not is_parameter(name))


def start_checks(
    recorder: Recorder, run_id: str, datasets: Sequence[str], catalog: Any, lineage: Any = None
) -> RunChecks | None:
    """The checks of this run, or None when none of its ``datasets`` has any.

    Checks that cannot be set up (a mistake in ``checks:``, Great Expectations not
    installed) are one warning in ``warn`` mode, and the run goes on unchecked; with
    ``on_failure: fail`` the run is recorded as failed and :class:`ChecksFailed` raised.
    ``lineage``: the run's live OpenLineage events, which then carry the results.
    """
    settings = recorder.settings
    if not settings.extra.get("checks"):
        return None
    try:
        config = parse_checks(settings.extra, settings.project_path)
        if config is None or not any(config.for_dataset(d) for d in datasets):
            return None
        from waldo.kedro._gx import GxRunner  # imports Great Expectations

        plans = _plans(config, datasets)
        return RunChecks(GxRunner(), recorder, run_id, catalog, plans, lineage)
    except ConfigError as exc:
        if default_on_failure(settings.extra) == "warn":
            log.warning("waldo: no data checks in this run: %s", exc)
            return None
        failure = ChecksFailed(f"data checks cannot run: {exc}")
        recorder.end_run(run_id, "failed", failure)
        recorder.flush()
        raise failure from exc
