"""Planning an incremental run: which nodes of a Kedro pipeline are stale, and why.

The decision itself is pure journal logic (``waldo.journal.decide``); this module
builds its inputs from Kedro objects: the nodes' current code and parameter
fingerprints, which datasets are persisted, and the current version of each.
"""

from __future__ import annotations

from typing import Any

from waldo.journal import Decision, History, NodeSpec, decide
from waldo.kedro._datasets import dataset_of, is_parameter, local_path
from waldo.kedro._snapshots import with_recorded_code
from waldo.kedro._versions import Fingerprints


def _param_values(catalog: Any, node: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in node.inputs:
        if is_parameter(name):
            try:
                values[name] = catalog.load(name)
            except Exception:
                values[name] = object()  # unknown: counts as changed
    return values


def node_specs(pipeline: Any, catalog: Any, fingerprints: Fingerprints) -> list[NodeSpec]:
    """The pipeline's nodes, in topological order, as the staleness logic sees them."""
    specs = []
    for node in pipeline.nodes:
        code = fingerprints.code_manifest(node.func)
        specs.append(
            NodeSpec(
                name=node.name,
                inputs=tuple(i for i in node.inputs if not is_parameter(i)),
                outputs=tuple(node.outputs),
                code_hash=code.digest if code is not None else None,
                params_hashes=fingerprints.params(_param_values(catalog, node)),
                code=code,
            )
        )
    return specs


def plan(
    pipeline: Any,
    catalog: Any,
    history: History,
    project: str | None,
    fingerprints: Fingerprints,
) -> list[Decision]:
    """Decide, for every node of ``pipeline``, whether it must run and why."""
    specs = node_specs(pipeline, catalog, fingerprints)
    records = history.last_successful_nodes(project, [s.name for s in specs])
    records = with_recorded_code(history, specs, records)
    datasets = sorted({d for s in specs for d in (*s.inputs, *s.outputs)})
    persisted = {d: fingerprints.persisted(catalog, d) for d in datasets}
    paths = {d: local_path(dataset_of(catalog, d)) for d in datasets if persisted[d]}
    others = [d for d in datasets if persisted[d] and paths.get(d) is None]
    journal_versions = history.latest_dataset_versions(project, others) if others else {}

    def current_version(name: str) -> str | None:
        path = paths.get(name)
        if path is not None:
            return fingerprints.file_version(path)
        return journal_versions.get(name)

    decisions = decide(specs, records, persisted.__getitem__, current_version)
    fingerprints.save()
    return decisions
