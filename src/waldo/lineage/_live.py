"""Emitting OpenLineage events while a Kedro run goes (``lineage:`` in ``waldo.yml``)::

    lineage:
      transport: http                 # or file, console
      url: http://marquez:5000        # http: the server (endpoint api/v1/lineage)
      credentials: openlineage        # optional: `api_key` from credentials.yml
      path: logs/lineage.jsonl        # file: one event a line, relative to the project
      namespace: my-team              # default: the project's name

Events are handed to one background thread, so a slow or dead lineage server never
slows the pipeline, and a failing emitter logs one warning and never fails the run
(strict mode or not): lineage is a copy of what the journal already holds, and
``waldo export openlineage`` can send it again later. After the first failure the rest
of the run's events are dropped, so a dead server costs one timeout, not one per event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime
from pathlib import Path
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import RunEvent, RunState

from waldo.journal import CheckResult
from waldo.lineage._client import client_from_config
from waldo.lineage._events import END_STATES, Dataset, JobRun, node_job, pipeline_job
from waldo.lineage._export import RunDatasets
from waldo.lineage._quality import add_quality_facets

log = logging.getLogger("waldo")


class LiveLineage:
    """The OpenLineage events of the run in progress, sent in the background."""

    def __init__(self, client: OpenLineageClient, namespace: str | None = None) -> None:
        self.client = client
        self.namespace = namespace
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="waldo-lineage")
        self._pending: list[Any] = []
        self._warned = False
        self._run_id: str | None = None
        self._pipeline: JobRun | None = None
        self._nodes: dict[str, JobRun] = {}
        self._checks: dict[str | None, list[CheckResult]] = {}  # by node; None: the run's
        self._datasets = RunDatasets(catalog={}, versions=[])  # the run's catalog entries

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], project_path: Path, credentials: Mapping[str, Any]
    ) -> LiveLineage:
        client = client_from_config(config, project_path, credentials)
        namespace = config.get("namespace")
        return cls(client, str(namespace) if namespace else None)

    def _send(self, event: RunEvent) -> None:
        self._pending.append(self._pool.submit(self._emit, event))

    def _emit(self, event: RunEvent) -> None:
        if self._warned:
            return  # the emitter already failed in this run: do not wait again
        try:
            self.client.emit(event)
        except Exception as exc:  # lineage must never fail the run
            self._warned = True
            log.warning(
                "waldo: could not emit OpenLineage events (the rest of this run's are "
                "dropped; `waldo export openlineage` can send them later): %s",
                exc,
            )

    # -- what the hooks report --------------------------------------------------------
    def run_started(
        self,
        run_id: str,
        project: str | None,
        pipelines: Iterable[str],
        inputs: Iterable[str],
        outputs: Iterable[str],
        when: float | datetime | None = None,
        entries: Mapping[str, Mapping[str, Any]] | None = None,
        project_path: Path | None = None,
    ) -> None:
        """``entries``: the catalog entry of each dataset (``filepath``, ``table_name``...),
        so that datasets are named by where their data lives, as ``waldo export
        openlineage`` names them."""
        self._run_id = run_id
        self._nodes = {}
        self._checks = {}
        self._warned = False
        self._datasets = RunDatasets({k: dict(v) for k, v in (entries or {}).items()}, [])
        self._pipeline = pipeline_job(
            self.namespace or project or "waldo",
            project,
            pipelines,
            run_id,
            self._located(inputs),
            self._located(outputs),
            str(project_path) if project_path is not None else None,
        )
        self._send(self._pipeline.event(RunState.START, when))

    def _located(self, names: Iterable[str]) -> list[Dataset]:
        """Datasets with a known catalog entry as where they live; others by name."""
        return [
            self._datasets.info(name) if name in self._datasets.catalog else name for name in names
        ]

    def node_started(
        self,
        node: str,
        inputs: Iterable[str],
        outputs: Iterable[str],
        when: float | datetime | None = None,
    ) -> None:
        if self._pipeline is None or self._run_id is None:
            return
        job = node_job(
            self._pipeline, self._run_id, node, self._located(inputs), self._located(outputs)
        )
        self._nodes[node] = job
        self._send(job.event(RunState.START, when))

    def checks_done(self, node: str | None, results: Sequence[CheckResult]) -> None:
        """Data check results, sent as ``dataQualityAssertions`` with the node's end
        event (``node`` None: with the run's)."""
        self._checks.setdefault(node, []).extend(results)

    def node_finished(
        self,
        node: str,
        status: str,
        error: BaseException | Mapping[str, Any] | None = None,
        when: float | None = None,
    ) -> None:
        """A node ended; ``error`` is why it failed: the exception, or its journal
        columns, as the node record holds them."""
        job = self._nodes.pop(node, None)
        state = END_STATES.get(status)
        if job is None or state is None:
            return
        event = job.event(state, when, _error(error))
        self._send(add_quality_facets(event, self._checks.pop(node, [])))

    def run_finished(
        self, status: str, error: BaseException | None = None, timeout: float = 10.0
    ) -> None:
        """Send the run's end event and wait (at most ``timeout``) for all to be sent."""
        state = END_STATES.get(status)
        if self._pipeline is not None and state is not None:
            event = self._pipeline.event(state, None, _error(error))
            self._send(add_quality_facets(event, self._checks.pop(None, [])))
        self._pipeline = None
        pending, self._pending = self._pending, []
        wait(pending, timeout=timeout)


def _error(error: BaseException | Mapping[str, Any] | None) -> tuple[str, str | None] | None:
    if error is None:
        return None
    if not isinstance(error, BaseException):  # described already
        if not error:
            return None
        return f"{error.get('error_type')}: {error.get('error_message')}", error.get("traceback")
    import traceback

    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return f"{type(error).__name__}: {error}", text
