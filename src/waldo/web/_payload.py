"""The data of a run page: the run, its pipeline laid out, and each node's state.

The same payload feeds the served page (first paint and every live update) and the
static report (inlined), so both draw exactly the same thing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from waldo.journal import CheckResult, History, NodeRun, PipelineNode, RunDetail
from waldo.web._layout import NODE_H, NODE_W, layout

#: How the page names a node's state, from the journal's node status.
DISPLAY_STATUS = {
    "success": "complete",
    "failed": "error",
    "running": "running",
    "skipped": "skipped",
    "interrupted": "interrupted",
}


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def display_status(node: NodeRun | None, run_status: str) -> str:
    """queued / running / complete / error / skipped / interrupted, or "not run" for a
    node of a finished run that never started (a run that failed before it)."""
    if node is None:
        return "queued" if run_status == "running" else "not run"
    return DISPLAY_STATUS.get(node.status, node.status)


def node_state(node: NodeRun | None, run_status: str) -> dict[str, Any]:
    """What the page shows of one node, and what a live update changes."""
    state: dict[str, Any] = {"status": display_status(node, run_status)}
    if node is not None:
        state.update(
            started=_epoch(node.started_at),
            finished=_epoch(node.finished_at),
            duration=node.duration_s,
            reason=node.reason,
            error_type=node.error_type,
            error_message=node.error_message,
            traceback=node.traceback,
        )
    return state


def run_facts(detail: RunDetail) -> dict[str, Any]:
    """The run's own facts (no node list): status, times, git, error."""
    data = detail.to_json()
    data.pop("nodes", None)
    data["started"] = _epoch(detail.summary.started_at)
    data["finished"] = _epoch(detail.summary.finished_at)
    return data


def live_state(detail: RunDetail) -> dict[str, Any]:
    """The part of a run page that changes while the run goes (polled by the page)."""
    by_name = {n.node_name: n for n in detail.nodes}
    return {
        "run": run_facts(detail),
        "states": {name: node_state(node, detail.summary.status) for name, node in by_name.items()},
    }


def check_items(
    results: list[CheckResult], nodes: list[PipelineNode]
) -> dict[str, list[dict[str, Any]]]:
    """Each node's data check results for the page; a check run at the pipeline's end
    goes with the node that wrote its dataset."""
    writers = {output: node.name for node in nodes for output in node.outputs}
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


def run_payload(history: History, detail: RunDetail) -> dict[str, Any]:
    """Everything the run page draws: facts, laid-out nodes, edges, node states, and
    each node's data checks (``checks``, ``checks_failed``: how many did not pass)."""
    nodes = history.pipeline_nodes(detail)
    placed = layout(nodes)
    by_name = {n.node_name: n for n in detail.nodes}
    status = detail.summary.status
    checks = check_items(history.checks(detail.summary.run_id), nodes)
    return {
        "run": run_facts(detail),
        "size": {"width": placed.width, "height": placed.height, "w": NODE_W, "h": NODE_H},
        "nodes": [
            {
                "name": node.name,
                "func": node.func,
                "inputs": node.inputs,
                "outputs": node.outputs,
                "x": placed.xs[i],
                "y": placed.ys[i],
                **node_state(by_name.get(node.name), status),
                "checks": checks.get(node.name, []),
                "checks_failed": sum(not c["success"] for c in checks.get(node.name, [])),
            }
            for i, node in enumerate(nodes)
        ],
        "edges": placed.edges,
    }
