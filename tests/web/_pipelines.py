"""Pipelines for the web page's tests and benchmark, recorded through the Recorder API.

``generated_pipeline`` makes a seeded random DAG shaped like a big Kedro project: layers
of nodes reading one to three outputs of earlier layers (some far above, so edges span
many layers), parameters, optional namespaces. ``record_pipeline_run`` records a run of
it: the pipeline snapshot, then each node started and finished (or failed).
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

from waldo.journal import Recorder, RunInfo


def generated_pipeline(
    count: int,
    *,
    width: int = 12,
    seed: int = 7,
    namespaces: int = 0,
    far: float = 0.25,
) -> list[dict[str, Any]]:
    """``count`` nodes in layers of about ``width``; with ``namespaces`` > 0 the nodes
    are spread over that many namespaces (``ns_0``...), in runs of consecutive nodes."""
    rng = random.Random(seed)
    nodes: list[dict[str, Any]] = []
    for i in range(count):
        layer = i // width
        inputs: list[str] = []
        if layer == 0:
            inputs.append(f"raw_{i % 3}")
        else:
            above = range((layer - 1) * width, layer * width)
            inputs.append(f"out_{rng.choice(above)}")
            for _ in range(rng.randint(0, 2)):
                pick = rng.randrange(0, layer * width) if rng.random() < far else rng.choice(above)
                inputs.append(f"out_{pick}")
        if rng.random() < 0.3:
            inputs.append(f"params:p{rng.randrange(5)}")
        node: dict[str, Any] = {
            "name": f"node_{i:04d}",
            "func": "pipeline.nodes.work",
            "inputs": sorted(set(inputs)),
            "outputs": [f"out_{i}"],
            "tags": [],
        }
        if namespaces:
            namespace = f"ns_{i * namespaces // count}"
            node["namespace"] = namespace
            node["name"] = f"{namespace}.{node['name']}"
        nodes.append(node)
    return nodes


def record_pipeline_run(
    recorder: Recorder,
    run_id: str,
    nodes: Sequence[Mapping[str, Any]],
    *,
    project: str = "generated",
    fail: str | None = None,
    durations: Mapping[str, float] | None = None,
    params: dict[str, Any] | None = None,
    end: bool = True,
) -> None:
    """A run of ``nodes``: each node started and finished in order (``fail`` raises in
    that node and ends the run failed); ``durations`` sets how long nodes took."""
    pipeline_hash = recorder.snapshot("pipelines", {"nodes": list(nodes)}, name="generated")
    recorder.start_run(
        RunInfo(
            run_id=run_id,
            project=project,
            pipeline_names=["__default__"],
            runtime_params=params or {},
            pipeline_hash=pipeline_hash,
        )
    )
    error: BaseException | None = None
    for node in nodes:
        name = node["name"]
        took = (durations or {}).get(name, 0.01)
        started = time.time() - took
        recorder.node_started(run_id, name, node["func"], started)
        if name == fail:
            try:
                raise ValueError(f"{name} could not read its input")
            except ValueError as exc:
                error = exc
            recorder.node_finished(run_id, name, "failed", started, error=error)
            break
        recorder.node_finished(
            run_id,
            name,
            "success",
            started,
            inputs={d: 0.001 for d in node["inputs"]},
            outputs={d: 0.001 for d in node["outputs"]},
        )
    if end:
        recorder.end_run(run_id, "failed" if error else "success", error)
    recorder.flush()
