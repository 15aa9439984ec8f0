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

/** Every namespace and parent namespace of a pipeline. */
export function namespaces(nodes: PNode[]): string[] {
  const found = new Set<string>();
  for (const node of nodes) for (const p of prefixes(node.namespace)) found.add(p);
  return [...found].sort();
}

export const groupId = (namespace: string) => `ns:${namespace}`;
export const nodeId = (name: string) => `n:${name}`;

/** The box a node is drawn in: its outermost collapsed namespace, else itself. */
function representative(node: PNode, collapsed: Set<string>): string {
  for (const p of prefixes(node.namespace)) if (collapsed.has(p)) return groupId(p);
  return nodeId(node.name);
}

export function buildView(nodes: PNode[], options: ViewOptions): View {
  const vertices = new Map<string, Vertex>();
  const repOf: string[] = nodes.map((node, i) => {
    const id = representative(node, options.collapsed);
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

  const edges = new Map<string, Edge>();
  const link = (from: string, to: string) => {
    if (from !== to) edges.set(`${from}\u0000${to}`, { from, to });
  };
  const names = new Set([...producers.keys(), ...consumers.keys()]);
  for (const name of names) {
    const made = unique(producers.get(name) ?? []);
    const read = unique(consumers.get(name) ?? []);
    const param = isParam(name);
    const shown = param ? options.params : options.datasets;
    const inside = unique([...made, ...read]);
    if (shown && !(inside.length === 1 && inside[0].startsWith("ns:"))) {
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
