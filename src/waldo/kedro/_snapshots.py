"""What Waldo stores of a Kedro pipeline and catalog (content-addressed snapshots)."""

from __future__ import annotations

from typing import Any

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


def pipeline_content(pipeline: Any) -> dict[str, Any]:
    """Nodes in topological order with their function, inputs, outputs and tags:
    strings and lists only, ready for JSON as they are (``snapshot(json_ready=True)``)."""
    nodes = []
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
    return {"nodes": nodes}


def runner_name(run_params: dict[str, Any]) -> str:
    """Kedro passes the runner as ``str(instance)``; keep just the class name."""
    raw = str(run_params.get("runner") or "")
    if not raw or raw == "None":
        return "SequentialRunner"
    if raw.startswith("<") and " object at " in raw:
        raw = raw[1:].split(" object at ")[0]
    return raw.rsplit(".", 1)[-1]
