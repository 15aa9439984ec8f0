// Which boxes and arrows the graph shows for a pipeline and the reader's choices:
// nodes (or their collapsed namespace), datasets and parameters when asked for.
// Pure data in, pure data out: the layout and the drawing come after.

import type { PNode } from "../types";

export type VertexKind = "node" | "group" | "dataset" | "param";

export interface Vertex {
  id: string;
  kind: VertexKind;
  label: string;
  /** Indices (into the pipeline's nodes) of the nodes a node or group box stands for. */
  members: number[];
  width: number;
  height: number;
}

export interface Edge {
  from: string;
  to: string;
}

export interface View {
  vertices: Vertex[];
  edges: Edge[];
}

export interface ViewOptions {
  datasets: boolean;
  params: boolean;
  /** Namespaces drawn as one box ("a" hides "a.b" too). */
  collapsed: Set<string>;
  /** Each node's folder (see `folders`); a node's own namespace when not given. */
  folders?: (string | undefined)[];
}

export const SIZE: Record<VertexKind, [number, number]> = {
  node: [200, 46],
  group: [220, 52],
  dataset: [180, 28],
  param: [160, 26],
};

export const isParam = (name: string) => name === "parameters" || name.startsWith("params:");

/** "a.b.c" -> ["a", "a.b", "a.b.c"]. */
export function prefixes(namespace: string | undefined): string[] {
  if (!namespace) return [];
  const parts = namespace.split(".");
  return parts.map((_, i) => parts.slice(0, i + 1).join("."));
}

/** Every folder and parent folder of a pipeline (see `folders`), in order. */
export function namespaces(folderOf: (string | undefined)[]): string[] {
  const found = new Set<string>();
  for (const folder of folderOf) for (const p of prefixes(folder)) found.add(p);
  return [...found].sort();
}

/** Whether a folder is a band of layers (a Kedro namespace never has a space). */
export const isBand = (folder: string) => folder.includes(" ");

/** A band's first and last layer, from its name ("layer 3", "layers 1-4"). */
function bandLayers(folder: string): [number, number] {
  const found = folder.match(/\d+/g) ?? ["0"];
  return [Number(found[0]), Number(found[found.length - 1])];
}

const inBand = (id: string) => id.startsWith("ns:") && isBand(id.slice(3));

/** Whether an edge joins two folded bands that are not one under the other. Where all
 * nodes are in bands such an edge is left out: each band's first layer reads the layer
 * just above it, so the chain of bands already tells what is upstream of what. */
function skipsBands(from: string, to: string): boolean {
  if (!inBand(from) || !inBand(to)) return false;
  return bandLayers(to.slice(3))[0] !== bandLayers(from.slice(3))[1] + 1;
}

export const groupId = (namespace: string) => `ns:${namespace}`;
export const nodeId = (name: string) => `n:${name}`;

/** Above this many nodes outside any namespace, those nodes are grouped by layer. */
export const BAND_LIMIT = 300;
/** A layer band holds whole layers, at least this many nodes or a 25th of them (all
 * but the last band), so there are at most 26. */
const BAND_MIN = 40;

/**
 * The namespace each node folds into: its Kedro namespace, or on a pipeline with more
 * than BAND_LIMIT nodes outside namespaces, a band of consecutive layers ("layers 1-3")
 * for those nodes, so that a big flat pipeline opens as a few boxes instead of a
 * thousand. Layers count the longest chain of nodes above a node, so every edge between
 * two bands runs downwards and the bands never form a cycle.
 */
export function folders(nodes: PNode[]): (string | undefined)[] {
  const flat = nodes.filter((n) => !n.namespace).length;
  if (flat <= BAND_LIMIT) return nodes.map((n) => n.namespace);
  const layer = layers(nodes);
  const size = Math.max(BAND_MIN, Math.ceil(flat / 25));
  const order = nodes
    .map((_, i) => i)
    .filter((i) => !nodes[i].namespace)
    .sort((a, b) => layer[a] - layer[b] || a - b);
  const out: (string | undefined)[] = nodes.map((n) => n.namespace);
  let band: number[] = [];
  const close = () => {
    const first = layer[band[0]] + 1;
    const last = layer[band[band.length - 1]] + 1;
    const name = first === last ? `layer ${first}` : `layers ${first}\u2013${last}`;
    for (const i of band) out[i] = name;
    band = [];
  };
  order.forEach((i, k) => {
    band.push(i);
    const next = order[k + 1];
    if (next === undefined || (band.length >= size && layer[next] !== layer[i])) close();
  });
  return out;
}

/** Each node's layer: the length of the longest chain of nodes feeding it (nodes on a
 * cycle, which a pipeline should not have, go below all others). */
function layers(nodes: PNode[]): number[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const out of n.outputs ?? []) producer.set(out, i);
  });
  const children: number[][] = nodes.map(() => []);
  const waiting = nodes.map(() => 0);
  nodes.forEach((n, i) => {
    for (const p of new Set((n.inputs ?? []).map((d) => producer.get(d)))) {
      if (p === undefined || p === i) continue;
      children[p].push(i);
      waiting[i] += 1;
    }
  });
  const layer = nodes.map(() => -1);
  const ready = nodes.map((_, i) => i).filter((i) => waiting[i] === 0);
  for (const i of ready) layer[i] = 0;
  for (let k = 0; k < ready.length; k++) {
    const i = ready[k];
    for (const c of children[i]) {
      layer[c] = Math.max(layer[c], layer[i] + 1);
      if (--waiting[c] === 0) ready.push(c);
    }
  }
  const deepest = Math.max(0, ...layer);
  return layer.map((l) => (l < 0 ? deepest + 1 : l));
}

/** The box a node is drawn in: its outermost collapsed folder, else itself. */
function representative(node: PNode, folder: string | undefined, collapsed: Set<string>): string {
  for (const p of prefixes(folder)) if (collapsed.has(p)) return groupId(p);
  return nodeId(node.name);
}

export function buildView(nodes: PNode[], options: ViewOptions): View {
  const vertices = new Map<string, Vertex>();
  const repOf: string[] = nodes.map((node, i) => {
    const folder = options.folders ? options.folders[i] : node.namespace;
    const id = representative(node, folder, options.collapsed);
    const known = vertices.get(id);
    if (known) known.members.push(i);
    else {
      const kind = id.startsWith("ns:") ? "group" : "node";
      const label = kind === "group" ? id.slice(3) : node.name;
      const [width, height] = SIZE[kind];
      vertices.set(id, { id, kind, label, members: [i], width, height });
    }
    return id;
  });

  const producers = new Map<string, string[]>();
  const consumers = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string, rep: string) => {
    const list = map.get(key);
    if (list) list.push(rep);
    else map.set(key, [rep]);
  };
  nodes.forEach((node, i) => {
    for (const out of node.outputs ?? []) add(producers, out, repOf[i]);
    for (const inp of node.inputs ?? []) add(consumers, inp, repOf[i]);
  });

  const chained = nodes.every((n) => !n.namespace); // see skipsBands
  const edges = new Map<string, Edge>();
  const link = (from: string, to: string) => {
    if (from !== to && !(chained && skipsBands(from, to))) edges.set(`${from}\u0000${to}`, { from, to });
  };
  const names = new Set([...producers.keys(), ...consumers.keys()]);
  for (const name of names) {
    const made = unique(producers.get(name) ?? []);
    const read = unique(consumers.get(name) ?? []);
    const param = isParam(name);
    const shown = param ? options.params : options.datasets;
    const inside = unique([...made, ...read]);
    // Not drawn: a dataset inside one folded box, or only between folded bands (there
    // are as many of those as nodes: the bands are there to not draw them all).
    const hidden = (inside.length === 1 && inside[0].startsWith("ns:")) || inside.every(inBand);
    if (shown && !hidden) {
      const kind: VertexKind = param ? "param" : "dataset";
      const id = `${kind === "param" ? "p" : "d"}:${name}`;
      const [width, height] = SIZE[kind];
      vertices.set(id, { id, kind, label: name, members: [], width, height });
      for (const p of made) link(p, id);
      for (const c of read) link(id, c);
    } else if (!param) {
      for (const p of made) for (const c of read) link(p, c);
    }
  }
  return { vertices: [...vertices.values()], edges: [...edges.values()] };
}

function unique(items: string[]): string[] {
  return items.length < 2 ? items : [...new Set(items)];
}

/** Everything upstream and downstream of a vertex, following the view's edges. */
export function lineage(view: View, id: string): { up: Set<string>; down: Set<string> } {
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const e of view.edges) {
    (children.get(e.from) ?? children.set(e.from, []).get(e.from)!).push(e.to);
    (parents.get(e.to) ?? parents.set(e.to, []).get(e.to)!).push(e.from);
  }
  const walk = (start: string, next: Map<string, string[]>) => {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      for (const n of next.get(stack.pop()!) ?? []) {
        if (!seen.has(n)) {
          seen.add(n);
          stack.push(n);
        }
      }
    }
    seen.delete(start);
    return seen;
  };
  return { up: walk(id, parents), down: walk(id, children) };
}
