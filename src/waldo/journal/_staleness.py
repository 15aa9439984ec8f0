"""Deciding which nodes are stale, and why: the heart of incremental runs.

A node is up to date when its last successful run saw the same code, the same
parameters and the same input versions that it would see now, and its persisted outputs
are still the ones it wrote. Everything else is a reason to run it:

* ``never ran`` - no successful run of a node with this name;
* ``code changed`` - the code fingerprint differs (see ``waldo.fingerprint``); when
  both runs' code manifests are known it names the parts that differ
  (``code changed (helper m.f, constant m.X)``), and a library whose version differs
  reads ``library pandas 2.2 -> 3.0``;
* ``parameter x changed`` - the canonical fingerprint of a parameter it reads differs;
* ``input d changed`` / ``input d is missing`` - a persisted input's version differs
  from the one it loaded last time, or is gone;
* ``output d is missing`` / ``output d was modified outside the pipeline``;
* ``upstream will change (input d from node p)`` - a node it depends on will run;
* ``its in-memory output d is needed by node n`` - a node that runs reads a
  non-persisted output of this node, which exists only while a run is going.

This module is pure logic: the integration tells it the pipeline and the current
state of the datasets; the journal supplies the last successful node runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Decision:
    """Whether a node runs, and every reason why."""

    node: str
    run: bool
    reasons: list[str] = field(default_factory=list)
    last_run_id: str | None = None
    record: LastRun | None = None

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "up to date"


def param_label(name: str) -> str:
    return name[len("params:") :] if name.startswith("params:") else name


def decide(
    nodes: Sequence[NodeSpec],
    records: Mapping[str, LastRun],
    is_persisted: Callable[[str], bool],
    current_version: Callable[[str], str | None],
) -> list[Decision]:
    """Decide for each node (given in topological order) whether it must run.

    ``is_persisted(d)`` tells whether dataset ``d`` outlives a run (a file, a table);
    ``current_version(d)`` returns its current digest, ``MISSING`` when it is absent,
    or None when it cannot be known (which counts as changed).
    """
    producers = {out: node.name for node in nodes for out in node.outputs}
    decisions: dict[str, Decision] = {}
    running: set[str] = set()

    versions: dict[str, str | None] = {}

    def version(name: str) -> str | None:
        if name not in versions:
            versions[name] = current_version(name)
        return versions[name]

    for node in nodes:
        record = records.get(node.name)
        decision = Decision(
            node.name, False, last_run_id=record.run_id if record else None, record=record
        )
        reasons = decision.reasons
        if record is None:
            reasons.append("never ran")
        else:
            if node.code_hash is None or node.code_hash != record.code_hash:
                reasons += code_reasons(node.code, record.code)
            for param, digest in sorted(node.params_hashes.items()):
                if record.params_hashes.get(param) != digest:
                    reasons.append(f"parameter {param_label(param)} changed")
            for dataset in node.inputs:
                producer = producers.get(dataset)
                if producer is not None and producer in running:
                    reasons.append(f"upstream will change (input {dataset} from node {producer})")
                elif is_persisted(dataset):
                    now = version(dataset)
                    if now == MISSING:
                        reasons.append(f"input {dataset} is missing")
                    elif now is None:
                        reasons.append(f"input {dataset} cannot be fingerprinted")
                    elif now != record.input_versions.get(dataset):
                        reasons.append(f"input {dataset} changed")
                elif producer is None:
                    reasons.append(f"input {dataset} is not persisted and has no producer")
            for dataset in node.outputs:
                if not is_persisted(dataset):
                    continue
                now = version(dataset)
                if now == MISSING:
                    reasons.append(f"output {dataset} is missing")
                elif now is None or now != record.output_versions.get(dataset):
                    reasons.append(f"output {dataset} was modified outside the pipeline")
        if reasons:
            decision.run = True
            running.add(node.name)
        decisions[node.name] = decision

    # A node that runs needs its in-memory inputs produced in the same run.
    by_name = {node.name: node for node in nodes}
    for node in reversed(nodes):
        if node.name not in running:
            continue
        _pull_memory_inputs(node, by_name, producers, is_persisted, decisions, running)
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


def _pull_memory_inputs(
    node: NodeSpec,
    by_name: Mapping[str, NodeSpec],
    producers: Mapping[str, str],
    is_persisted: Callable[[str], bool],
    decisions: dict[str, Decision],
    running: set[str],
) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        for dataset in current.inputs:
            producer = producers.get(dataset)
            if producer is None or producer in running or is_persisted(dataset):
                continue
            decision = decisions[producer]
            decision.run = True
            decision.reasons.append(
                f"its in-memory output {dataset} is needed by node {current.name}"
            )
            running.add(producer)
            stack.append(by_name[producer])
