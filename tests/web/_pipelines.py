"""Pipelines for the web page's tests and benchmark, recorded through the Recorder API.

``generated_pipeline`` makes a seeded random DAG shaped like a big Kedro project: layers
of nodes reading one to three outputs of earlier layers (some far above, so edges span
many layers), parameters, optionally modular pipelines (namespaces) chained together.
``record_pipeline_run`` records a run of it: the pipeline snapshot, then each node
started and finished (or failed).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tests.helpers.journal import end_node, start_node
from waldo.journal import Recorder, RunInfo


def generated_pipeline(
    count: int,
    *,
    width: int = 12,
    seed: int = 7,
    namespaces: int = 0,
    far: float = 0.25,
) -> list[dict[str, Any]]:
    """``count`` nodes in layers of about ``width``, each reading one to three outputs of
    earlier layers (a share ``far`` of them from any layer above, not just the last).

    With ``namespaces`` > 0 the nodes form that many modular pipelines (``ns_0``...) of
    consecutive nodes, laid out the same way inside each; the first layer of each reads
    outputs of one or two of the three namespaces before it, as modular pipelines do.
    """
    rng = random.Random(seed)
    if not namespaces:
        return _layered(rng, 0, count, width, far, lambda i: [f"raw_{i % 3}"])
    nodes: list[dict[str, Any]] = []
    per = count // namespaces
    for block in range(namespaces):
        start = block * per
        size = per if block < namespaces - 1 else count - start
        earlier = [nodes[-1 - k]["outputs"][0] for k in range(min(len(nodes), 3 * per))]

        def first_inputs(i: int, earlier: list[str] = earlier) -> list[str]:
            if not earlier:
                return [f"raw_{i % 3}"]
            return rng.sample(earlier, min(len(earlier), rng.randint(1, 2)))

        part = _layered(rng, start, size, width, far, first_inputs)
        for node in part:
            namespace = f"ns_{block}"
            node["namespace"] = namespace
            node["name"] = f"{namespace}.{node['name']}"
        nodes += part
    return nodes


def _layered(
    rng: random.Random,
    start: int,
    count: int,
    width: int,
    far: float,
    first_inputs: Callable[[int], list[str]],
) -> list[dict[str, Any]]:
    """Nodes ``start``.. in layers of ``width``; the first layer reads ``first_inputs``."""
    nodes: list[dict[str, Any]] = []
    for k in range(count):
        i = start + k
        layer = k // width
        if layer == 0:
            inputs = first_inputs(i)
        else:
            above = range(start + (layer - 1) * width, start + layer * width)
            inputs = [f"out_{rng.choice(above)}"]
            for _ in range(rng.randint(0, 2)):
                wide = rng.random() < far
                pick = rng.randrange(start, start + layer * width) if wide else rng.choice(above)
                inputs.append(f"out_{pick}")
        if rng.random() < 0.3:
            inputs.append(f"params:p{rng.randrange(5)}")
        nodes.append(
            {
                "name": f"node_{i:04d}",
                "func": "pipeline.nodes.work",
                "inputs": sorted(set(inputs)),
                "outputs": [f"out_{i}"],
                "tags": [],
            }
        )
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
        record = start_node(recorder, run_id, name, node["func"], started, node["inputs"])
        if name == fail:
            try:
                raise ValueError(f"{name} could not read its input")
            except ValueError as exc:
                error = exc
            end_node(recorder, record, error=error, took=took)
            break
        end_node(recorder, record, outputs=node["outputs"], took=took)
    if end:
        recorder.end_run(run_id, "failed" if error else "success", error)
    recorder.flush()
