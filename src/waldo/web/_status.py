"""The status page: what ``waldo status`` says, drawn on the pipeline's graph.

Deciding which nodes are stale needs the Kedro project (its code, parameters and
catalog), which this package does not import: ``waldo serve`` hands the server a
:data:`StatusSource` when it runs inside a project, and the page says so when not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StatusReport:
    """For one pipeline: each node, whether it would run, and why."""

    pipeline: str
    pipelines: list[str]
    nodes: list[dict[str, Any]]  # node, stale, reasons, last_run (as `waldo status`)
    graph: list[dict[str, Any]] = field(default_factory=list)  # name, inputs, outputs...


#: Computes the report of a pipeline (None: the default one).
StatusSource = Callable[[str | None], StatusReport]

NO_PROJECT = (
    "This server has no Kedro project to check: run `waldo serve` (or `kedro waldo serve`) "
    "inside the project, or give it with `waldo --project PATH serve`."
)


def status_payload(source: StatusSource | None, pipeline: str | None) -> dict[str, Any]:
    """The page's data: the report on the graph, or why there is none."""
    if source is None:
        return {"page": "status", "available": False, "message": NO_PROJECT}
    report = source(pipeline)
    by_node = {n["node"]: n for n in report.nodes}
    graph = []
    for node in report.graph:
        decision = by_node.get(node["name"], {})
        graph.append(
            {**node, "stale": bool(decision.get("stale")), "reasons": decision.get("reasons", [])}
        )
    return {
        "page": "status",
        "available": True,
        "pipeline": report.pipeline,
        "pipelines": report.pipelines,
        "to_run": sum(1 for n in report.nodes if n.get("stale")),
        "nodes": report.nodes,
        "graph": graph,
    }
