"""dbt artifacts: invocations and node results from ``run_results.json`` + ``manifest.json``.

Context::

    {"db_url": "sqlite:///.waldo/waldo.db",
     "connection": {"path": "path/to/dbt/project/target"}}

Every ``run_results.json`` under ``path`` is one dbt invocation (``dbt run``, ``dbt
build``, ``dbt test``...): ``target/`` itself, or a folder where a job archives the
artifacts of each run. Its ``manifest.json`` (next to it, else in ``path``) gives each
node's name, type and file. An invocation becomes a ``cicd_pipelines`` row and each node
result a ``cicd_tasks`` row. Collection is incremental by file: an artifact file that
has not changed since the last collection is not read again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlmodel import Field

from waldo._errors import InvalidInput
from waldo.collect.context import Context
from waldo.collect.domain_layer import devops
from waldo.collect.model import Connection, DomainModel, ToolModel
from waldo.collect.plugin import Plugin
from waldo.collect.stream import DomainType, Records, Stream

__all__ = ["DbtArtifacts", "DbtConnection", "DbtInvocation", "DbtNodeResult"]

#: dbt node statuses -> DevLake results.
RESULTS = {
    "success": devops.SUCCESS,
    "pass": devops.SUCCESS,
    "warn": devops.SUCCESS,
    "error": devops.FAILURE,
    "fail": devops.FAILURE,
    "runtime error": devops.FAILURE,
    "skipped": devops.ABORT,
}
TASK_TYPES = {"test": devops.TEST, "unit_test": devops.TEST}


class DbtConnection(Connection):
    """A folder with dbt artifacts (a project's ``target/`` or an archive of runs)."""

    path: str


class DbtInvocation(ToolModel, table=True):
    __tablename__ = "_tool_dbt_invocations"

    invocation_id: str = Field(primary_key=True)
    command: str | None = None
    project: str | None = None
    dbt_version: str | None = None
    generated_at: datetime | None = None
    started_at: datetime | None = None
    elapsed_time: float | None = None
    nodes: int = 0
    failed: int = 0
    skipped: int = 0


class DbtNodeResult(ToolModel, table=True):
    __tablename__ = "_tool_dbt_node_results"

    invocation_id: str = Field(primary_key=True)
    unique_id: str = Field(primary_key=True)
    name: str | None = None
    resource_type: str | None = None
    path: str | None = None
    status: str | None = None
    message: str | None = None
    execution_time: float | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"Cannot read dbt artifact {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} is not a dbt artifact (not a JSON object).")
    return data


class _Artifact(NamedTuple):
    path: Path  # the run_results.json file
    version: str  # its size and mtime, to notice when it changes
    run: dict[str, Any]  # its content
    nodes: dict[str, Any]  # the manifest's nodes, by unique id
    project: str | None  # the manifest's project name


def _artifacts(context: Context, state: dict[str, Any]) -> Iterator[_Artifact]:
    """Changed ``run_results.json`` files under the connection's path, oldest first,
    with their file version (size and mtime) and the nodes of the manifest beside them
    (or at the root)."""
    root = Path(context.connection.path).expanduser()  # type: ignore[attr-defined]
    if not root.is_dir():
        raise InvalidInput(f"The dbt artifacts folder {root} does not exist.")
    seen: dict[str, str] = state.get("files", {})
    found = sorted(root.rglob("run_results.json"), key=lambda p: p.stat().st_mtime_ns)
    for path in found:
        info = path.stat()
        version = f"{info.st_size}:{info.st_mtime_ns}"
        if seen.get(str(path)) != version:
            run = _read_json(path)
            nodes, project = _manifest_nodes(path, root)
            yield _Artifact(path, version, run, nodes, project)


def _manifest_nodes(run_results: Path, root: Path) -> tuple[dict[str, Any], str | None]:
    for candidate in (run_results.with_name("manifest.json"), root / "manifest.json"):
        if candidate.is_file():
            manifest = _read_json(candidate)
            meta = manifest.get("metadata", {})
            return dict(manifest.get("nodes", {})), meta.get("project_name")
    return {}, None


def _timing(result: dict[str, Any]) -> tuple[str | None, str | None]:
    steps = [t for t in result.get("timing") or [] if t.get("started_at")]
    if not steps:
        return None, None
    return min(t["started_at"] for t in steps), max(t.get("completed_at") or "" for t in steps)


def _project(context: Context, manifest_project: str | None) -> str:
    return manifest_project or context.scope_id or Path(context.connection.path).name  # type: ignore[attr-defined]


class Invocations(Stream):
    """One record per ``run_results.json``: the dbt command and how it went."""

    tool_model = DbtInvocation
    domain_types = [DomainType.CICD]

    def collect(self, state: dict[str, Any], context: Context) -> Records:
        files = dict(state.get("files", {}))
        for path, version, run, _nodes, project in _artifacts(context, state):
            meta = run.get("metadata", {})
            results = run.get("results") or []
            starts = [s for s, _ in map(_timing, results) if s]
            files[str(path)] = version
            yield (
                {
                    "invocation_id": meta.get("invocation_id") or str(path),
                    "command": (run.get("args") or {}).get("which"),
                    "project": _project(context, project),
                    "dbt_version": meta.get("dbt_version"),
                    "generated_at": meta.get("generated_at"),
                    "started_at": min(starts) if starts else None,
                    "elapsed_time": run.get("elapsed_time"),
                    "nodes": len(results),
                    "failed": sum(RESULTS.get(r.get("status")) == devops.FAILURE for r in results),
                    "skipped": sum(r.get("status") == "skipped" for r in results),
                },
                {"files": dict(files)},
            )

    def convert(self, run: DbtInvocation, context: Context) -> Iterable[DomainModel]:
        scope_id = context.domain_id("dbt", "DbtProject", run.project)
        yield devops.CICDScope(id=scope_id, name=run.project)
        started = run.started_at or run.generated_at
        yield devops.CICDPipeline(
            id=self.domain_id(run.invocation_id, context=context),
            name=f"dbt {run.command}" if run.command else "dbt",
            display_title=run.project,
            result=devops.FAILURE if run.failed else devops.SUCCESS,
            status=devops.DONE,
            original_result=f"{run.nodes - run.failed - run.skipped} ok, {run.failed} failed, "
            f"{run.skipped} skipped",
            type=devops.BUILD,
            created_date=started,
            started_date=started,
            finished_date=run.generated_at,
            duration_sec=run.elapsed_time,
            cicd_scope_id=scope_id,
        )


class NodeResults(Stream):
    """One record per node result of each invocation (models, tests, seeds...)."""

    tool_model = DbtNodeResult
    domain_types = [DomainType.CICD]

    def collect(self, state: dict[str, Any], context: Context) -> Records:
        files = dict(state.get("files", {}))
        for path, version, run, nodes, _project in _artifacts(context, state):
            invocation = run.get("metadata", {}).get("invocation_id") or str(path)
            results = run.get("results") or []
            for index, result in enumerate(results):
                node = nodes.get(result.get("unique_id"), {})
                started, completed = _timing(result)
                if index == len(results) - 1:
                    files[str(path)] = version  # the file is done with its last result
                yield (
                    {
                        "invocation_id": invocation,
                        "unique_id": result.get("unique_id"),
                        "name": node.get("name") or str(result.get("unique_id", "")).split(".")[-1],
                        "resource_type": node.get("resource_type")
                        or str(result.get("unique_id", "")).split(".")[0],
                        "path": node.get("original_file_path"),
                        "status": result.get("status"),
                        "message": result.get("message"),
                        "execution_time": result.get("execution_time"),
                        "started_at": started,
                        "completed_at": completed,
                    },
                    {"files": dict(files)},
                )

    def convert(self, node: DbtNodeResult, context: Context) -> Iterable[DomainModel]:
        yield devops.CICDTask(
            id=self.domain_id(node.invocation_id, node.unique_id, context=context),
            name=node.name,
            pipeline_id=context.domain_id("dbt", "DbtInvocation", node.invocation_id),
            result=RESULTS.get(node.status or ""),
            status=devops.DONE,
            original_result=node.status,
            type=TASK_TYPES.get(node.resource_type or "", devops.BUILD),
            created_date=node.started_at,
            started_date=node.started_at,
            finished_date=node.completed_at,
            duration_sec=node.execution_time,
        )


class DbtArtifacts(Plugin):
    """dbt invocations and node results, from run_results.json and manifest.json."""

    name = "dbt"

    @property
    def connection_type(self) -> type[DbtConnection]:
        return DbtConnection

    @property
    def streams(self) -> list[type[Stream]]:
        return [Invocations, NodeResults]

    def test_connection(self, connection: DbtConnection) -> None:
        if not Path(connection.path).expanduser().is_dir():
            raise InvalidInput(f"The dbt artifacts folder {connection.path} does not exist.")
