"""The journal's domain objects: what a run, a node run and a run summary are."""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

RunStatus = Literal["running", "success", "failed", "interrupted"]
NodeStatus = Literal["running", "success", "failed", "skipped", "interrupted"]
RUN_STATUSES: tuple[str, ...] = ("running", "success", "failed", "interrupted")


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")


@dataclass
class RunInfo:
    """Everything known about a run when it starts."""

    run_id: str
    kind: str = "kedro"
    project: str | None = None
    project_path: str | None = None
    pipeline_names: list[str] = field(default_factory=list)
    env: str | None = None
    runtime_params: dict[str, Any] = field(default_factory=dict)
    run_params: dict[str, Any] = field(default_factory=dict)
    kedro_version: str | None = None
    git_sha: str | None = None
    git_dirty: bool | None = None
    user_name: str = field(default_factory=current_user)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    runner: str | None = None
    catalog_hash: str | None = None
    pipeline_hash: str | None = None


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass
class NodeRun:
    """One node (step) of a run as the journal saw it."""

    node_name: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    func_name: str | None = None
    inputs: dict[str, float | None] = field(default_factory=dict)
    outputs: dict[str, float | None] = field(default_factory=dict)
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    reason: str | None = None
    code_hash: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: _iso(v) for k, v in asdict(self).items()}


@dataclass
class RunSummary:
    """A run as listed by ``waldo runs``."""

    run_id: str
    kind: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    pipeline_names: list[str]
    env: str | None
    nodes_ok: int
    nodes_failed: int
    nodes_skipped: int
    git_sha: str | None
    git_dirty: bool | None
    user_name: str | None
    host: str | None
    runner: str | None
    runtime_params: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)  # the run's ``--tags``

    def to_json(self) -> dict[str, Any]:
        return {k: _iso(v) for k, v in asdict(self).items()}


@dataclass
class RunDetail:
    """A run with all its nodes, as shown by ``waldo show``."""

    summary: RunSummary
    runtime_params: dict[str, Any]
    kedro_version: str | None
    waldo_version: str | None
    project: str | None
    project_path: str | None
    error_type: str | None
    error_message: str | None
    traceback: str | None
    catalog_hash: str | None
    pipeline_hash: str | None
    nodes: list[NodeRun]
    path_rewrites: list[dict[str, str]] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = self.summary.to_json()
        data.update(
            {
                "runtime_params": self.runtime_params,
                "kedro_version": self.kedro_version,
                "waldo_version": self.waldo_version,
                "project": self.project,
                "project_path": self.project_path,
                "error_type": self.error_type,
                "error_message": self.error_message,
                "traceback": self.traceback,
                "catalog_hash": self.catalog_hash,
                "pipeline_hash": self.pipeline_hash,
                "path_rewrites": self.path_rewrites,
                "datasets_written": self.datasets,
                "nodes": [n.to_json() for n in self.nodes],
            }
        )
        return data


@dataclass(frozen=True)
class RunFilter:
    """Which runs a listing shows: by status, pipeline, start time, kind, a ``--tags``
    tag, or a runtime parameter's value (dotted key, value as typed); all optional."""

    status: str | None = None
    pipeline: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    kind: str | None = None
    tag: str | None = None
    param: tuple[str, str] | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunPage:
    """One page of a (possibly long) run list, and how many runs match in all."""

    runs: list[RunSummary]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass
class PipelineNode:
    """A node as the run's pipeline snapshot describes it: what it reads and writes."""

    name: str
    func: str | None
    inputs: list[str]
    outputs: list[str]
    tags: list[str] = field(default_factory=list)
    namespace: str | None = None  # a Kedro namespace ("a.b"), if the node has one


def stats_rows(stats: Any) -> int | None:
    """The row count in a dataset's statistics, if it has one."""
    rows = stats.get("rows") if isinstance(stats, dict) else None
    return int(rows) if isinstance(rows, (int, float)) and not isinstance(rows, bool) else None


def stats_nulls(stats: Any) -> int | None:
    """The nulls of all columns in a dataset's statistics, if it counted them."""
    nulls = stats.get("nulls") if isinstance(stats, dict) else None
    if not isinstance(nulls, dict):
        return None
    return sum(int(n) for n in nulls.values() if isinstance(n, (int, float)))


@dataclass
class NodePoint:
    """One run of a node, for its charts: when its run started, how long the node took,
    how many rows it wrote."""

    run_id: str
    status: str
    started_at: datetime | None  # the run's start
    duration_s: float | None
    rows: int | None  # summed over the outputs whose statistics count rows


@dataclass
class DatasetPoint:
    """One save of a dataset, for its rows chart."""

    dataset: str
    run_id: str
    recorded_at: datetime | None
    rows: int | None
    nulls: int | None
