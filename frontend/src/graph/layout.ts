// Laying a view out top to bottom with dagre, then routing each edge on right angles so
// that it never crosses a box.
//
// dagre puts every box in a layer (rank) and threads each long edge through a "dummy"
// slot in every layer it spans, a slot no box overlaps. The router draws an edge as
// vertical runs through those slots and horizontal jogs in the free band between two
// layers, so by construction it touches no box but its own two ends. Horizontal jogs
// in one band get their own height each ("lanes"), so they do not run on top of each
// other.

import dagre from "@dagrejs/dagre";
import type { Edge, Vertex } from "./view";

export interface LayoutInput {
  vertices: Pick<Vertex, "id" | "width" | "height">[];
  edges: Edge[];
}

export interface Box {
  x: number; // centre
  y: number;
  width: number;
  height: number;
}

export interface LayoutResult {
  width: number;
  height: number;
  boxes: Record<string, Box>;
  /** Each edge's polyline: alternating vertical and horizontal segments. */
  paths: { from: string; to: string; points: [number, number][] }[];
  ms: number;
}

const MARGIN = 24;
/** Above this many boxes dagre's network-simplex ranking gets slow: use a tight tree
 * (longest path, then tightened: fewer and shorter long edges than longest path alone). */
const SIMPLEX_LIMIT = 300;

interface Band {
  y: number;
  half: number; // half the height of the tallest box of the layer
}

export function layoutGraph(input: LayoutInput): LayoutResult {
  const started = performance.now();
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({
    rankdir: "TB",
    nodesep: 28,
    edgesep: 12,
    ranksep: 64,
    marginx: MARGIN,
    marginy: MARGIN,
    ranker: input.vertices.length > SIMPLEX_LIMIT ? "tight-tree" : "network-simplex",
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const v of input.vertices) g.setNode(v.id, { width: v.width, height: v.height });
  for (const e of input.edges) g.setEdge(e.from, e.to);
  dagre.layout(g);

  const boxes: Record<string, Box> = {};
  for (const v of input.vertices) {
    const n = g.node(v.id);
    boxes[v.id] = { x: n.x, y: n.y, width: v.width, height: v.height };
  }
  const bands = layerBands(Object.values(boxes));
  const routes = input.edges.map((e) => {
    const label = g.edge(e.from, e.to) as { points?: { x: number; y: number }[] };
    const inner = (label.points ?? []).slice(1, -1);
    return { edge: e, slots: slotsThrough(inner, bands) };
  });
  const paths = route(routes, boxes, bands);
  const size = g.graph();
  return {
    width: size.width ?? 0,
    height: size.height ?? 0,
    boxes,
    paths,
    ms: performance.now() - started,
  };
}

/** The layers, top to bottom: boxes of one layer share their centre's height. */
function layerBands(boxes: Box[]): Band[] {
  const byY = new Map<number, number>();
  for (const b of boxes) {
    const key = Math.round(b.y * 2) / 2;
    byY.set(key, Math.max(byY.get(key) ?? 0, b.height / 2));
  }
  return [...byY.entries()].map(([y, half]) => ({ y, half })).sort((a, b) => a.y - b.y);
}

function bandAt(bands: Band[], y: number): number {
  let lo = 0;
  let hi = bands.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const d = bands[mid].y - y;
    if (Math.abs(d) < 1) return mid;
    if (d < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

interface Slot {
  band: number;
  x: number;
}

/** The dummy points of an edge that lie in a layer of boxes (the rest are between). */
function slotsThrough(points: { x: number; y: number }[], bands: Band[]): Slot[] {
  const slots: Slot[] = [];
  for (const p of points) {
    const band = bandAt(bands, p.y);
    if (band >= 0) slots.push({ band, x: p.x });
  }
  return slots;
}

interface Jog {
  gap: number; // index of the band above (downward) or below (upward) the gap
  x1: number;
  x2: number;
  path: number;
  point: number; // index of the jog's first point in the path
}

function route(
  routes: { edge: Edge; slots: Slot[] }[],
  boxes: Record<string, Box>,
  bands: Band[],
): LayoutResult["paths"] {
  const ports = spreadPorts(routes, boxes);
  const jogs: Jog[] = [];
  const paths = routes.map(({ edge, slots }, index) => {
    const s = boxes[edge.from];
    const t = boxes[edge.to];
    const down = t.y >= s.y;
    const dir = down ? 1 : -1;
    const [sx, tx] = ports[index];
    const points: [number, number][] = [[sx, s.y + (dir * s.height) / 2]];
    let band = bandAt(bands, s.y);
    let x = sx;
    const stops = [...slots, { band: bandAt(bands, t.y), x: tx }];
    stops.forEach((stop, k) => {
      const gap = down ? band : stop.band; // the band above the gap between the two
      jogs.push({ gap, x1: x, x2: stop.x, path: index, point: points.length });
      points.push([x, 0], [stop.x, 0]); // heights set once the gap's lanes are known
      const last = k === stops.length - 1;
      const edgeY = last ? t.y - (dir * t.height) / 2 : bands[stop.band].y + dir * bands[stop.band].half;
      points.push([stop.x, edgeY]);
      band = stop.band;
      x = stop.x;
    });
    return { from: edge.from, to: edge.to, points };
  });
  assignLanes(jogs, bands, paths);
  return paths.map((p) => ({ ...p, points: simplify(p.points) }));
}

/** Spread the edges leaving (entering) a box along its bottom (top) side, in the
 * order of where they go (come from), so they do not all meet in one point. */
function spreadPorts(
  routes: { edge: Edge; slots: Slot[] }[],
  boxes: Record<string, Box>,
): [number, number][] {
  const ports: [number, number][] = routes.map(({ edge }) => [
    boxes[edge.from].x,
    boxes[edge.to].x,
  ]);
  const out = new Map<string, number[]>();
  const into = new Map<string, number[]>();
  routes.forEach(({ edge }, i) => {
    (out.get(edge.from) ?? out.set(edge.from, []).get(edge.from)!).push(i);
    (into.get(edge.to) ?? into.set(edge.to, []).get(edge.to)!).push(i);
  });
  const towards = (i: number, end: "out" | "in") => {
    const { edge, slots } = routes[i];
    if (end === "out") return slots.length ? slots[0].x : boxes[edge.to].x;
    return slots.length ? slots[slots.length - 1].x : boxes[edge.from].x;
  };
  const spread = (groups: Map<string, number[]>, end: "out" | "in", side: 0 | 1) => {
    for (const [id, list] of groups) {
      if (list.length < 2) continue;
      const box = boxes[id];
      const step = Math.min(14, (box.width * 0.7) / (list.length - 1));
      list.sort((a, b) => towards(a, end) - towards(b, end));
      list.forEach((edgeIndex, k) => {
        ports[edgeIndex][side] = box.x + (k - (list.length - 1) / 2) * step;
      });
    }
  };
  spread(out, "out", 0);
  spread(into, "in", 1);
  return ports;
}

/** Give each horizontal jog in a gap its own height, spread over the gap. */
function assignLanes(jogs: Jog[], bands: Band[], paths: { points: [number, number][] }[]) {
  const byGap = new Map<number, Jog[]>();
  for (const j of jogs) (byGap.get(j.gap) ?? byGap.set(j.gap, []).get(j.gap)!).push(j);
  for (const [gap, list] of byGap) {
    const above = bands[gap];
    const below = bands[gap + 1] ?? { y: above.y + above.half + 40, half: 0 };
    const top = above.y + above.half + 6;
    const bottom = below.y - below.half - 6;
    list.sort((a, b) => Math.min(a.x1, a.x2) - Math.min(b.x1, b.x2) || a.x1 - b.x1);
    const step = (bottom - top) / (list.length + 1);
    list.forEach((j, k) => {
      const y = top + step * (k + 1);
      const pts = paths[j.path].points;
      pts[j.point][1] = y;
      pts[j.point + 1][1] = y;
    });
  }
}

/** Drop points that add nothing (a zero-length jog, three in a line). */
function simplify(points: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last && Math.abs(last[0] - p[0]) < 0.01 && Math.abs(last[1] - p[1]) < 0.01) continue;
    if (out.length >= 2) {
      const a = out[out.length - 2];
      const b = last;
      const straight =
        (Math.abs(a[0] - b[0]) < 0.01 && Math.abs(b[0] - p[0]) < 0.01) ||
        (Math.abs(a[1] - b[1]) < 0.01 && Math.abs(b[1] - p[1]) < 0.01);
      if (straight) out.pop();
    }
    out.push(p);
  }
  return out;
}
