"""Reading the journal back: run lists, run details, and finding runs that died.

A run left ``running`` by a process that was killed is turned into ``interrupted``
when its lease expired (no heartbeat for ``lease_seconds``) or, on the same host, as
soon as its process is gone.
"""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime, timedelta
from typing import Any

from waldo._errors import RunNotFound
from waldo.journal._checks import CheckResult, run_checks
from waldo.journal._diff import RunDiff, diff_runs
from waldo.journal._model import (
    DatasetPoint,
    NodePoint,
    NodeRun,
    PipelineNode,
    RunDetail,
    RunFilter,
    RunPage,
    RunSummary,
    stats_nulls,
    stats_rows,
)
from waldo.journal._staleness import LastRun
from waldo.store import Store, executions, pid_alive, queries

LATEST_ALIASES = ("latest", "last", "@")


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False


def _duration(started: datetime | None, finished: datetime | None) -> float | None:
    if started is None or finished is None:
        return None
    return max((finished - started).total_seconds(), 0.0)


def _summary(row: dict[str, Any]) -> RunSummary:
    return RunSummary(
        run_id=row["run_id"],
        kind=row.get("kind") or "kedro",
        status=row["status"],
        started_at=row.get("started_at"),
        finished_at=row.get("finished_at"),
        duration_s=_duration(row.get("started_at"), row.get("finished_at")),
        pipeline_names=list(row.get("pipeline_names") or []),
        env=row.get("env"),
        nodes_ok=int(row.get("nodes_ok") or 0),
        nodes_failed=int(row.get("nodes_failed") or 0),
        nodes_skipped=int(row.get("nodes_skipped") or 0),
        git_sha=row.get("git_sha"),
        git_dirty=row.get("git_dirty"),
        user_name=row.get("user_name"),
        host=row.get("host"),
        runner=row.get("runner"),
        runtime_params=dict(row.get("runtime_params") or {}),
        tags=[str(t) for t in (row.get("run_params") or {}).get("tags") or []],
    )


def _last_run(row: dict[str, Any]) -> LastRun:
    return LastRun(
        run_id=row["run_id"],
        code_hash=row.get("code_hash"),
        params_hashes=dict(row.get("params_hashes") or {}),
        input_versions=dict(row.get("input_versions") or {}),
        output_versions=dict(row.get("output_versions") or {}),
        catalog_hash=row.get("catalog_hash"),
        project_path=row.get("project_path"),
    )


class History:
    """Queries over one store's journal."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def reconcile(self) -> list[str]:
        """Mark runs whose process is gone as ``interrupted``; return their ids.

        Such a run ends when the journal last heard from it (its heartbeat, or a node
        or an event noted since), not when someone noticed; nodes whose end was
        recorded keep their status (see :meth:`run_detail`)."""
        now = time.time()
        here = socket.gethostname()
        dead: list[str] = []
        for run in self.store.run(queries.running_runs):
            lease = run.get("lease_seconds") or 60.0
            last = run.get("heartbeat_at") or run.get("started_at")
            expired = last is not None and now - last.timestamp() > lease
            pid = run.get("pid")
            gone = (
                run.get("host") == here
                and isinstance(pid, int)
                and (not pid_alive(pid) or _is_zombie(pid))
            )
            if expired or gone:
                dead.append(run["run_id"])
        if dead:
            last_heard = self.store.run(queries.last_heard, dead)
            self.store.run(queries.mark_interrupted, {r: last_heard.get(r) for r in dead})
        # DPO executions have no process: they are abandoned when their lease runs out.
        return dead + self.store.run(executions.interrupt_abandoned)

    def runs(
        self,
        limit: int = 20,
        status: str | None = None,
        pipeline: str | None = None,
        kind: str | None = None,
    ) -> list[RunSummary]:
        self.reconcile()
        rows = self.store.run(
            queries.list_runs, limit=limit, status=status, pipeline=pipeline, kind=kind
        )
        return [_summary(r) for r in rows]

    def resolve_run_id(self, text: str) -> str:
        """Accept a full run id, a unique prefix of one, or ``latest``."""
        text = text.strip()
        if text in LATEST_ALIASES:
            latest = self.store.run(queries.latest_run_id)
            if latest is None:
                raise RunNotFound("The journal has no runs yet; run your pipeline first.")
            return latest
        if self.store.run(queries.get_run, text) is not None:
            return text
        matches = self.store.run(queries.run_ids_with_prefix, text) if text else []
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise RunNotFound(
                f"'{text}' matches several runs ({', '.join(matches[:3])}, ...); "
                "give more of the run id."
            )
        raise RunNotFound(f"No run '{text}' in the journal; `waldo runs` lists the runs.")

    def run_detail(self, run_id: str) -> RunDetail:
        self.reconcile()
        run_id = self.resolve_run_id(run_id)
        row = self.store.run(queries.get_run, run_id)
        if row is None:  # pragma: no cover - resolve_run_id checked it
            raise RunNotFound(f"No run '{run_id}' in the journal.")
        node_rows = self.store.run(queries.node_runs_of, run_id)
        counts = {"success": 0, "failed": 0, "skipped": 0}
        nodes: list[NodeRun] = []
        for n in node_rows:
            status = n["status"]
            if status == "running" and row["status"] != "running":
                status = "interrupted"  # the run ended while this node was going
            counts[status] = counts.get(status, 0) + 1
            nodes.append(
                NodeRun(
                    node_name=n["node_name"],
                    status=status,
                    started_at=n.get("started_at"),
                    finished_at=n.get("finished_at"),
                    duration_s=n.get("duration_s"),
                    func_name=n.get("func_name"),
                    inputs=dict(n.get("inputs") or {}),
                    outputs=dict(n.get("outputs") or {}),
                    error_type=n.get("error_type"),
                    error_message=n.get("error_message"),
                    traceback=n.get("traceback"),
                    reason=n.get("reason"),
                    code_hash=n.get("code_hash"),
                )
            )
        summary_row = dict(row)
        summary_row.update(
            nodes_ok=counts["success"],
            nodes_failed=counts["failed"],
            nodes_skipped=counts["skipped"],
        )
        return RunDetail(
            summary=_summary(summary_row),
            runtime_params=dict(row.get("runtime_params") or {}),
            kedro_version=row.get("kedro_version"),
            waldo_version=row.get("waldo_version"),
            project=row.get("project"),
            project_path=row.get("project_path"),
            error_type=row.get("error_type"),
            error_message=row.get("error_message"),
            traceback=row.get("traceback"),
            catalog_hash=row.get("catalog_hash"),
            pipeline_hash=row.get("pipeline_hash"),
            nodes=nodes,
            path_rewrites=list((row.get("run_params") or {}).get("path_rewrites") or []),
            datasets=[
                {
                    "dataset": v["dataset_name"],
                    "node": v.get("node_name"),
                    "version": v.get("version"),
                    "stats": v.get("stats"),
                }
                for v in self.store.run(queries.dataset_versions_of, run_id)
                if v["operation"] == "save"
            ],
        )

    def last_successful_nodes(
        self,
        project: str | None,
        node_names: list[str] | None = None,
        branch: str | None = None,
    ) -> dict[str, list[LastRun]]:
        """What each node's most recent successful run saw (for staleness): on data
        branch ``branch`` first, then on main; on main only without a branch."""
        found = self.store.run(queries.last_successful_node_runs, project, node_names, branch)
        return {name: [_last_run(row) for row in rows] for name, rows in found.items()}

    def catalog_snapshots(self, full_hashes: list[str]) -> dict[str, dict[str, Any]]:
        """The catalog snapshots with these hashes, as stored (secrets masked)."""
        found = self.store.run(queries.catalog_snapshots, full_hashes)
        return {key: dict(value) for key, value in found.items() if isinstance(value, dict)}

    def pipeline_snapshot_of(self, run_id: str) -> dict[str, Any] | None:
        """The content of the pipeline snapshot a run was recorded with, if any."""
        row = self.store.run(queries.get_run, run_id)
        pipeline_hash = row.get("pipeline_hash") if row else None
        return self.store.run(queries.pipeline_snapshot, pipeline_hash) if pipeline_hash else None

    def latest_dataset_versions(
        self, project: str | None, dataset_names: list[str], branch: str | None = None
    ) -> dict[str, str | None]:
        return self.store.run(queries.latest_dataset_versions, project, dataset_names, branch)

    def diff(self, run_a: str, run_b: str) -> RunDiff:
        """Compare two runs (ids, prefixes or ``latest``)."""
        return diff_runs(self.store, self.resolve_run_id(run_a), self.resolve_run_id(run_b))

    def checks(self, run_id: str) -> list[CheckResult]:
        """The data check results of a run (an id, a prefix or ``latest``)."""
        return run_checks(self.store, self.resolve_run_id(run_id))

    def dataset_versions(self, run_id: str) -> list[dict[str, Any]]:
        return self.store.run(queries.dataset_versions_of, self.resolve_run_id(run_id))

    def events(self, run_id: str, event_types: list[str] | None = None) -> list[dict[str, Any]]:
        return self.store.run(queries.events_of, self.resolve_run_id(run_id), event_types)

    # -- browsing: the web page, reports and exports -------------------------------------
    def runs_page(
        self, filters: RunFilter | None = None, page: int = 1, per_page: int = 50
    ) -> RunPage:
        """One page of the run list (newest first) and the number of matching runs."""
        self.reconcile()
        kwargs = (filters or RunFilter()).as_kwargs()
        page = max(1, page)
        rows = self.store.run(
            queries.runs_page, limit=per_page, offset=(page - 1) * per_page, **kwargs
        )
        total = self.store.run(queries.count_runs, **kwargs)
        return RunPage([_summary(r) for r in rows], total, page, per_page)

    def duration_trend(
        self, filters: RunFilter | None = None, limit: int = 200
    ) -> list[RunSummary]:
        """The newest ``limit`` matching runs, oldest first, for a duration chart."""
        kwargs = (filters or RunFilter()).as_kwargs()
        rows = self.store.run(queries.run_durations, limit=limit, **kwargs)
        return [_summary(r) for r in reversed(rows)]

    def previous_run_id(self, detail: RunDetail) -> str | None:
        """The run of the same pipeline that started last before this one, if any."""
        started = detail.summary.started_at
        if started is None:
            return None
        names = detail.summary.pipeline_names
        # A little past its own start: SQLite keeps epoch floats, finer than datetimes,
        # so the run itself (or a run started in the same microsecond) may come back.
        until = started + timedelta(milliseconds=1)
        filters = RunFilter(pipeline=names[0] if names else None, until=until)
        for row in self.store.run(queries.runs_page, limit=5, **filters.as_kwargs()):
            if row["run_id"] != detail.summary.run_id and row["started_at"] <= started:
                return str(row["run_id"])
        return None

    def pipeline_names(self) -> list[str]:
        """Every pipeline name a run was recorded with, sorted."""
        names: set[str] = set()
        for value in self.store.run(queries.pipeline_name_lists):
            found = json.loads(value) if isinstance(value, str) else value
            names.update(str(n) for n in found or [])
        return sorted(names)

    def catalog(self, detail: RunDetail) -> dict[str, dict[str, Any]]:
        """The run's catalog snapshot: each dataset's configuration by name ({} if none)."""
        if not detail.catalog_hash:
            return {}
        content = self.store.run(queries.catalog_snapshot, detail.catalog_hash) or {}
        return {str(k): dict(v) for k, v in content.items() if isinstance(v, dict)}

    def pipeline_nodes(self, detail: RunDetail) -> list[PipelineNode]:
        """The nodes of a run's pipeline, in the snapshot's (topological) order.

        Nodes the run recorded but the snapshot lacks (or runs without a snapshot, such
        as DPO executions) are added from the node runs, with the datasets they read and
        wrote, so the graph is never empty.
        """
        content = (
            self.store.run(queries.pipeline_snapshot, detail.pipeline_hash)
            if detail.pipeline_hash
            else None
        )
        nodes = [
            PipelineNode(
                name=str(n["name"]),
                func=n.get("func"),
                inputs=[str(i) for i in n.get("inputs") or []],
                outputs=[str(o) for o in n.get("outputs") or []],
                tags=[str(t) for t in n.get("tags") or []],
                namespace=n.get("namespace") or None,
            )
            for n in (content or {}).get("nodes") or []
        ]
        known = {n.name for n in nodes}
        for run in detail.nodes:
            if run.node_name not in known:
                nodes.append(
                    PipelineNode(run.node_name, run.func_name, list(run.inputs), list(run.outputs))
                )
        return nodes

    def run_ids_between(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[str]:
        """Ids of the runs started in [since, until), oldest first."""
        self.reconcile()
        return self.store.run(queries.run_ids_between, since, until)

    # -- the web page's charts ------------------------------------------------------------
    def run_kinds(self) -> list[str]:
        """Every kind of run recorded (kedro, dpo, collected...), sorted."""
        return self.store.run(queries.run_kinds)

    def last_activity(self, run_id: str) -> datetime | None:
        """When a run was last seen alive (heartbeat, node start or end, dataset saved)."""
        return self.store.run(queries.run_last_activity, self.resolve_run_id(run_id))

    def node_history(
        self, project: str | None, node: str, limit: int = 50, until: datetime | None = None
    ) -> list[NodePoint]:
        """A node's last ``limit`` runs in a project started by ``until``, oldest first."""
        rows = self.store.run(queries.node_history, project, node, limit, until)
        points = []
        for row in reversed(rows):
            counted = [stats_rows(s) for s in row["stats"]]
            rows_written = [n for n in counted if n is not None]
            points.append(
                NodePoint(
                    run_id=row["run_id"],
                    status=row["status"],
                    started_at=row.get("started_at"),
                    duration_s=row.get("duration_s"),
                    rows=sum(rows_written) if rows_written else None,
                )
            )
        return points

    def dataset_history(
        self,
        project: str | None,
        datasets: list[str],
        limit: int = 50,
        until: datetime | None = None,
    ) -> dict[str, list[DatasetPoint]]:
        """The last ``limit`` saves by ``until`` of each dataset in a project, oldest first."""
        found: dict[str, list[DatasetPoint]] = {name: [] for name in datasets}
        for row in self.store.run(queries.dataset_saves, project, datasets, limit, until):
            found[row["dataset_name"]].append(
                DatasetPoint(
                    dataset=row["dataset_name"],
                    run_id=row["run_id"],
                    recorded_at=row.get("recorded_at"),
                    rows=stats_rows(row.get("stats")),
                    nulls=stats_nulls(row.get("stats")),
                )
            )
        for points in found.values():
            points.reverse()
        return found
