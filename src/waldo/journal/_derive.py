"""Node trails derived from an integration's raw entries, in the process that has time.

The Kedro hooks only note what happened: one fixed-width *entry* per hook call,
``(code, node, dataset, timestamp, payload)`` (:data:`ENTRY_WIDTH` values, flat). Who
turns those entries into node trails (:mod:`waldo.journal._trail`) decides what
recording costs the pipeline: on its own process, the work takes the GIL from it; in
the writer's helper process, it runs on the other CPU. So the hooks' process only names
the nodes in its entries (a node object cannot travel) and ships them, with the facts
of the nodes it had not seen before (:data:`FACT_WIDTH` values each), as one
:data:`TRAIL_ENTRIES` record; a :class:`TrailDeriver` per run and process turns them
into trails, keeping the nodes that have not ended between batches.

Where the deriving happens:

- normally in the writer's helper process (:func:`prepare_in_helper`, named to it as
  its ``prepare`` function), which keeps one deriver per run and process;
- in the recording process, by :class:`LocalTrails`, when the helper cannot take a
  batch: none started, not ready yet at the run's first batch, dead, or its write
  failed (the batch is then spooled, as trails). To take over a run midway,
  :class:`LocalTrails` keeps the entry batches the helper acknowledged and derives
  them again, without sending what they gave (deriving is deterministic): from then on
  that run is derived in process. A batch the helper committed before dying keeps its
  exactly-once marker, so writing it again from here writes nothing twice;
- in process, by the integration itself, when it needs each node's end at once (a
  ParallelRunner worker flushing after each node, live OpenLineage events).

This module is imported by the helper, which starts without the packages'
``__init__``: import from modules, not from packages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from waldo.fingerprint._data import data_fingerprint
from waldo.journal._rows import describe_error, json_map
from waldo.journal._trail import (
    LOADED,
    SAVED,
    TRAIL,
    NodeTrail,
    dataset_step,
    expand_trails,
    node_step,
    trail_record,
)
from waldo.store._batch_sql import Record

if TYPE_CHECKING:
    from waldo.store import Store

TRAIL_ENTRIES = "node_trail_entries"
"""The table name raw entry batches travel under (never written as such)."""


class Entry:
    """What happened: the first value of an entry (plain ints, compared on each one)."""

    LOAD_START, LOADED, RUN, RAN, SAVE_START, SAVED, SAVED_VALUE, ERROR = range(8)
    CODES = (LOAD_START, LOADED, RUN, RAN, SAVE_START, SAVED, SAVED_VALUE, ERROR)
    WIDTH = 5  # values per entry: code, node (its name once shipped), dataset, time, payload


LOAD_START, LOADED_DATA, RUN, RAN, SAVE_START, SAVED_DATA, SAVED_VALUE, ERROR = Entry.CODES
ENTRY_WIDTH = Entry.WIDTH
FACT_WIDTH = 5  # name, function's dotted name, code hash, outputs (tuple), reason
AS_SAVED = "as-saved"
"""A load's payload: the version its save in this run recorded (an in-memory dataset)."""
NO_PARAMS: tuple[()] = ()
"""``before_node_run``'s payload for a node that reads no parameter (fingerprints on)."""

EVENT_TYPES = {
    LOAD_START: "before_dataset_loaded",
    LOADED_DATA: LOADED,
    RUN: "before_node_run",
    RAN: "after_node_run",
    SAVE_START: "before_dataset_saved",
    SAVED_DATA: SAVED,
    SAVED_VALUE: SAVED,
    ERROR: "on_node_error",
}
_UNKNOWN_VERSION = (None, None, None, None)


def error_payload(error: Any) -> dict[str, Any] | None:
    """An ``on_node_error`` payload as the error columns of a node run (an exception
    is described; a payload that travelled is described already)."""
    if isinstance(error, BaseException):
        return describe_error(error)
    return dict(error) if error else None


class _NodeState:
    """One node's trail while it is derived: its steps (``node_step`` layout), sent
    when it ends, and before that as its live row if it ran when a batch ended."""

    __slots__ = (
        "announced",
        "code_hash",
        "func",
        "live_steps",
        "name",
        "params",
        "pending_saves",
        "started",
        "steps",
    )

    def __init__(self, name: str, started: float) -> None:
        self.name = name
        self.started = started
        self.func: str | None = None  # set when it starts running (before_node_run)
        self.code_hash: str | None = None
        self.params: Any = None  # parameter hashes, as before_node_run noted them
        self.steps: list[Any] = []
        self.live_steps = 0  # its loads and before_node_run: what a live row sends
        self.announced = False  # its live row (steps[:live_steps]) was sent
        self.pending_saves: set[str] | None = None  # its outputs, once it has run


class TrailDeriver:
    """Turns one run's entries, recorded by one process, into node trail records.

    ``feed`` takes the batches in the order they were recorded and returns the trail
    records they complete, ready for the writer's queue: ``(TRAIL, *fields, *steps)``
    (see :mod:`waldo.journal._trail`). The same batches always give the same records.
    """

    def __init__(self, run_id: str, pid: int) -> None:
        self.run_id = run_id
        self.pid = pid
        self._nodes: dict[str, _NodeState] = {}
        self._facts: dict[str, Sequence[Any]] = {}  # name -> (func, code, outputs, reason)
        self._saved: dict[str, Sequence[Any]] = {}  # dataset -> version its save recorded
        self._out: list[tuple[Any, ...]] = []
        self.problems: list[str] = []  # what could not be derived (the entry is skipped)

    def feed(
        self,
        entries: Sequence[Any],
        facts: Sequence[Any] = (),
        announce: bool = False,
        final: bool = False,
        error: dict[str, Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        """The trail records of a batch: every node it ends; with ``announce`` the
        live row of every node running and not announced yet; with ``final`` (the run
        ended, ``error`` why it failed) every node still unfinished, as it is."""
        known = self._facts
        for at in range(0, len(facts), FACT_WIDTH):
            known[facts[at]] = facts[at + 1 : at + FACT_WIDTH]
        self._apply(entries)
        if announce:
            self._announce_running()
        if final:
            self._send_unfinished(error)
        out, self._out = self._out, []
        return out

    def _apply(self, entries: Sequence[Any]) -> None:
        nodes = self._nodes
        # A node's entries mostly come one after another: its state is looked up once.
        last: Any = None
        state: Any = None
        each = iter(entries)
        for code, name, dataset, ts, payload in zip(each, each, each, each, each, strict=True):
            try:
                if name is not last:
                    state = nodes.get(name)
                    if state is None:  # a node starts with its first load, or as it runs
                        state = nodes[name] = _NodeState(name, ts)
                    last = name
                steps = state.steps
                if code in (LOAD_START, SAVE_START):
                    node_step(steps, EVENT_TYPES[code], dataset, ts)
                elif code == LOADED_DATA:
                    if payload is None:
                        node_step(steps, LOADED, dataset, ts)
                    else:
                        if payload == AS_SAVED:
                            payload = self._saved.get(dataset, _UNKNOWN_VERSION)
                        dataset_step(steps, LOADED, dataset, ts, payload)
                elif code in (SAVED_DATA, SAVED_VALUE):
                    if code == SAVED_VALUE:  # a plain value in memory: no statistics
                        payload = (self._value_version(payload), None)
                    if payload is None:
                        node_step(steps, SAVED, dataset, ts)
                    else:
                        version = payload[0]
                        self._saved[dataset] = version
                        dataset_step(steps, SAVED, dataset, ts, version, payload[1])
                    pending = state.pending_saves
                    if pending is not None:
                        pending.discard(dataset)
                        if not pending:  # its last output is saved: the trail is complete
                            self._complete(state, "success", None)
                            last = None
                elif code == RUN:
                    func, code_hash = self._facts[name][:2]
                    state.code_hash = code_hash
                    state.params = payload
                    node_step(steps, "before_node_run", name, ts)
                    state.live_steps = len(steps)
                    state.func = func
                elif code == RAN:
                    node_step(steps, "after_node_run", name, ts)
                    outputs = self._facts[name][2]
                    if outputs:
                        state.pending_saves = set(outputs)
                    else:
                        self._complete(state, "success", None)
                        last = None
                else:  # ERROR
                    node_step(steps, "on_node_error", name, ts)
                    self._complete(state, "failed", error_payload(payload))
                    last = None
            except Exception as exc:
                last = None
                self.problems.append(f"could not record {EVENT_TYPES.get(code, 'a node')}: {exc}")

    def _value_version(self, value: Any) -> Sequence[Any]:
        """The version of a plain value saved in memory (an int, a string...)."""
        fingerprint = data_fingerprint(value)
        return (fingerprint.digest, fingerprint.digest, fingerprint.kind, None)

    def _send_unfinished(self, error: dict[str, Any] | None) -> None:
        """At the run's end: nodes that ran but whose outputs were never all saved
        failed with the run; the others still unfinished (stopped while loading or
        running) keep their events, and a node that had started stays as last
        recorded."""
        for state in list(self._nodes.values()):
            failed = error is not None and bool(state.pending_saves)
            self._complete(state, "failed" if failed else None, error)

    def _complete(self, state: _NodeState, status: str | None, error: Any) -> None:
        """A node's trail; ``status`` None for a node that never ran (its events)."""
        name = state.name
        del self._nodes[name]
        announced = state.announced
        facts = self._facts.get(name)
        params = None if announced else state.params  # else they went with its live row
        reason = None if facts is None else facts[3]
        steps = state.steps[state.live_steps :] if announced else state.steps
        failed = error if status == "failed" and error else None
        self._out.append(self._record(state, params, status, reason, failed, steps))

    def _record(
        self,
        state: _NodeState,
        params: Any,
        status: str | None,
        reason: str | None,
        error: dict[str, Any] | None,
        steps: Sequence[Any],
    ) -> tuple[Any, ...]:
        """A trail record of ``state`` (layout: :mod:`waldo.journal._trail`)."""
        trail = NodeTrail(
            self.run_id,
            state.name,
            state.func,
            state.started,
            self.pid,
            state.code_hash,
            None if params is None else json_map(params),
            status,
            reason,
            error,
        )
        return trail_record(trail, steps)

    def _announce_running(self) -> None:
        """The live row (``running``, with its loads) of every node that runs and was
        not announced yet: exactly its steps up to ``before_node_run``, whatever came
        after them, so that its end record, with the rest, completes the row."""
        for state in self._nodes.values():
            if state.announced or state.func is None:  # already, or not running yet
                continue
            state.announced = True
            live = state.steps[: state.live_steps]
            self._out.append(self._record(state, state.params, "running", None, None, live))


class EntryBatch:
    """The fields of a :data:`TRAIL_ENTRIES` row (as queued, or back from the spool)."""

    __slots__ = ("announce", "entries", "error", "facts", "final", "key", "run_id")

    def __init__(self, row: Any) -> None:
        self.run_id, pid, self.announce, self.final, self.error, self.facts, self.entries = row
        self.key = (self.run_id, pid)

    def feed(self, deriver: TrailDeriver) -> list[tuple[Any, ...]]:
        return deriver.feed(self.entries, self.facts, self.announce, self.final, self.error)


def entry_batch_row(
    run_id: str,
    pid: int,
    entries: list[Any],
    facts: Sequence[Any],
    announce: bool = False,
    final: bool = False,
    error: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    """A flat :data:`TRAIL_ENTRIES` record for the writer's queue."""
    return (TRAIL_ENTRIES, run_id, pid, announce, final, error, tuple(facts), entries)


def _trail_records(trails: Iterable[tuple[Any, ...]]) -> list[Record]:
    return [(TRAIL, trail[1:]) for trail in trails]


def derive_batch(
    records: Sequence[Record], derivers: dict[tuple[str, int], TrailDeriver]
) -> tuple[list[Record], list[str]]:
    """A batch with its entry batches replaced by the trails they give, each fed to
    the run's deriver in ``derivers`` (created on first sight, dropped at the run's
    final batch); and what could not be derived."""
    out: list[Record] = []
    problems: list[str] = []
    for table, row in records:
        if table != TRAIL_ENTRIES:
            out.append((table, row))
            continue
        batch = EntryBatch(row)
        deriver = derivers.get(batch.key)
        if deriver is None:
            deriver = derivers[batch.key] = TrailDeriver(*batch.key)
        out.extend(_trail_records(batch.feed(deriver)))
        if deriver.problems:
            problems += deriver.problems
            deriver.problems = []
        if batch.final:
            del derivers[batch.key]
    return out, problems


_helper_derivers: dict[tuple[str, int], TrailDeriver] = {}


class DeriveError(Exception):
    """Entries the helper could not derive: its batch is derived (and the problem
    reported) in the recording process instead."""


def prepare_in_helper(records: Sequence[Record]) -> list[Record]:
    """The writer helper's ``prepare``: entry batches derived (the helper keeps each
    run's deriver between batches), then every trail expanded into rows."""
    derived, problems = derive_batch(records, _helper_derivers)
    if problems:
        raise DeriveError("; ".join(problems))
    return expand_trails(derived)


class LocalTrails:
    """Entry batches derived in the recording process, when the helper cannot take
    them (see the module docstring): the runs derived here, and the batches of the
    others that the helper acknowledged, to take one over midway. Those are kept until
    their run's final batch: about half a kilobyte per node of the run (the entries
    only; a pipeline's nodes and datasets are referenced, not copied)."""

    def __init__(self, on_problem: Callable[[str], None]) -> None:
        self._on_problem = on_problem
        self._here: dict[tuple[str, int], TrailDeriver] = {}
        self._acknowledged: dict[tuple[str, int], list[EntryBatch]] = {}
        self._last: tuple[str, list[Record]] | None = None  # batch id, as derived
        self._lock = threading.Lock()

    @staticmethod
    def has_entries(records: Sequence[Record]) -> bool:
        return any(table == TRAIL_ENTRIES for table, _ in records)

    def for_helper(self, records: Sequence[Record], batch_id: str) -> Sequence[Record]:
        """The batch to send the helper: as it is, unless it holds entries of a run
        derived here, in which case all of it is derived here first."""
        if self._here and any(
            table == TRAIL_ENTRIES and EntryBatch(row).key in self._here for table, row in records
        ):
            return self.derived(records, batch_id)
        return records

    def acknowledged(self, records: Sequence[Record]) -> None:
        """The helper wrote this batch (deriving its entries): keep them, in case it
        cannot take the next ones."""
        with self._lock:
            for table, row in records:
                if table != TRAIL_ENTRIES:
                    continue
                batch = EntryBatch(row)
                if batch.key in self._here:
                    continue
                if batch.final:
                    self._acknowledged.pop(batch.key, None)
                else:
                    self._acknowledged.setdefault(batch.key, []).append(batch)

    def derived(self, records: Sequence[Record], batch_id: str) -> list[Record]:
        """The batch with its entries derived here (the same list when asked again
        for the same batch id: a batch that failed to write is spooled as derived)."""
        with self._lock:
            last = self._last
            if last is not None and last[0] == batch_id:
                return last[1]
            if not self.has_entries(records):
                return list(records)
            for table, row in records:
                if table == TRAIL_ENTRIES:
                    self._take_over(EntryBatch(row).key)
            out, problems = derive_batch(records, self._here)
            self._last = (batch_id, out)
        for problem in problems:
            self._on_problem(problem)
        return out

    def _take_over(self, key: tuple[str, int]) -> None:
        """Derive this run here from now on: replay what the helper acknowledged."""
        if key in self._here:
            return
        deriver = self._here[key] = TrailDeriver(*key)
        for batch in self._acknowledged.pop(key, []):
            batch.feed(deriver)  # sent by the helper already
        deriver.problems = []  # and reported by it


def write_batch(store: Store, records: Sequence[Record], batch_id: str) -> bool:
    """``Store.write`` for a journal batch that may hold trails or entry batches (a
    spooled batch, replayed by ``waldo sync``): entries derived with what the batch
    holds, trails expanded."""
    derivers: dict[tuple[str, int], TrailDeriver] = {}
    derived, _ = derive_batch(records, derivers)
    for deriver in derivers.values():  # what the batch left unfinished, as it is
        derived += _trail_records(deriver.feed((), final=True))
    return store.write(expand_trails(derived), batch_id)
