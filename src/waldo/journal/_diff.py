"""What differs between two runs: nodes, code, parameters, data versions, timings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from waldo.journal._checks import CheckChange, check_changes, run_checks
from waldo.store import Store, queries


@dataclass
class NodeDiff:
    """One node compared across two runs."""

    node: str
    change: str  # added | removed | changed | same
    details: list[str] = field(default_factory=list)
    status_a: str | None = None
    status_b: str | None = None
    duration_a: float | None = None
    duration_b: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunDiff:
    """Two runs compared: run-level facts first, then node by node."""

    run_a: str
    run_b: str
    facts: list[tuple[str, Any, Any]]
    params: list[tuple[str, Any, Any]]
    nodes: list[NodeDiff]
    checks: list[CheckChange] = field(default_factory=list)  # outcome changed

    @property
    def changed_nodes(self) -> list[NodeDiff]:
        return [n for n in self.nodes if n.change != "same"]

    def to_json(self) -> dict[str, Any]:
        return {
            "run_a": self.run_a,
            "run_b": self.run_b,
            "facts": [{"name": n, "a": a, "b": b} for n, a, b in self.facts],
            "params": [{"name": n, "a": a, "b": b} for n, a, b in self.params],
            "nodes": [n.to_json() for n in self.nodes],
            "checks": [c.to_json() for c in self.checks],
        }


_MISSING = object()


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = {}
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    else:
        out[prefix] = value


def flat_params(params: dict[str, Any]) -> dict[str, Any]:
    """Nested parameters under dotted keys: ``{"a": {"b": 1}}`` gives ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    _flatten("", params, out)
    return out


def _dict_changes(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    flat_a: dict[str, Any] = {}
    flat_b: dict[str, Any] = {}
    _flatten("", a, flat_a)
    _flatten("", b, flat_b)
    changes = []
    for key in sorted(set(flat_a) | set(flat_b)):
        va, vb = flat_a.get(key, _MISSING), flat_b.get(key, _MISSING)
        if va != vb:
            changes.append((key, None if va is _MISSING else va, None if vb is _MISSING else vb))
    return changes


def _versions_changes(kind: str, a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    details = []
    for name in sorted(set(a) | set(b)):
        if name not in a:
            details.append(f"{kind} {name} added")
        elif name not in b:
            details.append(f"{kind} {name} removed")
        elif a[name] != b[name]:
            details.append(f"{kind} {name} changed")
    return details


def _param_names(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [
        f"parameter {name.removeprefix('params:')} changed"
        for name in sorted(set(a) | set(b))
        if a.get(name) != b.get(name)
    ]


def compare_nodes(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    details: list[str] = []
    if (a.get("code_hash") or None) != (b.get("code_hash") or None):
        details.append("code changed")
    details += _param_names(a.get("params_hashes") or {}, b.get("params_hashes") or {})
    details += _versions_changes(
        "input", a.get("input_versions") or {}, b.get("input_versions") or {}
    )
    details += _versions_changes(
        "output", a.get("output_versions") or {}, b.get("output_versions") or {}
    )
    if a.get("status") != b.get("status"):
        details.append(f"status {a.get('status')} -> {b.get('status')}")
    return details


def diff_runs(store: Store, run_a: str, run_b: str) -> RunDiff:
    """Compare two recorded runs (ids already resolved)."""
    row_a = store.run(queries.get_run, run_a) or {}
    row_b = store.run(queries.get_run, run_b) or {}
    facts = []
    for name in (
        "status",
        "pipeline_names",
        "env",
        "git_sha",
        "git_dirty",
        "kedro_version",
        "runner",
        "pipeline_hash",
        "catalog_hash",
    ):
        if row_a.get(name) != row_b.get(name):
            facts.append((name, row_a.get(name), row_b.get(name)))
    for row in (row_a, row_b):
        started, finished = row.get("started_at"), row.get("finished_at")
        row["_duration"] = (finished - started).total_seconds() if started and finished else None
    if row_a["_duration"] != row_b["_duration"]:
        facts.append(("duration_s", row_a["_duration"], row_b["_duration"]))
    params = _dict_changes(row_a.get("runtime_params") or {}, row_b.get("runtime_params") or {})
    nodes_a = {n["node_name"]: n for n in store.run(queries.node_runs_of, run_a)}
    nodes_b = {n["node_name"]: n for n in store.run(queries.node_runs_of, run_b)}
    order = list(nodes_a) + [n for n in nodes_b if n not in nodes_a]
    diffs = []
    for name in order:
        a, b = nodes_a.get(name), nodes_b.get(name)
        if a is None:
            change, details = "added", ["only in " + run_b]
        elif b is None:
            change, details = "removed", ["only in " + run_a]
        else:
            details = compare_nodes(a, b)
            change = "changed" if details else "same"
        diffs.append(
            NodeDiff(
                node=name,
                change=change,
                details=details,
                status_a=a.get("status") if a else None,
                status_b=b.get("status") if b else None,
                duration_a=a.get("duration_s") if a else None,
                duration_b=b.get("duration_s") if b else None,
            )
        )
    checks = check_changes(run_checks(store, run_a), run_checks(store, run_b))
    return RunDiff(run_a, run_b, facts, params, diffs, checks)
