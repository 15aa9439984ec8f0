"""``waldo export openlineage``: the journal's runs as OpenLineage RunEvents.

Each run gives its pipeline's START, a START and an end event per node that ran (with
the parent run facet), and the pipeline's end event, all timed as recorded. A run still
going gives its START events only; skipped nodes did not run and give none. Datasets
are named and described from the run's catalog snapshot and the dataset versions the
journal recorded (``waldo.lineage._datasets``); each node's job carries where its
function is written (``waldo.lineage._source``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import RunEvent, RunState

from waldo._errors import WaldoError
from waldo.journal import History, RunDetail
from waldo.lineage._datasets import DatasetInfo
from waldo.lineage._events import END_STATES, node_job, pipeline_job
from waldo.lineage._quality import add_quality_facets
from waldo.lineage._source import source_code_location_facet


class LineageSendError(WaldoError):
    """The OpenLineage server is down or refused the events."""


@dataclass
class RunDatasets:
    """What one run recorded of its datasets: catalog entries and dataset versions."""

    catalog: dict[str, dict[str, Any]]
    versions: list[dict[str, Any]]

    def _entry(self, name: str) -> dict[str, Any]:
        return self.catalog.get(name, {})

    def info(self, name: str, version: Mapping[str, Any] | None = None) -> DatasetInfo:
        """A dataset as one recorded load or save saw it (or as the catalog says)."""
        entry = self._entry(name)
        location = (version or {}).get("path") or entry.get("filepath") or entry.get("path")
        stats = (version or {}).get("stats")
        if isinstance(stats, str):
            stats = json.loads(stats)
        return DatasetInfo(
            catalog_name=name,
            location=str(location) if location else None,
            table=entry if "table_name" in entry else None,
            version=(version or {}).get("version"),
            stats=stats if isinstance(stats, dict) else None,
        )

    def _find(self, name: str, operation: str, node: str | None, last: bool) -> Any:
        found = [
            v
            for v in self.versions
            if v.get("dataset_name") == name
            and v.get("operation") == operation
            and (node is None or v.get("node_name") == node)
        ]
        return (found[-1] if last else found[0]) if found else None

    def read(self, name: str, node: str | None = None) -> DatasetInfo:
        return self.info(name, self._find(name, "load", node, last=False))

    def written(self, name: str, node: str | None = None) -> DatasetInfo:
        return self.info(name, self._find(name, "save", node, last=True))


def run_events(history: History, run_id: str, namespace: str | None = None) -> list[RunEvent]:
    """The OpenLineage events of one recorded run, in time order."""
    detail = history.run_detail(run_id)
    summary = detail.summary
    checks = history.checks(summary.run_id)
    spec = {n.name: n for n in history.pipeline_nodes(detail)}
    datasets = RunDatasets(history.catalog(detail), history.dataset_versions(summary.run_id))
    ran = [n for n in detail.nodes if n.status != "skipped"]
    reads: dict[str, None] = {}
    writes: dict[str, None] = {}
    for node in ran:
        known = spec.get(node.node_name)
        reads.update(dict.fromkeys(known.inputs if known else node.inputs))
        writes.update(dict.fromkeys(known.outputs if known else node.outputs))
    pipeline = pipeline_job(
        namespace or detail.project or "waldo",
        detail.project,
        summary.pipeline_names,
        summary.run_id,
        inputs=[datasets.read(name) for name in reads if name not in writes],
        outputs=[datasets.written(name) for name in writes],
        project_path=detail.project_path,
    )
    events = [pipeline.event(RunState.START, summary.started_at)]
    for node in ran:
        known = spec.get(node.node_name)
        source = source_code_location_facet(
            node.func_name or (known.func if known else None),
            detail.project_path,
            summary.git_sha,
        )
        job = node_job(
            pipeline,
            summary.run_id,
            node.node_name,
            [datasets.read(n, node.node_name) for n in (known.inputs if known else node.inputs)],
            [
                datasets.written(n, node.node_name)
                for n in (known.outputs if known else node.outputs)
            ],
            job_facets={"sourceCodeLocation": source} if source is not None else None,
        )
        events.append(job.event(RunState.START, node.started_at))
        end = END_STATES.get(node.status)
        if end is not None:
            error = (
                (f"{node.error_type}: {node.error_message}", node.traceback)
                if node.status == "failed"
                else None
            )
            event = job.event(end, node.finished_at, error)
            events.append(
                add_quality_facets(event, [c for c in checks if c.node_name == node.node_name])
            )
    end = END_STATES.get(summary.status)
    if end is not None:
        event = pipeline.event(end, summary.finished_at, _run_error(detail))
        events.append(add_quality_facets(event, [c for c in checks if c.node_name is None]))
    return events


def _run_error(detail: RunDetail) -> tuple[str, str | None] | None:
    if detail.summary.status == "success" or not detail.error_message:
        return None
    return f"{detail.error_type or 'error'}: {detail.error_message}", detail.traceback


def export_openlineage(
    history: History,
    client: OpenLineageClient,
    since: datetime | None = None,
    until: datetime | None = None,
    namespace: str | None = None,
) -> tuple[int, int]:
    """Emit the events of every run started in [since, until); (runs, events) sent.

    A transport that fails (a server down, or answering an error after its retries)
    stops the export with a :class:`LineageSendError` saying how far it got.
    """
    runs = events = 0
    for run_id in history.run_ids_between(since, until):
        for event in run_events(history, run_id, namespace):
            try:
                client.emit(event)
            except Exception as exc:  # the transports raise their own and requests' errors
                raise LineageSendError(
                    f"Could not send OpenLineage events ({events} sent before): {_reason(exc)}"
                ) from exc
            events += 1
        runs += 1
    client.close(timeout=30.0)
    return runs, events


def _reason(exc: BaseException) -> str:
    """The first line of what went wrong, innermost cause first."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        inner = exc.__cause__ or exc.__context__
        assert inner is not None
        exc = inner
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
