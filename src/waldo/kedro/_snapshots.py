"""What Waldo stores of a Kedro pipeline and catalog (content-addressed snapshots).

A pipeline snapshot holds, besides its nodes, what each node's code fingerprint was
made of (``code``: per code digest, its parts and library versions), so that a later
``waldo status`` can name what changed since a node's last successful run
(``code changed (helper m.f)``, ``library pandas 2.2 -> 3.0``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from waldo.fingerprint import CodeManifest
from waldo.journal import History, LastRun, NodeSpec

if TYPE_CHECKING:
    from waldo.kedro._versions import Fingerprints

# id(func) -> (func, dotted name): asked for every node of the pipeline snapshot at run
# start and again as each node starts; pipelines often run one function in many nodes.
_func_names: dict[int, tuple[Any, str]] = {}


def func_name(node: Any) -> str:
    func = getattr(node, "func", None)
    known = _func_names.get(id(func))
    if known is not None and known[0] is func:
        return known[1]
    module = getattr(func, "__module__", None) or ""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
    dotted = f"{module}.{name}" if module else str(name)
    _func_names[id(func)] = (func, dotted)
    return dotted


def pipeline_content(pipeline: Any, fingerprints: Fingerprints | None = None) -> dict[str, Any]:
    """Nodes in topological order with their function, inputs, outputs and tags, and
    with ``fingerprints`` what their code is made of: strings, lists and dicts only,
    ready for JSON as they are (``snapshot(json_ready=True)``).

    Fingerprinting every node here, as the run starts, also means module-level values
    are read before any node runs (as ``waldo status`` reads them), not after a node
    has filled a module-level cache."""
    nodes = []
    code: dict[str, dict[str, Any]] = {}
    for node in pipeline.nodes:
        nodes.append(
            {
                "name": node.name,
                "func": func_name(node),
                "inputs": list(node.inputs),
                "outputs": list(node.outputs),
                "tags": sorted(node.tags),
                "namespace": node.namespace,
            }
        )
        manifest = fingerprints.code_manifest(node.func) if fingerprints is not None else None
        if manifest is not None and manifest.digest not in code:
            code[manifest.digest] = {
                "parts": dict(manifest.parts),
                "libraries": dict(manifest.libraries),
            }
    return {"nodes": nodes, "code": code} if code else {"nodes": nodes}


def code_manifests(content: Mapping[str, Any] | None) -> dict[str, CodeManifest]:
    """The code manifests a pipeline snapshot holds, by code digest."""
    found = {}
    for digest, made_of in ((content or {}).get("code") or {}).items():
        found[digest] = CodeManifest(
            digest, dict(made_of.get("parts") or {}), dict(made_of.get("libraries") or {})
        )
    return found


def with_recorded_code(
    history: History, specs: Sequence[NodeSpec], records: Mapping[str, Sequence[LastRun]]
) -> dict[str, list[LastRun]]:
    """``records`` (each node's last successful runs) with, for each run whose code
    fingerprint differs from the node's now, the code manifest that run recorded (read
    from its pipeline snapshot), so that the reason can name what changed."""
    now = {spec.name: spec.code_hash for spec in specs}
    snapshots: dict[str, dict[str, CodeManifest]] = {}
    found: dict[str, list[LastRun]] = {}
    for name, runs in records.items():
        found[name] = []
        for record in runs:
            if record.code_hash not in (None, now.get(name)):
                if record.run_id not in snapshots:
                    content = history.pipeline_snapshot_of(record.run_id)
                    snapshots[record.run_id] = code_manifests(content)
                manifest = snapshots[record.run_id].get(record.code_hash or "")
                if manifest is not None:
                    record = dataclasses.replace(record, code=manifest)
            found[name].append(record)
    return found


def runner_name(run_params: dict[str, Any]) -> str:
    """Kedro passes the runner as ``str(instance)``; keep just the class name."""
    raw = str(run_params.get("runner") or "")
    if not raw or raw == "None":
        return "SequentialRunner"
    if raw.startswith("<") and " object at " in raw:
        raw = raw[1:].split(" object at ")[0]
    return raw.rsplit(".", 1)[-1]
