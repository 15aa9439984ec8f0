"""``waldo export openlineage``: the journal's runs as OpenLineage RunEvents.

Each run gives its pipeline's START, a START and an end event per node that ran (with
the parent run facet), and the pipeline's end event, all timed as recorded. A run still
going gives its START events only; skipped nodes did not run and give none.
"""

from __future__ import annotations

from datetime import datetime

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import RunEvent, RunState

from waldo.journal import History
from waldo.lineage._events import END_STATES, node_job, pipeline_job
from waldo.lineage._quality import add_quality_facets


def run_events(history: History, run_id: str, namespace: str | None = None) -> list[RunEvent]:
    """The OpenLineage events of one recorded run, in time order."""
    detail = history.run_detail(run_id)
    summary = detail.summary
    checks = history.checks(summary.run_id)
    spec = {n.name: n for n in history.pipeline_nodes(detail)}
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
        inputs=[name for name in reads if name not in writes],
        outputs=list(writes),
    )
    events = [pipeline.event(RunState.START, summary.started_at)]
    for node in ran:
        known = spec.get(node.node_name)
        job = node_job(
            pipeline,
            summary.run_id,
            node.node_name,
            known.inputs if known else list(node.inputs),
            known.outputs if known else list(node.outputs),
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
        error = (
            (f"{detail.error_type or 'error'}: {detail.error_message}", detail.traceback)
            if summary.status != "success" and detail.error_message
            else None
        )
        event = pipeline.event(end, summary.finished_at, error)
        events.append(add_quality_facets(event, [c for c in checks if c.node_name is None]))
    return events


def export_openlineage(
    history: History,
    client: OpenLineageClient,
    since: datetime | None = None,
    until: datetime | None = None,
    namespace: str | None = None,
) -> tuple[int, int]:
    """Emit the events of every run started in [since, until); (runs, events) sent."""
    runs = events = 0
    for run_id in history.run_ids_between(since, until):
        for event in run_events(history, run_id, namespace):
            client.emit(event)
            events += 1
        runs += 1
    client.close(timeout=30.0)
    return runs, events
