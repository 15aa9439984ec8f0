// The pipeline graph: boxes laid out in layers, right-angled arrows, zoom and pan
// (d3-zoom), toggles for dataset and parameter boxes, namespaces folded into one box,
// and a click on a box lights up everything upstream and downstream of it.

import { select } from "d3-selection";
import { zoom, zoomIdentity, type ZoomBehavior } from "d3-zoom";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { shorten } from "../format";
import type { PNode } from "../types";
import type { LayoutResult } from "./layout";
import {
  badges,
  checksFailed,
  LEGENDS,
  type Mode,
  vertexClass,
  vertexState,
} from "./paint";
import { runLayout } from "./run-layout";
import {
  buildView,
  folders,
  groupId,
  isBand,
  lineage,
  namespaces,
  nodeId,
  prefixes,
  type Vertex,
  type View,
} from "./view";

export interface GraphProps {
  nodes: PNode[];
  mode: Mode;
  /** The selected node's name (its namespace's box lights up while folded). */
  selected: string | null;
  onSelect: (name: string | null) => void;
  /** A node to show first (a failed one). */
  focus?: string | null;
}

const MIN_SCALE = 0.8; // below this a whole graph is not shown at once: labels would be under 10 px

declare global {
  interface Window {
    waldoLayoutMs?: number;
    waldoGraphAt?: number;
  }
}

export function Graph(props: GraphProps) {
  if (!props.nodes.length) return <p class="muted no-nodes">No nodes recorded (yet).</p>;
  return <GraphView {...props} />;
}

function GraphView({ nodes, mode, selected, onSelect, focus }: GraphProps) {
  // The structure only changes with the toggles (not with live states).
  const structure = nodes.map((n) => n.name).join("\u0000");
  const folderOf = useMemo(() => folders(nodes), [structure]);
  const allNamespaces = useMemo(() => namespaces(folderOf), [folderOf]);
  const [datasets, setDatasets] = useState(false);
  const [params, setParams] = useState(false);
  // What the reader opened: every other namespace or band, even one that appears later
  // (a live run's pipeline growing), is folded.
  const [opened, setOpened] = useState(() => new Set<string>());
  const collapsed = useMemo(
    () => new Set(allNamespaces.filter((ns) => !opened.has(ns))),
    [allNamespaces, opened],
  );
  // The drawing on screen and the view it was laid out for: it stays while the layout
  // of a new view (a toggle, a group opened) is being made.
  const [drawn, setDrawn] = useState<{ layout: LayoutResult; view: View } | null>(null);
  const layout = drawn?.layout ?? null;
  const svgRef = useRef<SVGSVGElement>(null);
  const viewportRef = useRef<SVGGElement>(null);
  const zoomRef = useRef<ZoomBehavior<SVGSVGElement, unknown> | null>(null);
  const fittedFor = useRef<LayoutResult | null>(null);
  const openedLast = useRef<string | null>(null); // shown once its layout is drawn
  const broughtIntoView = useRef<string | null>(null);

  const view: View = useMemo(
    () => buildView(nodes, { datasets, params, collapsed, folders: folderOf }),
    [structure, datasets, params, collapsed],
  );

  useEffect(() => {
    let current = true;
    runLayout({
      vertices: view.vertices.map(({ id, width, height }) => ({ id, width, height })),
      edges: view.edges,
    }).then((result) => {
      if (!current) return;
      window.waldoLayoutMs = result.ms;
      setDrawn({ layout: result, view });
    });
    return () => {
      current = false;
    };
  }, [view]);

  // Zoom and pan: d3-zoom moves the viewport group; nothing is re-rendered.
  useEffect(() => {
    const svg = svgRef.current!;
    const behaviour = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.05, 3])
      .on("zoom", (event) => {
        viewportRef.current?.setAttribute("transform", event.transform.toString());
        svg.dataset.scale = event.transform.k.toFixed(3);
      });
    select(svg).call(behaviour).on("dblclick.zoom", null);
    zoomRef.current = behaviour;
  }, []);

  /** Show the part of the drawing in `area` whole, or at a readable scale. */
  const showArea = (area: Area) => {
    const svg = svgRef.current;
    if (!svg || !zoomRef.current) return;
    const { width, height } = svg.getBoundingClientRect();
    const [w, h] = [area.x1 - area.x0, area.y1 - area.y0];
    const k = Math.max(MIN_SCALE, Math.min(width / w, height / h, 1));
    const [cx, cy] = [(area.x0 + area.x1) / 2, (area.y0 + area.y1) / 2];
    const top = k * h > height ? area.y0 + height / 2 / k : cy; // too tall: its top
    select(svg).call(
      zoomRef.current.transform,
      zoomIdentity.translate(width / 2 - cx * k, height / 2 - top * k).scale(k),
    );
  };

  const fit = (mode: "fit" | "focus") => {
    const svg = svgRef.current;
    if (!svg || !layout || !drawn || !zoomRef.current) return;
    const { width, height } = svg.getBoundingClientRect();
    const scale = Math.min(width / layout.width, height / layout.height, 1);
    const target = focusBox(layout, drawn.view, nodes, focus ?? selected);
    let t = zoomIdentity
      .translate((width - layout.width * scale) / 2, (height - layout.height * scale) / 2)
      .scale(scale);
    if (mode === "focus" && scale < MIN_SCALE) {
      // Too big to read whole: start readable, on the node to look at (or the top).
      const k = MIN_SCALE;
      const [cx, cy] = target ?? [layout.width / 2, height / 2 / k];
      t = zoomIdentity.translate(width / 2 - cx * k, height / 2 - cy * k).scale(k);
    }
    select(svg).call(zoomRef.current.transform, t);
  };

  const zoomBy = (factor: number) => {
    if (svgRef.current && zoomRef.current) {
      select(svgRef.current).call(zoomRef.current.scaleBy, factor);
    }
  };

  useEffect(() => {
    if (!layout || fittedFor.current === layout) return;
    fittedFor.current = layout;
    const svg = svgRef.current!;
    // As tall as the graph at a width that fits, within 220 px and 70% of the window;
    // a graph too wide to read whole gets the most room.
    const scale = Math.min(1, svg.getBoundingClientRect().width / layout.width);
    const tallest = Math.min(640, window.innerHeight * 0.7);
    const tall = scale < MIN_SCALE ? tallest : Math.min(layout.height * scale + 8, tallest);
    svg.style.height = `${Math.round(Math.max(220, tall))}px`;
    const area = openedLast.current && membersArea(drawn!, folderOf, openedLast.current);
    openedLast.current = null;
    if (area) showArea(area);
    else fit("focus");
    window.waldoGraphAt = performance.now();
    document.body.dataset.drawn = "1";
  }, [layout]);

  // Which box the selection lives in, and what is up- and downstream of it.
  const selectedVertex = useMemo(() => {
    if (!selected) return null;
    const index = nodes.findIndex((n) => n.name === selected);
    if (index < 0) return null;
    const folded = prefixes(folderOf[index]).find((p) => collapsed.has(p));
    return folded ? groupId(folded) : nodeId(selected);
  }, [selected, collapsed, structure]);
  const lit = useMemo(
    () =>
      drawn && selectedVertex && drawn.layout.boxes[selectedVertex]
        ? lineage(drawn.view, selectedVertex)
        : null,
    [drawn, selectedVertex],
  );

  const expand = (namespace: string) => {
    openedLast.current = namespace;
    setOpened(new Set([...opened, ...prefixes(namespace)]));
  };

  const onClick = (event: MouseEvent) => {
    const target = (event.target as Element).closest("g.v") as SVGGElement | null;
    if (!target) return onSelect(null);
    const id = target.dataset.id!;
    if (id.startsWith("ns:")) return expand(id.slice(3));
    if (id.startsWith("n:")) return onSelect(id.slice(2));
  };

  const find = (text: string) => {
    const needle = text.trim().toLowerCase();
    if (!needle) return;
    const index = nodes.findIndex((n) => n.name.toLowerCase().includes(needle));
    if (index < 0) return;
    const folded = prefixes(folderOf[index]).filter((p) => collapsed.has(p));
    if (folded.length) expand(folderOf[index]!);
    onSelect(nodes[index].name);
  };

  useEffect(() => {
    // Bring a node chosen elsewhere (the find box, a link) into view, once.
    if (!layout || !selectedVertex || !svgRef.current || !zoomRef.current) return;
    if (broughtIntoView.current === selectedVertex) return;
    const box = layout.boxes[selectedVertex];
    if (!box) return; // the layout that shows it is still being made
    broughtIntoView.current = selectedVertex;
    const svg = svgRef.current;
    const t = (svg as any).__zoom ?? zoomIdentity;
    const { width, height } = svg.getBoundingClientRect();
    const [sx, sy] = [box.x * t.k + t.x, box.y * t.k + t.y];
    if (sx < 0 || sy < 0 || sx > width || sy > height) {
      select(svg).call(zoomRef.current.translateTo, box.x, box.y);
    }
  }, [selectedVertex, layout]);

  const byId = new Map((drawn?.view ?? view).vertices.map((v) => [v.id, v]));
  const pending = !drawn || drawn.view !== view;
  const foldedBands = allNamespaces.some((ns) => isBand(ns) && collapsed.has(ns));
  return (
    <div class="graph">
      <div class="toolbar">
        <label>
          <input
            type="checkbox"
            name="datasets"
            checked={datasets}
            onChange={(e) => setDatasets((e.target as HTMLInputElement).checked)}
          />{" "}
          datasets
        </label>
        <label>
          <input
            type="checkbox"
            name="params"
            checked={params}
            onChange={(e) => setParams((e.target as HTMLInputElement).checked)}
          />{" "}
          parameters
        </label>
        {allNamespaces.length > 0 && (
          <span class="group-buttons">
            <button type="button" onClick={() => setOpened(new Set(allNamespaces))}>
              expand all
            </button>
            <button type="button" onClick={() => setOpened(new Set())}>
              collapse all
            </button>
          </span>
        )}
        <span class="zoom-buttons">
          <button type="button" class="fit" title="fit the graph" onClick={() => fit("fit")}>
            fit
          </button>
          <button type="button" class="zoom-in" title="zoom in" onClick={() => zoomBy(1.4)}>
            +
          </button>
          <button type="button" class="zoom-out" title="zoom out" onClick={() => zoomBy(1 / 1.4)}>
            −
          </button>
        </span>
        {foldedBands && (
          <span class="muted bands-note">
            {nodes.length.toLocaleString("en-US")} nodes grouped by layer: click a group to
            open it
          </span>
        )}
        <input
          class="find"
          type="search"
          placeholder="find a node"
          aria-label="find a node"
          onChange={(e) => find((e.target as HTMLInputElement).value)}
        />
        <span class="legend">
          {LEGENDS[mode].map(([cls, label]) => (
            <span key={cls} class={`key ${cls}`}>
              {label}
            </span>
          ))}
        </span>
      </div>
      <svg
        ref={svgRef}
        class="graph-svg"
        data-drawn={layout ? "1" : undefined}
        data-vertices={drawn ? drawn.view.vertices.length : undefined}
        data-pending={pending ? "1" : undefined}
        onClick={onClick}
        role="img"
        aria-label={`pipeline graph of ${nodes.length} nodes`}
      >
        <defs>
          <marker
            id="waldo-arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0L10,5L0,10z" class="arrow" />
          </marker>
        </defs>
        <g ref={viewportRef} class="viewport">
          {layout && (
            <Drawing
              layout={layout}
              byId={byId}
              nodes={nodes}
              mode={mode}
              selected={selectedVertex}
              lit={lit}
            />
          )}
        </g>
        {pending && (
          <text x="16" y="28" class="laying-out">
            laying out {view.vertices.length.toLocaleString("en-US")} boxes…
          </text>
        )}
      </svg>
    </div>
  );
}

interface DrawingProps {
  layout: LayoutResult;
  byId: Map<string, Vertex>;
  nodes: PNode[];
  mode: Mode;
  selected: string | null;
  lit: { up: Set<string>; down: Set<string> } | null;
}

function Drawing({ layout, byId, nodes, mode, selected, lit }: DrawingProps) {
  const onPath = (id: string) => !lit || id === selected || lit.up.has(id) || lit.down.has(id);
  return (
    <>
      <g class="edges">
        {layout.paths.map((p) => {
          const hl = lit && onPath(p.from) && onPath(p.to);
          return (
            <path
              key={`${p.from}>${p.to}`}
              class={hl ? "edge hl" : lit ? "edge dim" : "edge"}
              d={`M${p.points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join("L")}`}
              marker-end="url(#waldo-arrow)"
              data-from={p.from}
              data-to={p.to}
            />
          );
        })}
      </g>
      <g class="vertices">
        {Object.entries(layout.boxes).map(([id, box]) => {
          const v = byId.get(id);
          if (!v) return null;
          const members = v.members.map((i) => nodes[i]);
          const role =
            id === selected ? "sel" : !lit ? "" : lit.up.has(id) ? "up" : lit.down.has(id) ? "down" : "dim";
          return <Box key={id} v={v} box={box} members={members} mode={mode} role={role} />;
        })}
      </g>
    </>
  );
}

interface BoxProps {
  v: Vertex;
  box: { x: number; y: number; width: number; height: number };
  members: PNode[];
  mode: Mode;
  role: string;
}

function Box({ v, box, members, mode, role }: BoxProps) {
  const x = box.x - box.width / 2;
  const y = box.y - box.height / 2;
  const group = v.kind === "group";
  const small = v.kind === "dataset" || v.kind === "param";
  const cls = small ? "" : vertexClass(mode, members);
  const state = small ? undefined : vertexState(mode, members);
  const lines = small ? [] : badges(mode, members, group);
  const checks = small ? 0 : checksFailed(members);
  const kind = !group ? "" : isBand(v.label) ? "nodes in " : "namespace ";
  const title = small
    ? `${v.kind === "param" ? "parameter" : "dataset"} ${v.label}`
    : `${kind}${v.label} (${state})${group ? ": click to expand" : ""}`;
  return (
    <g
      class={`v v-${v.kind} ${cls} ${role}`}
      transform={`translate(${x.toFixed(1)},${y.toFixed(1)})`}
      data-id={v.id}
      data-name={v.kind === "node" ? v.label : undefined}
      data-status={state}
      data-checks={checks || undefined}
    >
      <rect width={box.width} height={box.height} rx={small ? box.height / 2 : 7} />
      {group && <rect class="stack" x="4" y="-4" width={box.width - 8} height="4" rx="2" />}
      <text class="label" x={small ? 12 : 10} y={small ? box.height / 2 + 4 : 18}>
        {(group ? "\u229e " : "") + shorten(v.label, small ? 24 : 27)}
      </text>
      {lines.length > 0 && (
        <text class="badges" x="10" y={box.height - 10}>
          {shorten(lines.join(" \u00b7 "), checks ? 29 : 33)}
        </text>
      )}
      {checks > 0 && (
        <g class="checks-mark" transform={`translate(${box.width - 14},${box.height / 2})`}>
          <circle r="9" />
          <text y="4">{checks > 9 ? "9+" : `!${checks}`}</text>
        </g>
      )}
      <title>{title}</title>
    </g>
  );
}

/** Where to look first: the node to focus on (or the box it is folded into). */
function focusBox(
  layout: LayoutResult,
  view: View,
  nodes: PNode[],
  name: string | null | undefined,
): [number, number] | null {
  if (!name) return null;
  const node = nodes.find((n) => n.name === name);
  if (!node) return null;
  const index = nodes.indexOf(node);
  const vertex = view.vertices.find((v) => v.members.includes(index));
  const box = vertex && layout.boxes[vertex.id];
  return box ? [box.x, box.y] : null;
}

interface Area {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Where the boxes of a namespace's (or band's) nodes lie in a drawing. */
function membersArea(
  drawn: { layout: LayoutResult; view: View },
  folderOf: (string | undefined)[],
  namespace: string,
): Area | null {
  const inside = (i: number) => {
    const f = folderOf[i];
    return f !== undefined && (f === namespace || f.startsWith(`${namespace}.`));
  };
  const boxes = drawn.view.vertices
    .filter((v) => v.members.some(inside))
    .map((v) => drawn.layout.boxes[v.id])
    .filter((box) => box !== undefined);
  if (!boxes.length) return null;
  return {
    x0: Math.min(...boxes.map((b) => b.x - b.width / 2)),
    y0: Math.min(...boxes.map((b) => b.y - b.height / 2)),
    x1: Math.max(...boxes.map((b) => b.x + b.width / 2)),
    y1: Math.max(...boxes.map((b) => b.y + b.height / 2)),
  };
}
