"""Filling a journal through the Recorder's step-by-step API (node_started,
node_finished, event); the Kedro plugin's node trails are tested in test_trail.py and
by the end-to-end runs."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from waldo.journal import Recorder, RunInfo, Settings, get_recorder, resolve_settings


def settings_for(url: str, project: Path, **conf: object) -> Settings:
    """Settings for a store URL with the spool inside ``project`` (no environment)."""
    return resolve_settings(project, {"store": url, **conf}, environ={})


def record_run(
    recorder: Recorder,
    run_id: str,
    nodes: Sequence[str] = ("load", "clean", "train"),
    *,
    fail_at: str | None = None,
    pipeline: str = "__default__",
    params: dict[str, object] | None = None,
    flush: bool = True,
) -> None:
    """A whole run: start, a node_started/node_finished pair and events per node, end."""
    recorder.start_run(
        RunInfo(
            run_id=run_id,
            project="demo",
            pipeline_names=[pipeline],
            env="local",
            runtime_params=params or {},
            runner="SequentialRunner",
        )
    )
    recorder.event(run_id, "before_pipeline_run", pipeline)
    error: BaseException | None = None
    for name in nodes:
        started = time.time()
        recorder.node_started(run_id, name, f"nodes.{name}", started)
        recorder.event(run_id, "before_node_run", name)
        if name == fail_at:
            try:
                raise ValueError(f"{name} failed on purpose")
            except ValueError as exc:
                error = exc
            recorder.node_finished(run_id, name, "failed", started, error=error)
            recorder.event(run_id, "on_node_error", name)
            break
        recorder.event(run_id, "after_dataset_saved", f"{name}_out", duration_s=0.01)
        recorder.node_finished(
            run_id, name, "success", started, inputs={"raw": 0.01}, outputs={f"{name}_out": 0.01}
        )
        recorder.event(run_id, "after_node_run", name)
    if error is None:
        recorder.event(run_id, "after_pipeline_run", pipeline)
        recorder.end_run(run_id, "success")
    else:
        recorder.event(run_id, "on_pipeline_error", pipeline)
        recorder.end_run(run_id, "failed", error)
    if flush:
        recorder.flush()


def recorder_for(url: str, project: Path) -> Recorder:
    return get_recorder(settings_for(url, project))
