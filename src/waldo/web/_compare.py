"""The data of the pages that compare runs: a diff of two, parameters across many.

The diff keeps every node and dataset with a flag saying whether it changed, so the page
shows only what changed by default and everything on request. A node is "slower" when
it took more than 20% longer (and at least 50 ms more: a 2 ms node taking 3 ms is noise).
"""

from __future__ import annotations

from typing import Any

from waldo.journal import History, RunDetail, RunDiff, flat_params, stats_nulls, stats_rows
from waldo.web._git import commit_link
from waldo.web._payload import DISPLAY_STATUS, graph_nodes, run_facts

SLOWER_SHARE = 0.20
SLOWER_MIN_S = 0.05
MAX_COMPARED = 10


def slowdown(a: float | None, b: float | None) -> float | None:
    """How much longer b took than a, as a share of a (0.5: 50% longer)."""
    if a is None or b is None or a <= 0:
        return None
    return (b - a) / a


def is_slower(a: float | None, b: float | None) -> bool:
    share = slowdown(a, b)
    return (
        share is not None
        and b is not None
        and a is not None
        and (share > SLOWER_SHARE and b - a >= SLOWER_MIN_S)
    )


def node_rows(result: RunDiff, detail_b: RunDetail) -> list[dict[str, Any]]:
    """Each node of either run: its change, statuses, times, and why it ran in b."""
    reasons = {n.node_name: n.reason for n in detail_b.nodes}
    rows = []
    for node in result.nodes:
        slower = is_slower(node.duration_a, node.duration_b)
        failed = node.status_b == "failed"
        rows.append(
            {
                "name": node.node,
                "change": node.change,
                "details": node.details,
                "status_a": DISPLAY_STATUS.get(node.status_a or "", node.status_a),
                "status_b": DISPLAY_STATUS.get(node.status_b or "", node.status_b),
                "duration_a": node.duration_a,
                "duration_b": node.duration_b,
                "slowdown": slowdown(node.duration_a, node.duration_b),
                "slower": slower,
                "failed": failed,
                "why": reasons.get(node.node),
                "changed": node.change != "same" or slower or failed,
                "colour": colour(node.change, failed, slower),
            }
        )
    return rows


def colour(change: str, failed: bool, slower: bool) -> str:
    """The one colour a node gets on the diff's graph (the most urgent of its changes)."""
    if failed:
        return "failed"
    if change in ("added", "removed", "changed"):
        return change
    return "slower" if slower else "same"


def _saves(detail: RunDetail) -> dict[str, dict[str, Any]]:
    """The last save of each dataset in a run."""
    return {d["dataset"]: d for d in detail.datasets}


def dataset_changes(detail_a: RunDetail, detail_b: RunDetail) -> list[dict[str, Any]]:
    """Per dataset saved by either run: rows, nulls and schema in both, and what moved."""
    saved_a, saved_b = _saves(detail_a), _saves(detail_b)
    out = []
    for name in sorted(set(saved_a) | set(saved_b)):
        a, b = saved_a.get(name), saved_b.get(name)
        stats_a = (a or {}).get("stats") or {}
        stats_b = (b or {}).get("stats") or {}
        schema_a, schema_b = stats_a.get("schema") or {}, stats_b.get("schema") or {}
        retyped = [
            {"column": c, "a": schema_a[c], "b": schema_b[c]}
            for c in sorted(set(schema_a) & set(schema_b))
            if schema_a[c] != schema_b[c]
        ]
        item = {
            "dataset": name,
            "in_a": a is not None,
            "in_b": b is not None,
            "rows_a": stats_rows(stats_a),
            "rows_b": stats_rows(stats_b),
            "nulls_a": stats_nulls(stats_a),
            "nulls_b": stats_nulls(stats_b),
            "columns_added": sorted(set(schema_b) - set(schema_a)) if a and b else [],
            "columns_removed": sorted(set(schema_a) - set(schema_b)) if a and b else [],
            "retyped": retyped,
            "version_changed": bool(a and b and a.get("version") != b.get("version")),
        }
        item["changed"] = bool(
            a is None
            or b is None
            or item["rows_a"] != item["rows_b"]
            or item["nulls_a"] != item["nulls_b"]
            or item["columns_added"]
            or item["columns_removed"]
            or retyped
            or item["version_changed"]
        )
        out.append(item)
    return out


def graph_change(row: dict[str, Any] | None) -> dict[str, Any]:
    """A node's colour on the diff's graph and the reason its box shows."""
    if row is None or row["colour"] == "same":
        return {"change": "same"}
    colour = row["colour"]
    if colour == "slower":
        why = f"{row['slowdown'] * 100:+.0f}% slower"
    elif colour in ("failed", "added", "removed"):
        why = colour
    else:
        why = row["details"][0] if row["details"] else colour
    return {"change": colour, "why_changed": why}


def diff_graph(history: History, detail_a: RunDetail, detail_b: RunDetail) -> list[dict[str, Any]]:
    """The pipeline of b, plus the nodes only a had (drawn as removed)."""
    nodes = graph_nodes(history, detail_b)
    known = {n["name"] for n in nodes}
    nodes += [n for n in graph_nodes(history, detail_a) if n["name"] not in known]
    return nodes


def diff_payload(
    history: History, result: RunDiff, *, repo_url: str | None = None
) -> dict[str, Any]:
    """Everything the diff page draws."""
    detail_a = history.run_detail(result.run_a)
    detail_b = history.run_detail(result.run_b)
    rows = node_rows(result, detail_b)
    by_name = {r["name"]: r for r in rows}
    graph = [
        {**n, **graph_change(by_name.get(n["name"]))}
        for n in diff_graph(history, detail_a, detail_b)
    ]
    return {
        "page": "diff",
        "a": run_facts(detail_a),
        "b": run_facts(detail_b),
        "facts": [{"name": n, "a": a, "b": b} for n, a, b in result.facts],
        "params": [{"name": n, "a": a, "b": b} for n, a, b in result.params],
        "nodes": rows,
        "plain_b": all(n.reason is None for n in detail_b.nodes),
        "datasets": dataset_changes(detail_a, detail_b),
        "graph": graph,
        "commit_url": commit_link(detail_b.project_path, repo_url),
    }


def compare_payload(
    history: History, run_ids: list[str], *, repo_url: str | None = None
) -> dict[str, Any]:
    """Parameters (flattened to dotted keys) of up to ten runs side by side."""
    details = [history.run_detail(r) for r in run_ids[:MAX_COMPARED]]
    flat = [flat_params(d.runtime_params) for d in details]
    keys = sorted({k for params in flat for k in params})
    rows = []
    for key in keys:
        values = [params.get(key) for params in flat]
        rows.append({"name": key, "values": values, "differs": len({repr(v) for v in values}) > 1})
    project = details[0].project_path if details else None
    return {
        "page": "compare",
        "runs": [run_facts(d) for d in details],
        "params": rows,
        "commit_url": commit_link(project, repo_url),
    }
