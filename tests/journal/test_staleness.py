"""The staleness rules on their own: catalog entries, several last runs, waiting nodes
and early cutoff, pulled in-memory producers."""

from __future__ import annotations

from dataclasses import dataclass, field

from waldo.journal import LastRun, NodeSpec, decide
from waldo.journal._staleness import MISSING, recheck


@dataclass
class Datasets:
    """Dataset state for the rules: versions now, persisted names, changed entries."""

    versions: dict[str, str] = field(default_factory=dict)
    memory: set[str] = field(default_factory=set)
    changed_entries: set[tuple[str, str]] = field(default_factory=set)  # (dataset, run)

    def persisted(self, name: str) -> bool:
        return name not in self.memory

    def version(self, name: str) -> str | None:
        return self.versions.get(name, MISSING)

    def entry_changed(self, name: str, since: LastRun) -> bool:
        return (name, since.run_id) in self.changed_entries


def node(name: str, inputs: tuple[str, ...], outputs: tuple[str, ...]) -> NodeSpec:
    return NodeSpec(name, inputs, outputs, code_hash=f"code-{name}")


def last(name: str, inputs: dict[str, str], outputs: dict[str, str], run: str = "r1") -> LastRun:
    return LastRun(run, f"code-{name}", {}, inputs, outputs)


# raw -> a -> x (file) -> b -> y (file) -> c -> z (file)
CHAIN = [node("a", ("raw",), ("x",)), node("b", ("x",), ("y",)), node("c", ("y",), ("z",))]
SEEN = {"raw": "r", "x": "x1", "y": "y1", "z": "z1"}


def records(run: str = "r1") -> dict[str, list[LastRun]]:
    return {
        "a": [last("a", {"raw": "r"}, {"x": "x1"}, run)],
        "b": [last("b", {"x": "x1"}, {"y": "y1"}, run)],
        "c": [last("c", {"y": "y1"}, {"z": "z1"}, run)],
    }


def test_a_converged_chain_runs_nothing() -> None:
    decisions = decide(CHAIN, records(), Datasets(dict(SEEN)))
    assert [d.run for d in decisions] == [False, False, False]


def test_a_changed_catalog_entry_reruns_its_writer_and_its_reader() -> None:
    datasets = Datasets(dict(SEEN), changed_entries={("y", "r1")})
    by_node = {d.node: d for d in decide(CHAIN, records(), datasets)}
    assert not by_node["a"].run
    assert by_node["b"].reasons == ["catalog entry of y changed"]
    assert by_node["c"].reasons[0] == "catalog entry of y changed"
    assert not by_node["c"].waits_on, "a reader whose entry changed cannot be cut off"


def test_downstream_of_a_rerun_waits_and_is_cut_off_when_identical() -> None:
    datasets = Datasets({**SEEN, "raw": "r2"})
    a, b, c = decide(CHAIN, records(), datasets)
    assert a.reasons == ["input raw changed"] and not a.waits_on
    assert [u.dataset for u in b.waits_on] == ["x"] and b.run
    assert [u.dataset for u in c.waits_on] == ["y"]
    assert not recheck(b, {"a"}, {"x": "x1"}.get)  # a re-made x, identical
    assert b.reasons == ["input x re-made, identical"]
    assert not recheck(c, {"a"}, datasets.version)
    assert c.reasons == ["input y unchanged (node b was skipped)"]


def test_a_waiting_node_runs_when_its_input_came_out_different() -> None:
    _, b, _ = decide(CHAIN, records(), Datasets({**SEEN, "raw": "r2"}))
    assert recheck(b, {"a"}, {"x": "x2"}.get)
    assert b.reasons == ["input x changed (re-made by node a)"]
    _, b, _ = decide(CHAIN, records(), Datasets({**SEEN, "raw": "r2"}))
    assert recheck(b, {"a"}, lambda name: None), "an unknowable version counts as changed"


def test_in_memory_links_are_never_cut_off() -> None:
    nodes = [node("a", ("raw",), ("m",)), node("b", ("m",), ("y",))]
    runs = {
        "a": [last("a", {"raw": "r"}, {"m": "m1"})],
        "b": [last("b", {"m": "m1"}, {"y": "y1"})],
    }
    a, b = decide(nodes, runs, Datasets({"raw": "r2", "y": "y1"}, memory={"m"}))
    assert a.run and b.run and not b.waits_on


def test_a_running_reader_pulls_its_in_memory_producer_and_stops_it_waiting() -> None:
    # raw -> a -> x (file) -> b -> m (memory) -> c, and c's code changed
    nodes = [node("a", ("raw",), ("x",)), node("b", ("x",), ("m",)), node("c", ("m",), ("z",))]
    runs = {
        "a": [last("a", {"raw": "r"}, {"x": "x1"})],
        "b": [last("b", {"x": "x1"}, {"m": "m1"})],
        "c": [LastRun("r1", "old", {}, {"m": "m1"}, {"z": "z1"})],
    }
    datasets = Datasets({"raw": "r2", "x": "x1", "z": "z1"}, memory={"m"})
    _, b, c = decide(nodes, runs, datasets)
    assert c.reasons == ["code changed", "upstream will change (input m from node b)"]
    assert b.run and not b.waits_on, "c needs b's in-memory output: b may not be skipped"


def test_a_node_is_up_to_date_when_any_of_its_last_runs_matches() -> None:
    branch = last("b", {"x": "x-branch"}, {"y": "y-branch"}, run="on-branch")
    main = last("b", {"x": "x1"}, {"y": "y1"}, run="on-main")
    decisions = decide(CHAIN[1:2], {"b": [branch, main]}, Datasets(dict(SEEN)))
    assert not decisions[0].run and decisions[0].last_run_id == "on-main"
    stale = decide(CHAIN[1:2], {"b": [branch, main]}, Datasets({**SEEN, "y": MISSING}))
    assert stale[0].run and stale[0].last_run_id == "on-branch", "the preferred run explains"
