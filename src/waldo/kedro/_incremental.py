"""Planning an incremental run: which nodes of a Kedro pipeline are stale, and why.

The decision itself is pure journal logic (``waldo.journal.decide``); this module
builds its inputs from Kedro objects: the nodes' current code and parameter
fingerprints, which datasets are persisted, the current version of each (the branch
copy of a file on a data branch when it exists, else the main file), and their catalog
entries now and in the run each node last succeeded in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waldo.journal import MISSING, Decision, History, LastRun, NodeSpec, decide
from waldo.journal._staleness import recheck
from waldo.kedro._datasets import is_parameter
from waldo.kedro._entries import CatalogEntries
from waldo.kedro._snapshots import with_recorded_code
from waldo.kedro._versions import Fingerprints

__all__ = ["MISSING", "Gate", "KedroDatasets", "Plan", "node_specs", "plan"]


def node_specs(pipeline: Any, catalog: Any, fingerprints: Fingerprints) -> list[NodeSpec]:
    """The pipeline's nodes, in topological order, as the staleness logic sees them."""
    params: dict[str, str] = {}  # each parameter loaded and fingerprinted once

    def param_hash(name: str) -> str:
        if name not in params:
            try:
                value = catalog.load(name)
            except Exception:
                value = object()  # unknown: counts as changed
            params.update(fingerprints.params({name: value}))
        return params[name]

    specs = []
    for node in pipeline.nodes:
        code = fingerprints.code_manifest(node.func)
        specs.append(
            NodeSpec(
                name=node.name,
                inputs=tuple(i for i in node.inputs if not is_parameter(i)),
                outputs=tuple(node.outputs),
                code_hash=code.digest if code is not None else None,
                params_hashes={i: param_hash(i) for i in node.inputs if is_parameter(i)},
                code=code,
            )
        )
    return specs


class KedroDatasets:
    """The datasets of a Kedro catalog as the staleness logic sees them
    (``waldo.journal._staleness.DatasetState``)."""

    def __init__(
        self,
        catalog: Any,
        fingerprints: Fingerprints,
        journal_versions: dict[str, str | None],
        entries: CatalogEntries | None,
        snapshots: dict[str, dict[str, Any]],
    ) -> None:
        self._catalog = catalog
        self._fingerprints = fingerprints
        self._journal_versions = journal_versions
        self._entries = entries
        self._snapshots = snapshots
        self._snapshot_entries: dict[tuple[str, str | None], CatalogEntries] = {}
        self._persisted: dict[str, bool] = {}

    def persisted(self, name: str) -> bool:
        known = self._persisted.get(name)
        if known is None:
            known = self._persisted[name] = self._fingerprints.persisted(self._catalog, name)
        return known

    def local_path(self, name: str) -> Path | None:
        return self._fingerprints.location(self._catalog, name)[1]

    def version(self, name: str) -> str | None:
        """The version now: a local file's content fingerprint, else the version the
        journal recorded last (a change made elsewhere cannot be seen)."""
        path = self.local_path(name)
        if path is not None:
            return self._fingerprints.file_version(path)
        return self._journal_versions.get(name)

    def fresh_version(self, name: str) -> str | None:
        """The version of a dataset just written in this run: only a local file's can
        be known (None, "changed", for anything else)."""
        path = self.local_path(name)
        return self._fingerprints.file_version(path) if path is not None else None

    def entry_changed(self, name: str, since: LastRun) -> bool:
        now = self._entries
        then = self._entries_of(since)
        if now is None or then is None or not (now.known and then.known):
            return False  # unknown entries: nothing to compare, no reason to run
        return then.entry(name) != now.entry(name)

    def _entries_of(self, run: LastRun) -> CatalogEntries | None:
        if run.catalog_hash is None or run.catalog_hash not in self._snapshots:
            return None
        key = (run.catalog_hash, run.project_path)
        entries = self._snapshot_entries.get(key)
        if entries is None:
            content = self._snapshots[run.catalog_hash]
            entries = self._snapshot_entries[key] = CatalogEntries(content, run.project_path)
        return entries


@dataclass
class Plan:
    """The decisions of an incremental run, and the datasets they were made from."""

    decisions: list[Decision]
    datasets: KedroDatasets

    @property
    def waiting(self) -> int:
        return sum(1 for d in self.decisions if d.waits_on)


def plan(
    pipeline: Any,
    catalog: Any,
    history: History,
    project: str | None,
    fingerprints: Fingerprints,
    branch: str | None = None,
    entries: CatalogEntries | None = None,
) -> Plan:
    """Decide, for every node of ``pipeline``, whether it must run and why.

    ``branch`` is the run's data branch (its nodes' last runs there count first);
    ``entries`` the catalog entries now (None: catalog entries are not compared).
    """
    specs = node_specs(pipeline, catalog, fingerprints)
    records = history.last_successful_nodes(project, [s.name for s in specs], branch)
    records = with_recorded_code(history, specs, records)
    hashes = {r.catalog_hash for runs in records.values() for r in runs if r.catalog_hash}
    snapshots = history.catalog_snapshots(sorted(hashes)) if entries is not None else {}
    names = sorted({d for s in specs for d in (*s.inputs, *s.outputs)})
    others = [
        d
        for d in names
        if fingerprints.persisted(catalog, d) and fingerprints.location(catalog, d)[1] is None
    ]
    journal_versions = history.latest_dataset_versions(project, others, branch) if others else {}
    datasets = KedroDatasets(catalog, fingerprints, journal_versions, entries, snapshots)
    decisions = decide(specs, records, datasets)
    fingerprints.save()
    return Plan(decisions, datasets)


class Gate:
    """Decides the waiting nodes of a plan as the run goes (early cutoff): a node runs
    only if an input that upstream nodes re-made came out different."""

    def __init__(self, decisions: list[Decision], datasets: KedroDatasets) -> None:
        self._waiting = {d.node: d for d in decisions if d.waits_on}
        self._datasets = datasets
        self._ran: set[str] = set()

    @property
    def waiting(self) -> bool:
        return bool(self._waiting)

    def ran(self, node: str) -> None:
        """Node ``node`` ran to the end in this run."""
        self._ran.add(node)

    def decide(self, node: str) -> Decision | None:
        """Decide node ``node`` now, if it was waiting (its upstream nodes are done);
        None for a node decided when the run was planned."""
        decision = self._waiting.pop(node, None)
        if decision is not None:
            recheck(decision, self._ran, self._datasets.fresh_version)
        return decision
