"""What an integration notes about one node while it runs, and the rows it becomes.

The Kedro hooks keep one :class:`NodeRecord` per running node and add to it as the node
loads, runs and saves. ``Recorder.record_node`` queues it twice: as the node starts to
run (its live ``running`` row, with its loads) and when it ends. The writer's thread
turns each into ``events``, ``node_runs`` and ``dataset_versions`` rows with
:func:`node_rows`, after doing the work a record left for it (:attr:`DatasetAccess.later`:
a fingerprint or statistics that cannot change any more). The rows are built once per
batch, so a batch written late or replayed from the spool keeps the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from waldo.journal._rows import describe_error, json_map, node_run_id, stats_text, target_id

# "stopped": the run ended before the node did; its events are kept, its row stays as
# last recorded (a node that was still loading has none).
NodeRecordStatus = Literal["running", "success", "failed", "stopped"]

LOADED = "after_dataset_loaded"
SAVED = "after_dataset_saved"


@dataclass(slots=True)
class DatasetAccess:
    """One load or save of a dataset by a node, with the version it saw or wrote."""

    dataset: str
    started_at: float  # before_dataset_loaded / before_dataset_saved
    ended_at: float | None = None  # after_dataset_loaded / after_dataset_saved
    versioned: bool = False  # fingerprinted: a ``dataset_versions`` row is written
    version: str | None = None  # what staleness compares; None: could not be taken
    data_digest: str | None = None  # fingerprint of the value, for data not on disk
    data_kind: str | None = None  # "file", "dataframe", ... (waldo.fingerprint)
    path: str | None = None  # the local file or folder really read or written
    stats: dict[str, Any] | None = None  # saves only: rows, columns, schema, bytes...
    # Work left for the writer's thread (it fills the fields above), for a value that
    # nothing can change any more: a file just written, a copy kept in memory.
    later: Callable[[DatasetAccess], None] | None = None

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass(slots=True)
class ErrorFields:
    """A node's error as text (an exception holds frames: described when it happens)."""

    error_type: str
    error_message: str
    traceback: str

    @classmethod
    def of(cls, error: BaseException) -> ErrorFields:
        return cls(**describe_error(error))


@dataclass(slots=True)
class NodeRecord:
    """One node of one run, as the hooks saw it in one process."""

    run_id: str
    node_name: str
    pid: int
    started_at: float  # its first hook: the first load, or before_node_run
    func_name: str | None = None  # dotted name of the node's function
    code_hash: str | None = None
    params_hashes: dict[str, str] | None = None  # None: fingerprints off
    reason: str | None = None  # why an incremental run runs it
    status: NodeRecordStatus = "running"
    ran_at: float | None = None  # before_node_run
    ran_until: float | None = None  # after_node_run (None when its function raised)
    finished_at: float | None = None  # its last save ended, or ran_until, or its error
    loads: list[DatasetAccess] = field(default_factory=list)
    saves: list[DatasetAccess] = field(default_factory=list)
    error: ErrorFields | None = None
    announced: bool = False  # its running row was queued: its end adds only the rest


def node_rows(record: NodeRecord) -> list[tuple[str, Any]]:
    """The journal rows of a queued record: its live row and loads while it runs; at
    its end what was not announced, its saves and the row's end."""
    run_id, node = record.run_id, record.node_name
    running = record.status == "running"
    rows: list[tuple[str, Any]] = []
    events: list[tuple[str, str, float, float | None]] = []  # type, target, time, duration
    if running or not record.announced:
        for load in record.loads:
            events.append(("before_dataset_loaded", load.dataset, load.started_at, None))
            if load.ended_at is not None:
                events.append((LOADED, load.dataset, load.ended_at, load.duration_s))
        if record.ran_at is not None:
            events.append(("before_node_run", node, record.ran_at, None))
    if not running:
        if record.ran_until is not None:
            events.append(("after_node_run", node, record.ran_until, None))
        for save in record.saves:
            events.append(("before_dataset_saved", save.dataset, save.started_at, None))
            if save.ended_at is not None:
                events.append((SAVED, save.dataset, save.ended_at, save.duration_s))
        if record.status == "failed":
            events.append(("on_node_error", node, record.finished_at or record.started_at, None))
    events.sort(key=lambda event: event[2])
    for event_type, target, when, duration in events:
        rows.append(
            ("events", (run_id, event_type, target_id(event_type, target), target, when, duration))
        )
    accesses = record.loads if running or not record.announced else []
    for operation, done in (("load", accesses), ("save", [] if running else record.saves)):
        for access in done:
            if access.versioned and access.ended_at is not None:
                rows.append(("dataset_versions", _version_row(record, operation, access)))
    if record.status != "stopped":
        rows.append(("node_runs", _node_row(record)))
    return rows


def _version_row(record: NodeRecord, operation: str, access: DatasetAccess) -> tuple[Any, ...]:
    return (
        record.run_id,
        record.node_name,
        access.dataset,
        operation,
        access.version,
        access.data_digest,
        access.data_kind,
        access.path,
        access.ended_at,
        stats_text(access.stats),
    )


def _node_row(record: NodeRecord) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": node_run_id(record.run_id, record.node_name),
        "run_id": record.run_id,
        "node_name": record.node_name,
        "pid": record.pid,
        "status": record.status,
        "started_at": record.started_at,
    }
    for name, value in (
        ("func_name", record.func_name),
        ("code_hash", record.code_hash),
        ("reason", record.reason),
    ):
        if value is not None:
            row[name] = value
    if record.params_hashes is not None and (record.status == "running" or not record.announced):
        row["params_hashes"] = json_map(record.params_hashes)
    loads = [load for load in record.loads if load.ended_at is not None]
    if record.status == "running" or (loads and not record.announced):
        row["inputs"] = json_map({load.dataset: load.duration_s for load in loads})
        row["input_versions"] = json_map({x.dataset: x.version for x in loads if x.versioned})
    if record.status != "running":
        saves = [save for save in record.saves if save.ended_at is not None]
        finished = record.finished_at or record.ran_until or record.started_at
        row["finished_at"] = finished
        row["duration_s"] = finished - record.started_at
        row["outputs"] = json_map({save.dataset: save.duration_s for save in saves})
        row["output_versions"] = json_map({x.dataset: x.version for x in saves if x.versioned})
    if record.error is not None:
        row["error_type"] = record.error.error_type
        row["error_message"] = record.error.error_message
        row["traceback"] = record.error.traceback
    return row
