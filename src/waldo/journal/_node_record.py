"""What an integration notes about one node while it runs: one record, named fields.

The Kedro hooks keep one :class:`NodeRecord` per running node and add to it as the node
loads, runs and saves; when the node ends the record goes to ``Recorder.record_node``,
which turns it into ``events``, ``node_runs`` and ``dataset_versions`` rows for the
background writer. The record holds plain values only (an exception is described
when it happens), so it can be written later, in any thread, or spooled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

NodeRecordStatus = Literal["running", "success", "failed"]


@dataclass(slots=True)
class DatasetAccess:
    """One load or save of a dataset by a node, with the version it saw or wrote."""

    dataset: str
    started_at: float  # before_dataset_loaded / before_dataset_saved
    ended_at: float | None = None  # after_dataset_loaded / after_dataset_saved
    version: str | None = None  # what staleness compares; None: not fingerprinted
    data_digest: str | None = None  # fingerprint of the value, for data not on disk
    data_kind: str | None = None  # "file", "dataframe", ... (waldo.fingerprint)
    path: str | None = None  # the local file or folder really read or written
    stats: dict[str, Any] | None = None  # saves only: rows, columns, schema, bytes...

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass(slots=True)
class ErrorFields:
    """A node's error as text (an exception holds frames: described when it happens)."""

    error_type: str
    error_message: str
    traceback: str


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
    ran_until: float | None = None  # after_node_run, or on_node_error
    finished_at: float | None = None  # its last save ended (or ran_until without outputs)
    loads: list[DatasetAccess] = field(default_factory=list)
    saves: list[DatasetAccess] = field(default_factory=list)
    error: ErrorFields | None = None
