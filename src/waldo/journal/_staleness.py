"""Deciding which nodes are stale, and why: the heart of incremental runs.

A node is up to date when its last successful run saw the same code, the same
parameters, the same catalog entries and the same input versions that it would see
now, and its persisted outputs are still the ones it wrote. Everything else is a reason
to run it:

* ``never ran`` - no successful run of a node with this name;
* ``code changed`` - the code fingerprint differs (see ``waldo.fingerprint``); when
  both runs' code manifests are known it names the parts that differ
  (``code changed (helper m.f, constant m.X)``), and a library whose version differs
  reads ``library pandas 2.2 -> 3.0``;
* ``parameter x changed`` - the canonical fingerprint of a parameter it reads differs;
* ``catalog entry of d changed`` - the resolved catalog entry of a persisted dataset it
  reads or writes differs (type, path, load/save arguments, versioning, credentials by
  name);
* ``input d changed`` / ``input d is missing`` - a persisted input's version differs
  from the one it loaded last time, or is gone;
* ``output d is missing`` / ``output d was modified outside the pipeline``;
* ``upstream will change (input d from node p)`` - a node it depends on will run;
* ``its in-memory output d is needed by node n`` - a node that runs reads a
  non-persisted output of this node, which exists only while a run is going.

Early cutoff: a node whose only reasons are persisted inputs that upstream nodes will
re-make *waits* (``Decision.waits_on``); once those nodes ran, :func:`recheck` runs it
only if one of those inputs came out different from what it last read
(``input d changed (re-made by node p)``), and skips it otherwise (``input d re-made,
identical``).

A node may have several last runs to choose from (on a data branch: its last run on
the branch, then on main); it is up to date when any of them matches.

This module is pure logic: the integration tells it the pipeline and the current
state of the datasets; the journal supplies the last successful node runs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from waldo.fingerprint import CodeManifest

#: What a dataset digest provider returns for a dataset that is persisted but absent.
MISSING = "<missing>"


@dataclass(frozen=True)
class NodeSpec:
    """A node as it is now: its name, what it reads and writes, its fingerprints."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    code_hash: str | None
    params_hashes: Mapping[str, str] = field(default_factory=dict)
    code: CodeManifest | None = None  # what code_hash is made of, to name what changed


@dataclass(frozen=True)
class LastRun:
    """What the journal remembers of a node's last successful run."""

    run_id: str
    code_hash: str | None
    params_hashes: Mapping[str, Any]
    input_versions: Mapping[str, Any]
    output_versions: Mapping[str, Any]
    code: CodeManifest | None = None  # what code_hash was made of, when known
    catalog_hash: str | None = None  # the run's catalog snapshot
    project_path: str | None = None  # where the project was for that run


class DatasetState(Protocol):
    """What the integration knows of the datasets now."""

    def persisted(self, name: str) -> bool:
        """Whether dataset ``name`` outlives a run (a file, a table)."""

    def version(self, name: str) -> str | None:
        """Its current digest, ``MISSING`` when absent, None when unknowable (which
        counts as changed)."""

    def entry_changed(self, name: str, since: LastRun) -> bool:
        """Whether its catalog entry differs from the one of run ``since``."""


@dataclass(frozen=True)
class Upstream:
    """A persisted input that a node upstream will re-make in this run."""

    dataset: str
    producer: str


@dataclass
class Decision:
    """Whether a node runs, and every reason why."""

    node: str
    run: bool
    reasons: list[str] = field(default_factory=list)
    last_run_id: str | None = None
    record: LastRun | None = None
    #: Decided after these inputs are re-made (early cutoff); empty once decided.
    waits_on: tuple[Upstream, ...] = ()

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "up to date"


@dataclass
class _Comparison:
    """A node compared with one of its last runs."""

    record: LastRun
    reasons: list[str]
    waits: list[Upstream]
    own: bool  # a reason of its own, not only inputs that upstream nodes re-make

    @property
    def rank(self) -> int:
        return 0 if not self.reasons else (1 if not self.own else 2)


def param_label(name: str) -> str:
    return name[len("params:") :] if name.startswith("params:") else name


def decide(
    nodes: Sequence[NodeSpec],
    records: Mapping[str, Sequence[LastRun]],
    datasets: DatasetState,
) -> list[Decision]:
    """Decide for each node (given in topological order) whether it must run.

    ``records[n]`` lists node ``n``'s last successful runs to compare with, preferred
    first. The node is up to date when one of them matches; otherwise it is compared
    with the one that asks least (waiting on upstream before a reason of its own).
    """
    producers = {out: node.name for node in nodes for out in node.outputs}
    versions: dict[str, str | None] = {}

    def version(name: str) -> str | None:
        if name not in versions:
            versions[name] = datasets.version(name)
        return versions[name]

    decisions: dict[str, Decision] = {}
    running: set[str] = set()
    for node in nodes:
        candidates = [
            _compare(node, record, producers, running, datasets, version)
            for record in records.get(node.name, ())
        ]
        decision = _decision(node.name, candidates)
        if decision.run:
            running.add(node.name)
        decisions[node.name] = decision
    _pull_memory_inputs(nodes, producers, datasets, decisions, running)
    return [decisions[node.name] for node in nodes]


def code_reasons(now: CodeManifest | None, before: CodeManifest | None) -> list[str]:
    """Why code fingerprints differ: the parts that changed, the libraries whose
    version changed; plain ``code changed`` when either side's parts are unknown."""
    if now is None or before is None:
        return ["code changed"]
    reasons = [
        f"library {name} {before.libraries.get(name, 'not counted')} -> {version}"
        for name, version in sorted(now.libraries.items())
        if before.libraries.get(name) != version
    ]
    changed = [p for p in now.parts if before.parts.get(p) != now.parts[p]]
    changed += [p for p in before.parts if p not in now.parts]
    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if changed[3:] else "")
        reasons.insert(0, f"code changed ({shown})")
    return reasons or ["code changed"]


def _decision(name: str, candidates: list[_Comparison]) -> Decision:
    if not candidates:
        return Decision(name, True, ["never ran"])
    best = min(candidates, key=lambda c: c.rank)  # the first of the best
    record = best.record
    decision = Decision(name, bool(best.reasons), best.reasons, record.run_id, record)
    if best.reasons and not best.own:
        decision.waits_on = tuple(best.waits)
    return decision


def _compare(
    node: NodeSpec,
    record: LastRun,
    producers: Mapping[str, str],
    running: Collection[str],
    datasets: DatasetState,
    version: Any,
) -> _Comparison:
    reasons: list[str] = []
    waits: list[Upstream] = []
    own = False
    if node.code_hash is None or node.code_hash != record.code_hash:
        reasons += code_reasons(node.code, record.code)
    for param, digest in sorted(node.params_hashes.items()):
        if record.params_hashes.get(param) != digest:
            reasons.append(f"parameter {param_label(param)} changed")
    own = bool(reasons)
    for dataset in node.inputs:
        persisted = datasets.persisted(dataset)
        if persisted and datasets.entry_changed(dataset, record):
            reasons.append(f"catalog entry of {dataset} changed")
            own = True
        producer = producers.get(dataset)
        if producer is not None and producer in running:
            reasons.append(f"upstream will change (input {dataset} from node {producer})")
            if persisted:
                waits.append(Upstream(dataset, producer))
            else:
                own = True  # an in-memory input cannot be compared: it runs
            continue
        if persisted:
            now = version(dataset)
            if now == MISSING:
                reasons.append(f"input {dataset} is missing")
            elif now is None:
                reasons.append(f"input {dataset} cannot be fingerprinted")
            elif now != record.input_versions.get(dataset):
                reasons.append(f"input {dataset} changed")
            else:
                continue
            own = True
        elif producer is None:
            reasons.append(f"input {dataset} is not persisted and has no producer")
            own = True
    for dataset in node.outputs:
        if not datasets.persisted(dataset):
            continue
        if datasets.entry_changed(dataset, record):
            reasons.append(f"catalog entry of {dataset} changed")
            own = True
        now = version(dataset)
        if now == MISSING:
            reasons.append(f"output {dataset} is missing")
            own = True
        elif now is None or now != record.output_versions.get(dataset):
            reasons.append(f"output {dataset} was modified outside the pipeline")
            own = True
    return _Comparison(record, reasons, waits, own)


def _pull_memory_inputs(
    nodes: Sequence[NodeSpec],
    producers: Mapping[str, str],
    datasets: DatasetState,
    decisions: dict[str, Decision],
    running: set[str],
) -> None:
    """A node that runs needs its in-memory inputs produced in the same run: their
    producers run too, for certain (none of them may wait and then be skipped), and so
    does a waiting node that needs a producer pulled in for it."""
    for node in reversed(nodes):  # consumers before their producers
        if node.name not in running:
            continue
        for dataset in node.inputs:
            producer = producers.get(dataset)
            if producer is None or datasets.persisted(dataset):
                continue
            made = decisions[producer]
            made.waits_on = ()
            if producer not in running:
                made.run = True
                made.reasons.append(f"its in-memory output {dataset} is needed by node {node.name}")
                running.add(producer)
                decisions[node.name].waits_on = ()


def recheck(decision: Decision, ran: Collection[str], version: Callable[[str], str | None]) -> bool:
    """Decide a waiting node once the nodes it waits on are done (``ran``: the nodes
    that ran in this run, not skipped): it runs when one of the inputs they re-made
    differs from what it read last time (``version(d)``: the version of ``d`` now, None
    when it cannot be known, which counts as changed). Updates ``decision``; returns
    whether it runs."""
    record = decision.record
    changed: list[str] = []
    same: list[str] = []
    for upstream in decision.waits_on:
        dataset, producer = upstream.dataset, upstream.producer
        if producer not in ran:
            same.append(f"input {dataset} unchanged (node {producer} was skipped)")
            continue
        now = version(dataset)
        before = record.input_versions.get(dataset) if record is not None else None
        if now is None or now == MISSING or now != before:
            changed.append(f"input {dataset} changed (re-made by node {producer})")
        else:
            same.append(f"input {dataset} re-made, identical")
    decision.run = bool(changed)
    decision.reasons = changed or same
    decision.waits_on = ()
    return decision.run
