"""The DAG layout: layers follow the data flow, nodes never overlap, and it is fast."""

from __future__ import annotations

import itertools
import time

from waldo.journal import PipelineNode
from waldo.web import layout
from waldo.web._layout import NODE_H, NODE_W, node_edges


def node(name: str, inputs: list[str], outputs: list[str]) -> PipelineNode:
    return PipelineNode(name, None, inputs, outputs)


def test_layers_follow_the_longest_path() -> None:
    nodes = [
        node("c", ["a_out", "b_out"], ["c_out"]),
        node("a", ["raw"], ["a_out"]),
        node("b", ["a_out"], ["b_out"]),
        node("lonely", ["raw"], ["x"]),
    ]
    placed = layout(nodes)
    assert node_edges(nodes) == [(1, 0), (1, 2), (2, 0)]
    assert placed.layers == [2, 0, 1, 0]
    assert placed.ys[1] < placed.ys[2] < placed.ys[0]
    assert placed.ys[3] == placed.ys[1]


def test_no_two_nodes_overlap_and_a_thousand_lay_out_fast() -> None:
    nodes = [
        node(f"n{i}", [f"d{i - 50}", f"d{i - 43}"] if i >= 50 else ["raw"], [f"d{i}"])
        for i in range(1000)
    ]
    started = time.perf_counter()
    placed = layout(nodes)
    assert time.perf_counter() - started < 1.0  # about 10 ms on a laptop
    boxes = sorted(zip(placed.ys, placed.xs, strict=True))
    for (y1, x1), (y2, x2) in itertools.pairwise(boxes):
        assert y1 != y2 or x2 - x1 >= NODE_W, (x1, x2)
    assert max(placed.xs) + NODE_W <= placed.width
    assert max(placed.ys) + NODE_H <= placed.height
    assert max(placed.layers) >= 19  # at least the 20 rows of 50
