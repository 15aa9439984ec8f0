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

STEP = 0.01  # seconds each load and save takes


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
    """A started node ends: its function returned and its ``outputs`` were saved (each
    in ``STEP`` seconds), or it raised ``error``."""
    ran_until = max(record.started_at + took, record.ran_at or 0.0)
    if error is not None:
        record.status, record.error, record.finished_at = "failed", ErrorFields.of(error), ran_until
    else:
        record.ran_until = ran_until
        for at, dataset in enumerate(outputs):
            save = DatasetAccess(dataset, ran_until + STEP * at, ran_until + STEP * (at + 1))
            record.saves.append(save)
        record.status = "success"
        record.finished_at = ran_until + STEP * len(outputs)
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
    clock = time.time() - 4 * STEP * len(nodes)  # the nodes' steps end by now
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
            break
        end_node(recorder, record, outputs=[f"{name}_out"])
        clock = record.finished_at or clock
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
