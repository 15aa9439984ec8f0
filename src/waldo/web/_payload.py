"""The data of a run page: the run, its pipeline's nodes with their states, its datasets.

The same payload feeds the served page (first paint, then every live update through
:func:`live_state`) and the static report (inlined), so both draw the same thing. The
page lays the graph out itself; the payload carries what each node reads and writes.
Fields a node does not have (no error, no rows) are left out to keep big runs small.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from waldo.journal import (
    CheckResult,
    DatasetPoint,
    History,
    NodePoint,
    NodeRun,
    PipelineNode,
    RunDetail,
    RunSummary,
    stats_nulls,
    stats_rows,
)
from waldo.web._git import commit_link
from waldo.web._traceback import first_line, frames

#: How the page names a node's state, from the journal's node status.
DISPLAY_STATUS = {
    "success": "complete",
    "failed": "error",
    "running": "running",
    "skipped": "skipped",
    "interrupted": "interrupted",
}
#: A save writing fewer than this share of the usual rows is marked as a drop.
DROP_SHARE = 0.5
#: Saves before this one needed to call a number of rows "usual".
USUAL_AFTER = 2
#: Points of node and dataset history a static report may embed in all.
REPORT_HISTORY_POINTS = 20_000
HISTORY_RUNS = 50


def epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}


def display_status(node: NodeRun | None, run_status: str) -> str:
    """queued / running / complete / error / skipped / interrupted, or "not run" for a
    node of a finished run that never started (a run that failed before it)."""
    if node is None:
        return "queued" if run_status == "running" else "not run"
    return DISPLAY_STATUS.get(node.status, node.status)


def rows_by_node(detail: RunDetail) -> dict[str, int]:
    """Rows each node saved in this run (outputs whose statistics count rows)."""
    totals: dict[str, int] = {}
    for saved in detail.datasets:
        rows = stats_rows(saved.get("stats"))
        if rows is not None and saved.get("node"):
            totals[saved["node"]] = totals.get(saved["node"], 0) + rows
    return totals


def node_state(node: NodeRun | None, run_status: str, rows: int | None = None) -> dict[str, Any]:
    """What the page shows of one node, and what a live update changes."""
    state: dict[str, Any] = {"status": display_status(node, run_status)}
    if node is None:
        return state
    state.update(
        started=epoch(node.started_at),
        finished=epoch(node.finished_at),
        duration=node.duration_s,
        rows=rows,
        reason=node.reason,
        error_type=node.error_type,
        error_message=node.error_message,
        traceback=node.traceback,
    )
    if node.traceback:
        state["frames"] = [f.to_json() for f in frames(node.traceback)]
    return _compact(state)


def run_duration(summary: RunSummary, last_seen: datetime | None) -> float | None:
    """The run's duration; an interrupted run's lasts until it was last seen alive."""
    if summary.status != "interrupted" or summary.started_at is None:
        return summary.duration_s
    ends = [t for t in (summary.finished_at, last_seen) if t is not None]
    return max((max(ends) - summary.started_at).total_seconds(), 0.0) if ends else None


def run_facts(detail: RunDetail, last_seen: datetime | None = None) -> dict[str, Any]:
    """The run's own facts (no node list): status, times, git, parameters, error."""
    data = detail.summary.to_json()  # not detail.to_json(): that lists every node
    data.update(
        runtime_params=detail.runtime_params,
        kedro_version=detail.kedro_version,
        waldo_version=detail.waldo_version,
        project=detail.project,
        project_path=detail.project_path,
        error_type=detail.error_type,
        error_message=detail.error_message,
        traceback=detail.traceback,
        pipeline_hash=detail.pipeline_hash,
        path_rewrites=detail.path_rewrites,
    )
    data["started"] = epoch(detail.summary.started_at)
    data["finished"] = epoch(detail.summary.finished_at)
    data["duration_s"] = run_duration(detail.summary, last_seen)
    if detail.summary.status == "interrupted" and last_seen is not None:
        data["last_seen"] = epoch(last_seen)
    if detail.traceback:
        data["frames"] = [f.to_json() for f in frames(detail.traceback)]
    return data


def check_items(results: list[CheckResult], detail: RunDetail) -> dict[str, list[dict[str, Any]]]:
    """Each node's data check results for the page; a check run at the pipeline's end
    goes with the node that wrote its dataset."""
    writers = {output: node.node_name for node in detail.nodes for output in node.outputs}
    items: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        node = result.node_name or writers.get(result.dataset_name)
        if node is None:
            continue
        items.setdefault(node, []).append(
            {
                "dataset": result.dataset_name,
                "expectation": result.label,
                "success": result.success,
                "outcome": result.outcome,
                "observed": result.observed_text(),
                "when": "after_save" if result.node_name else "pipeline_end",
            }
        )
    return items


def with_checks(state: dict[str, Any], checks: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A node's state with its data checks (``checks_failed``: how many did not pass)."""
    if not checks:
        return state
    return {**state, "checks": checks, "checks_failed": sum(not c["success"] for c in checks)}


def triage(detail: RunDetail) -> dict[str, Any] | None:
    """What a failed or interrupted run's header says first: where and why it stopped."""
    status = detail.summary.status
    if status == "failed":
        failed = [n for n in detail.nodes if n.status == "failed"]
        if failed:
            node = failed[0]
            return {
                "node": node.node_name,
                "error_type": node.error_type,
                "message": first_line(node.error_message),
            }
        return {"error_type": detail.error_type, "message": first_line(detail.error_message)}
    if status == "interrupted":
        going = [n.node_name for n in detail.nodes if n.status == "interrupted"]
        return {"running": going, "message": first_line(detail.error_message)}
    return None


def live_state(history: History, detail: RunDetail) -> dict[str, Any]:
    """The part of a run page that changes while the run goes (polled by the page)."""
    rows = rows_by_node(detail)
    status = detail.summary.status
    seen = last_seen_alive(history, detail.summary)
    checks = check_items(history.checks(detail.summary.run_id), detail)
    states = {
        n.node_name: with_checks(
            node_state(n, status, rows.get(n.node_name)), checks.get(n.node_name)
        )
        for n in detail.nodes
    }
    return {
        "run": run_facts(detail, seen),
        "triage": triage(detail),
        "states": states,
        "datasets": dataset_rows(history, detail, history_until(detail, seen)),
    }


def last_seen_alive(history: History, summary: RunSummary) -> datetime | None:
    """When an interrupted run was last seen alive (None for any other run)."""
    if summary.status != "interrupted":
        return None
    return history.last_activity(summary.run_id)


def history_until(detail: RunDetail, last_seen: datetime | None = None) -> datetime | None:
    """Where a run's charts stop: at its end, or when it was last seen alive (a running
    run's go on to now)."""
    if detail.summary.status == "running":
        return None
    ends = [t for t in (detail.summary.finished_at, last_seen) if t is not None]
    return max(ends) if ends else None


def pipeline_node(node: PipelineNode) -> dict[str, Any]:
    return _compact(
        {
            "name": node.name,
            "func": node.func,
            "namespace": node.namespace,
            "inputs": node.inputs,
            "outputs": node.outputs,
            "tags": node.tags,
        }
    )


def graph_nodes(history: History, detail: RunDetail) -> list[dict[str, Any]]:
    """The run's pipeline: each node with what it reads and writes and its namespace."""
    return [pipeline_node(n) for n in history.pipeline_nodes(detail)]


def usual_rows(previous: Iterable[int | None]) -> float | None:
    """The median rows of earlier saves, once there are enough of them."""
    counted = [r for r in previous if r is not None]
    return statistics.median(counted) if len(counted) >= USUAL_AFTER else None


def is_drop(rows: int | None, usual: float | None) -> bool:
    """A save writing less than half the usual rows."""
    return rows is not None and usual is not None and rows < DROP_SHARE * usual


def dataset_series(points: list[DatasetPoint]) -> list[dict[str, Any]]:
    """A dataset's saves for its chart, each marked when it dropped below half the
    median of the saves before it."""
    series = []
    for index, point in enumerate(points):
        usual = usual_rows(p.rows for p in points[max(0, index - HISTORY_RUNS) : index])
        series.append(
            _compact(
                {
                    "run_id": point.run_id,
                    "t": epoch(point.recorded_at),
                    "rows": point.rows,
                    "nulls": point.nulls,
                    "usual": usual,
                    "drop": is_drop(point.rows, usual) or None,
                }
            )
        )
    return series


def node_series(points: list[NodePoint]) -> list[dict[str, Any]]:
    """A node's runs for its charts: when, how long, what status, how many rows."""
    return [
        _compact(
            {
                "run_id": p.run_id,
                "t": epoch(p.started_at),
                "status": DISPLAY_STATUS.get(p.status, p.status),
                "duration": p.duration_s,
                "rows": p.rows,
            }
        )
        for p in points
    ]


def dataset_rows(
    history: History, detail: RunDetail, until: datetime | None
) -> list[dict[str, Any]]:
    """What the run saved, dataset by dataset, with the usual rows and a drop mark."""
    saved = detail.datasets
    run_id = detail.summary.run_id
    names = sorted({d["dataset"] for d in saved})
    past = history.dataset_history(detail.project, names, HISTORY_RUNS + 1, until)
    out = []
    for item in saved:
        stats = item.get("stats") or {}
        before = [p.rows for p in past.get(item["dataset"], []) if p.run_id != run_id]
        rows = stats_rows(stats)
        usual = usual_rows(before)
        out.append(
            _compact(
                {
                    "dataset": item["dataset"],
                    "node": item.get("node"),
                    "version": item.get("version"),
                    "stats": stats,
                    "rows": rows,
                    "nulls": stats_nulls(stats),
                    "usual": usual,
                    "drop": is_drop(rows, usual) or None,
                }
            )
        )
    return out


def run_payload(
    history: History, detail: RunDetail, *, repo_url: str | None = None
) -> dict[str, Any]:
    """Everything the run page draws: facts, triage, nodes with states, datasets."""
    live = live_state(history, detail)
    nodes = []
    for node in graph_nodes(history, detail):
        default = {"status": display_status(None, detail.summary.status)}
        nodes.append({**node, **live["states"].get(node["name"], default)})
    return {
        "page": "run",
        "run": live["run"],
        "triage": live["triage"],
        "nodes": nodes,
        "datasets": live["datasets"],
        "commit_url": commit_link(detail.project_path, repo_url),
        "previous": history.previous_run_id(detail),
    }


def report_histories(history: History, detail: RunDetail) -> dict[str, Any]:
    """Node and dataset histories for a static report, as many runs back as fit in
    :data:`REPORT_HISTORY_POINTS` (the served page asks for them when shown)."""
    names = [n.node_name for n in detail.nodes]
    datasets = sorted({d["dataset"] for d in detail.datasets})
    keys = len(names) + len(datasets)
    depth = min(HISTORY_RUNS, REPORT_HISTORY_POINTS // keys) if keys else 0
    if depth < 2:
        return {}
    project = detail.project
    until = history_until(detail, last_seen_alive(history, detail.summary))
    found = history.dataset_history(project, datasets, depth, until)
    return {
        "nodes": {
            name: node_series(history.node_history(project, name, depth, until)) for name in names
        },
        "datasets": {name: dataset_series(points) for name, points in found.items()},
    }
