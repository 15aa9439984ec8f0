"""What the hooks know of the run as a whole: its description for the journal, and the
context a ParallelRunner worker adopts to record under its parent's run.

The parent publishes the run id and store settings in the ``WALDO_RUN_CONTEXT``
environment variable before the workers start (fork and spawn both inherit it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waldo.journal import RunInfo, Settings
from waldo.kedro._snapshots import runner_name

RUN_CONTEXT_ENV = "WALDO_RUN_CONTEXT"
#: The settings of ``waldo.yml`` a worker needs from its parent.
WORKER_SETTINGS = ("fingerprints", "checks", "on_failure")


@dataclass
class AdoptedRun:
    """The parent's run as a worker records under it."""

    run_id: str
    settings: Settings
    checked_datasets: list[str] = field(default_factory=list)  # a spawned worker checks


def publish_context(run_id: str, settings: Settings, checked_datasets: Sequence[str]) -> None:
    """Let the run's worker processes record under it (and check what they save)."""
    os.environ[RUN_CONTEXT_ENV] = json.dumps(
        {
            "run_id": run_id,
            "store_url": settings.store_url,
            "project_path": str(settings.project_path),
            "spool_dir": str(settings.spool_dir),
            "strict": settings.strict,
            "heartbeat_seconds": settings.heartbeat_seconds,
            "extra": {k: v for k, v in settings.extra.items() if k in WORKER_SETTINGS},
            "checked_datasets": list(checked_datasets),
        }
    )


def withdraw_context() -> None:
    os.environ.pop(RUN_CONTEXT_ENV, None)


def adopted_context(raw: str) -> AdoptedRun:
    """The run a worker records under, from the published context."""
    data = json.loads(raw)
    settings = Settings(
        store_url=data["store_url"],
        project_path=Path(data["project_path"]),
        spool_dir=Path(data["spool_dir"]),
        strict=bool(data["strict"]),
        heartbeat_seconds=float(data["heartbeat_seconds"]),
        source="parent run",
        extra=data.get("extra") or {},
    )
    return AdoptedRun(str(data["run_id"]), settings, list(data.get("checked_datasets") or []))


def run_info(
    run_params: dict[str, Any],
    project: str,
    project_path: Path,
    git: tuple[str | None, bool | None],
    hashes: tuple[str | None, str],
    paths: tuple[Any, Any],
) -> RunInfo:
    """The run's row: Kedro's run parameters, git state, ``(catalog, pipeline)``
    snapshot hashes and ``(path_rewrites, data_branch)``."""
    import kedro

    names = list(run_params.get("pipeline_names") or ["__default__"])
    skipped = ("runtime_params", "run_id", "project_path")
    return RunInfo(
        run_id=str(run_params["run_id"]),
        kind="kedro",
        project=project,
        project_path=str(project_path),
        pipeline_names=names,
        env=run_params.get("env") or "local",
        runtime_params=dict(run_params.get("runtime_params") or {}),
        run_params={
            **{k: v for k, v in run_params.items() if k not in skipped},
            "path_rewrites": paths[0],
            "data_branch": paths[1],
        },
        kedro_version=run_params.get("kedro_version") or kedro.__version__,
        git_sha=git[0],
        git_dirty=git[1],
        runner=runner_name(run_params),
        catalog_hash=hashes[0],
        pipeline_hash=hashes[1],
    )
