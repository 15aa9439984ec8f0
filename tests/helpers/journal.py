"""Filling a journal the way the Kedro hooks do: a NodeRecord per node, handed to
``Recorder.record_node`` as the node starts to run and when it ends."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from waldo.journal import (
    DatasetAccess,
    ErrorFields,
    NodeRecord,
    Recorder,
    RunInfo,
    Settings,
    get_recorder,
    resolve_settings,
)

STEP = 0.001  # seconds each load and save takes
# When the last run recorded here ended: runs recorded one after another never overlap
# (their steps are timed ahead of the clock by a few STEPs).
_last_end = 0.0


def settings_for(url: str, project: Path, **conf: object) -> Settings:
    """Settings for a store URL with the spool inside ``project`` (no environment)."""
    return resolve_settings(project, {"store": url, **conf}, environ={})


def start_node(
    recorder: Recorder,
    run_id: str,
    name: str,
    func: str | None = None,
    started: float | None = None,
    inputs: Sequence[str] = (),
) -> NodeRecord:
    """A node loads its ``inputs`` and starts to run: its live row is recorded."""
    started = time.time() if started is None else started
    record = NodeRecord(run_id, name, os.getpid(), started, func_name=func)
    for at, dataset in enumerate(inputs):
        load = DatasetAccess(dataset, started + STEP * at, started + STEP * (at + 1))
        record.loads.append(load)
    record.ran_at = started + STEP * len(record.loads)
    recorder.record_node(record)
    return record


def end_node(
    recorder: Recorder,
    record: NodeRecord,
    *,
    error: BaseException | None = None,
    outputs: Sequence[str] = (),
    took: float = 0.01,
) -> None:
    """A started node ends ``took`` seconds after it started: its function returned and
    its ``outputs`` were saved (each in ``STEP`` seconds), or it raised ``error``."""
    finished = max(record.started_at + took, (record.ran_at or 0.0) + STEP * (1 + len(outputs)))
    record.finished_at = finished
    if error is not None:
        record.status, record.error = "failed", ErrorFields.of(error)
    else:
        record.status = "success"
        record.ran_until = finished - STEP * len(outputs)
        for at, dataset in enumerate(outputs):
            started = record.ran_until + STEP * at
            record.saves.append(DatasetAccess(dataset, started, started + STEP))
    recorder.record_node(record)


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
    """A whole run: its start, each node (reading ``raw``, saving ``<node>_out``), its end."""
    global _last_end
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
    clock = max(time.time(), _last_end + STEP)
    recorder.update_run(run_id, started_at=clock, heartbeat_at=clock)
    recorder.event(run_id, "before_pipeline_run", pipeline, timestamp=clock)
    error: BaseException | None = None
    for name in nodes:
        record = start_node(recorder, run_id, name, f"nodes.{name}", clock, ["raw"])
        if name == fail_at:
            try:
                raise ValueError(f"{name} failed on purpose")
            except ValueError as exc:
                error = exc
            end_node(recorder, record, error=error)
        else:
            end_node(recorder, record, outputs=[f"{name}_out"])
        clock = record.finished_at or clock
        if error is not None:
            break
    clock += STEP
    if error is None:
        recorder.event(run_id, "after_pipeline_run", pipeline, timestamp=clock)
        recorder.end_run(run_id, "success")
    else:
        recorder.event(run_id, "on_pipeline_error", pipeline, timestamp=clock)
        recorder.end_run(run_id, "failed", error)
    recorder.update_run(run_id, finished_at=clock, heartbeat_at=clock)
    _last_end = clock
    if flush:
        recorder.flush()


def recorder_for(url: str, project: Path) -> Recorder:
    return get_recorder(settings_for(url, project))
