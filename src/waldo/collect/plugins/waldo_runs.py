"""Waldo's own runs (Kedro runs, DPO executions) into the CI/CD domain layer.

With this collector, ``cicd_pipelines`` lists every pipeline run of a team, whatever
ran it: a Kedro run recorded by Waldo's hooks sits next to the GitHub Actions workflow
run that started it and the dbt invocation it triggered. Runs become pipelines, node
runs become tasks, and a run's git commit becomes a pipeline commit.

Context::

    {"db_url": "sqlite:///.waldo/waldo.db", "connection": {}}

The runs are read from ``connection.journal_url`` (default: ``db_url``, the same
store). A run is collected once, when it has finished (success, failed or
interrupted), so each run is one raw row. Collection is incremental: it resumes at the
oldest run that was still unfinished last time (or the newest run), skipping the
finished runs from there on that it already collected.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field

from waldo.collect.context import Context
from waldo.collect.domain_layer import devops
from waldo.collect.model import Connection, DomainModel, ToolModel, ToolScope
from waldo.collect.plugin import Plugin
from waldo.collect.stream import DomainType, Records, Stream
from waldo.journal import CollectorJournal

__all__ = ["WaldoConnection", "WaldoRun", "WaldoRuns"]

#: Waldo's run and node statuses -> DevLake's (result, status).
OUTCOMES: dict[str, tuple[str | None, str]] = {
    "success": (devops.SUCCESS, devops.DONE),
    "failed": (devops.FAILURE, devops.DONE),
    "interrupted": (devops.ABORT, devops.DONE),
    "running": (None, devops.IN_PROGRESS),
    "pending": (None, devops.IN_PROGRESS),
    "skipped": (None, devops.OTHER),
}
FINISHED = {"success", "failed", "interrupted"}
PAGE = 1_000


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class WaldoConnection(Connection):
    """Which Waldo journal to read (default: the store being written)."""

    journal_url: str | None = None


class WaldoRun(ToolModel, table=True):
    __tablename__ = "_tool_waldo_runs"

    run_id: str = Field(primary_key=True)
    kind: str | None = None
    project: str | None = None
    pipeline_names: list[str] | None = Field(default=None, sa_type=JSON)
    env: str | None = None
    runner: str | None = None
    status: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    git_sha: str | None = None
    error_message: str | None = None
    node_runs: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)


class Runs(Stream):
    """Every run of the journal with its node runs, oldest first."""

    tool_model = WaldoRun
    domain_types = [DomainType.CICD]

    def collect(self, state: dict[str, Any], context: Context) -> Records:
        url = getattr(context.connection, "journal_url", None) or context.db_url
        journal = CollectorJournal.for_url(url)
        cursor: float | None = state.get("since")
        done: dict[str, float] = dict(state.get("done", {}))  # run id -> its start
        open_since: float | None = None
        while True:
            runs = journal.runs_since(cursor, PAGE)
            for run in runs:
                started = _epoch(run.get("started_at"))
                if run.get("status") not in FINISHED:
                    if open_since is None:
                        open_since = started
                    continue
                if run["run_id"] in done or started is None:
                    continue
                done[run["run_id"]] = started
                yield _raw(run), _next_state(open_since, started, done)
            if len(runs) < PAGE:
                return
            last = _epoch(runs[-1].get("started_at"))
            if last is None or last == cursor:
                return  # a page of runs all started at the same instant: stop, do not loop
            cursor = last

    def convert(self, run: WaldoRun, context: Context) -> Iterable[DomainModel]:
        pipeline_id = self.domain_id(run.run_id, context=context)
        scope_id = context.domain_id("waldo", "WaldoProject", run.project or "")
        result, status = OUTCOMES.get(run.status or "", (None, devops.OTHER))
        started, finished = _aware(run.started_at), _aware(run.finished_at)
        yield devops.CICDScope(id=scope_id, name=run.project)
        yield devops.CICDPipeline(
            id=pipeline_id,
            name=", ".join(run.pipeline_names or []) or run.project,
            display_title=run.project,
            result=result,
            status=status,
            original_status=run.status,
            type=run.kind,
            environment=run.env,
            created_date=started,
            started_date=started,
            finished_date=finished if status == devops.DONE else None,
            duration_sec=_seconds(started, finished),
            cicd_scope_id=scope_id,
        )
        if run.git_sha:
            yield devops.CICDPipelineCommit(
                pipeline_id=pipeline_id, commit_sha=run.git_sha, repo_id=scope_id
            )
        for node in run.node_runs or []:
            node_result, node_status = OUTCOMES.get(node.get("status") or "", (None, "OTHER"))
            node_start = _aware(_parse(node.get("started_at")))
            node_end = _aware(_parse(node.get("finished_at")))
            yield devops.CICDTask(
                id=context.domain_id("waldo", "WaldoNodeRun", node["id"]),
                name=node.get("node_name"),
                pipeline_id=pipeline_id,
                result=node_result,
                status=node_status,
                original_status=node.get("status"),
                type=run.kind,
                environment=run.env,
                created_date=node_start,
                started_date=node_start,
                finished_date=node_end if node_status == devops.DONE else None,
                duration_sec=node.get("duration_s"),
                cicd_scope_id=scope_id,
            )


def _next_state(open_since: float | None, started: float, done: dict[str, float]) -> dict[str, Any]:
    """Resume at the first unfinished run (else at the run just collected), remembering
    the finished runs from there on so that none is collected twice."""
    since = started if open_since is None else min(open_since, started)
    return {"since": since, "done": {k: v for k, v in done.items() if v >= since}}


def _parse(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _raw(run: dict[str, Any]) -> dict[str, Any]:
    """A journal run as a JSON-able record (timestamps as ISO text)."""

    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    record = {k: plain(v) for k, v in run.items() if k != "node_runs"}
    record["node_runs"] = [
        {
            k: plain(node.get(k))
            for k in ("id", "node_name", "status", "started_at", "finished_at", "duration_s")
        }
        for node in run.get("node_runs", [])
    ]
    return record


class WaldoRuns(Plugin):
    """Waldo's own runs (Kedro, DPO) as CI/CD pipelines and tasks."""

    name = "waldo"

    @property
    def connection_type(self) -> type[WaldoConnection]:
        return WaldoConnection

    @property
    def tool_scope_type(self) -> type[ToolScope]:
        return ToolScope

    @property
    def streams(self) -> list[type[Stream]]:
        return [Runs]
