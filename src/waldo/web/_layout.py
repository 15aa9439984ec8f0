"""Placing a pipeline's nodes on a plane, in Python, so the browser only draws.

A layered ("Sugiyama-style") layout, kept simple enough to stay linear-ish in the
number of nodes and edges: each node goes to the layer of its longest path from a
source, nodes in a layer are ordered by the mean position of their neighbours in a few
down and up sweeps (fewer crossings), then packed left to right. Edges connect a node
to the nodes that read what it writes. 1,000 nodes lay out in tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from waldo.journal import PipelineNode

NODE_W = 200
NODE_H = 30
GAP_X = 24
GAP_Y = 56
MARGIN = 16
SWEEPS = 4


@dataclass
class Layout:
    """Node positions (top-left corners), edges as index pairs, and the drawing's size."""

    xs: list[float]
    ys: list[float]
    layers: list[int]
    edges: list[tuple[int, int]]
    width: float
    height: float


def node_edges(nodes: Sequence[PipelineNode]) -> list[tuple[int, int]]:
    """(producer, consumer) index pairs: one edge per node that reads another's output."""
    producer: dict[str, int] = {}
    for index, node in enumerate(nodes):
        for name in node.outputs:
            producer.setdefault(name, index)
    edges: set[tuple[int, int]] = set()
    for index, node in enumerate(nodes):
        for name in node.inputs:
            source = producer.get(name)
            if source is not None and source != index:
                edges.add((source, index))
    return sorted(edges)


def _layers(count: int, edges: list[tuple[int, int]]) -> list[int]:
    """Longest-path layering in topological order (Kahn); a cycle's rest goes last."""
    children: list[list[int]] = [[] for _ in range(count)]
    indegree = [0] * count
    for a, b in edges:
        children[a].append(b)
        indegree[b] += 1
    layer = [0] * count
    ready = [i for i in range(count) if indegree[i] == 0]
    seen = 0
    while ready:
        nxt: list[int] = []
        for node in ready:
            seen += 1
            for child in children[node]:
                layer[child] = max(layer[child], layer[node] + 1)
                indegree[child] -= 1
                if indegree[child] == 0:
                    nxt.append(child)
        ready = nxt
    if seen < count:  # not a DAG (should not happen with Kedro): park the rest below
        bottom = max(layer, default=0) + 1
        for i in range(count):
            if indegree[i] > 0:
                layer[i] = bottom
    return layer


def _order(layer_of: list[int], edges: list[tuple[int, int]]) -> list[list[int]]:
    """Nodes of each layer, ordered by barycentre sweeps to reduce edge crossings."""
    depth = max(layer_of, default=-1) + 1
    rows: list[list[int]] = [[] for _ in range(depth)]
    for node, layer in enumerate(layer_of):
        rows[layer].append(node)
    parents: list[list[int]] = [[] for _ in layer_of]
    children: list[list[int]] = [[] for _ in layer_of]
    for a, b in edges:
        parents[b].append(a)
        children[a].append(b)
    position = [0.0] * len(layer_of)
    for row in rows:
        for i, node in enumerate(row):
            position[node] = float(i)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        sequence = range(1, depth) if down else range(depth - 2, -1, -1)
        for layer in sequence:
            row = rows[layer]
            neighbours = parents if down else children

            def centre(node: int, links: list[list[int]] = neighbours) -> float:
                near = links[node]
                return sum(position[n] for n in near) / len(near) if near else position[node]

            row.sort(key=centre)
            for i, node in enumerate(row):
                position[node] = float(i)
    return rows


def layout(nodes: Sequence[PipelineNode]) -> Layout:
    """Lay a pipeline out top to bottom; every layer is centred on the widest one."""
    edges = node_edges(nodes)
    layer_of = _layers(len(nodes), edges)
    rows = _order(layer_of, edges)
    widest = max((len(r) for r in rows), default=0)
    full = widest * (NODE_W + GAP_X) - GAP_X
    xs = [0.0] * len(nodes)
    ys = [0.0] * len(nodes)
    for depth, row in enumerate(rows):
        span = len(row) * (NODE_W + GAP_X) - GAP_X
        left = MARGIN + (full - span) / 2
        for i, node in enumerate(row):
            xs[node] = left + i * (NODE_W + GAP_X)
            ys[node] = MARGIN + depth * (NODE_H + GAP_Y)
    width = max(full, NODE_W) + 2 * MARGIN
    height = len(rows) * (NODE_H + GAP_Y) - GAP_Y + 2 * MARGIN if rows else 2 * MARGIN
    return Layout(xs, ys, layer_of, edges, width, height)
