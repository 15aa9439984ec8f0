"""Node trails: one compact record per node, expanded into journal rows off the hot path.

A pipeline's hooks fire six or more times per node (loads, node start and end, saves).
Turning each call into its ``events`` row, its node-run upsert and its lineage row
right there costs the pipeline's own thread tens of microseconds per node and fills
its heap with short-lived rows. Instead an integration keeps, per node, a flat list of
plain values (what happened, to what, when, and the dataset version it saw) and hands
the writer one :data:`TRAIL` record when the node ends (and one more ahead of it, with
the steps so far, only when the node is still running as the writer wakes). The
writer's helper process (or the writer itself when there is none, and ``waldo sync``
for spooled batches) expands each record into the same rows the step-by-step API of
:class:`~waldo.journal.Recorder` writes.

A trail record holds everything its rows need, so it expands the same way in any
process, at any time, any number of times: a batch keeps its exactly-once marker
whether it is written by the helper, written in process after the helper died, or
replayed from the spool (where a record comes back as a JSON list).

Record layout: one flat tuple of plain values (:class:`NodeTrail` names the first ten)::

    (run_id, node_name, func_name, started_at, pid, code_hash, params_hashes_json,
     status, reason, error_fields, *steps)

``status`` is ``running`` for a node's live row, sent while it runs with the steps so
far (its loads and ``before_node_run``): its inputs. At its end the record has
``success`` or ``failed`` and the steps not sent yet (all of them for a node that was
never announced as running): the row's end, outputs and error, merged into the same
node run. A node stopped before it ran sends None: its events only.

Each step is :data:`STEP_WIDTH` values, ``(event_type, target_name, timestamp,
versioned, version, data_digest, data_kind, path, stats_json)``, ``versioned`` True
when a dataset's fingerprint was taken (:func:`node_step`, :func:`dataset_step`).

Flat, not nested: a record waits in the writer's queue for up to one interval. The
garbage collector stops tracking a tuple of plain values at its first collection, but
a tuple of tuples only one level per collection, so nested records were promoted to
the oldest generation still tracked, and brought Python's next full collection (tens
of milliseconds) into the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

# The writer's helper process imports this module without the packages' __init__
# (waldo.store._writer_process): import from modules, not from packages.
from waldo.journal._rows import json_map, node_run_id, target_id
from waldo.store._batch_sql import Record

TRAIL = "node_trail"
"""The table name trail records travel under; no table of that name is ever written."""

LOADED = "after_dataset_loaded"
SAVED = "after_dataset_saved"
_BEFORE = frozenset({"before_dataset_loaded", "before_dataset_saved"})


STEP_WIDTH = 9


class NodeTrail(NamedTuple):
    """The fixed fields of a trail record (built as a plain tuple on the hot path)."""

    run_id: str
    node_name: str
    func_name: str | None
    started_at: float | None
    pid: int
    code_hash: str | None
    params_hashes: str | None
    status: str | None
    reason: str | None
    error: dict[str, Any] | None


_FIXED = len(NodeTrail._fields)


def node_step(steps: list[Any], event_type: str, target: str, timestamp: float) -> None:
    """Append a node event (or a dataset event without a version) to a node's steps."""
    steps += (event_type, target, timestamp, False, None, None, None, None, None)


def dataset_step(
    steps: list[Any],
    event_type: str,
    dataset: str,
    timestamp: float,
    version: Sequence[str | None],
    stats: str | None = None,
) -> None:
    """Append a dataset load or save with its version ``(version, data_digest,
    data_kind, path)`` and, for a save, its statistics as JSON text."""
    steps += (event_type, dataset, timestamp, True, *version, stats)


def trail_record(trail: NodeTrail, steps: Sequence[Any]) -> tuple[Any, ...]:
    """A flat trail record for the writer's queue: its table name, then the layout above
    (what :func:`split_trail` takes apart)."""
    return (TRAIL, *trail, *steps)


def split_trail(row: Sequence[Any]) -> tuple[NodeTrail, Sequence[Any]]:
    """A trail record's row (the record without its table name): its fixed fields, named,
    and its steps."""
    return NodeTrail._make(row[:_FIXED]), row[_FIXED:]


def last_timestamp(steps: Sequence[Any]) -> float | None:
    """When the last of a trail's steps happened (None without steps)."""
    return steps[-STEP_WIDTH + 2] if steps else None


def expand_trails(records: Sequence[Record]) -> list[Record]:
    """The journal rows of a batch: trail records expanded in place, others as they are."""
    out: list[Record] = []
    for table, row in records:
        if table == TRAIL and isinstance(row, (tuple, list)):
            out.extend(_expand_one(*split_trail(row)))
        else:
            out.append((table, row))
    return out


def _expand_one(trail: NodeTrail, steps: Sequence[Any]) -> Iterable[Record]:
    run_id, node = trail.run_id, trail.node_name
    begun: dict[str, float] = {}
    durations: dict[str, dict[str, float | None]] = {LOADED: {}, SAVED: {}}
    versions: dict[str, dict[str, str | None]] = {LOADED: {}, SAVED: {}}
    last = None
    for at in range(0, len(steps), STEP_WIDTH):
        step = steps[at : at + STEP_WIDTH]
        event_type, target, ts = step[0], step[1], step[2]
        last = ts
        duration = None
        if event_type in durations:
            before = begun.pop(target, None)
            duration = ts - before if before is not None else None
            durations[event_type][target] = duration
        elif event_type in _BEFORE:
            begun[target] = ts
        yield "events", (run_id, event_type, target_id(event_type, target), target, ts, duration)
        if step[3]:
            versions[event_type][target] = step[4]
            operation = "load" if event_type == LOADED else "save"
            yield "dataset_versions", (run_id, node, target, operation, *step[4:8], ts, step[8])
    if trail.status is None:
        return
    row: dict[str, Any] = {"status": trail.status}
    if trail.status == "running" or durations[LOADED]:
        row["inputs"] = json_map(durations[LOADED])
        row["input_versions"] = json_map(versions[LOADED])
    if trail.status != "running":
        started = trail.started_at
        row["finished_at"] = last
        row["duration_s"] = last - started if started is not None and last is not None else None
        row["outputs"] = json_map(durations[SAVED])
        row["output_versions"] = json_map(versions[SAVED])
    if trail.reason is not None:
        row["reason"] = trail.reason
    if trail.error:
        row.update(trail.error)
    yield "node_runs", _node_row(trail, row)


def _node_row(trail: NodeTrail, fields: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": node_run_id(trail.run_id, trail.node_name),
        "run_id": trail.run_id,
        "node_name": trail.node_name,
        "pid": trail.pid,
        **fields,
    }
    if trail.started_at is not None:
        row["started_at"] = trail.started_at
    if trail.func_name is not None:
        row["func_name"] = trail.func_name
    if trail.code_hash is not None:
        row["code_hash"] = trail.code_hash
    if trail.params_hashes is not None:
        row["params_hashes"] = trail.params_hashes
    return row
