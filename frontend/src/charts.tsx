// Charts over real time, drawn by uPlot: run durations in the run list, a node's
// duration and rows over its last runs, a dataset's rows over runs with drops marked.
// Each chart carries its numbers as a table too, for screen readers (and tests).

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { fmtCount, fmtDuration, fmtTime } from "./format";
import type { DatasetPoint, NodePoint, TrendPoint } from "./types";

const STATUS_COLOURS: Record<string, string> = {
  success: "--ok",
  complete: "--ok",
  failed: "--bad",
  error: "--bad",
  interrupted: "--warn",
  running: "--run",
  skipped: "--muted",
};

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

const statusColour = (status: string) => cssVar(STATUS_COLOURS[status] ?? "--muted");

/** The value of each point of one status, null elsewhere (one uPlot series per status). */
function byStatus(values: (number | null)[], statuses: string[], status: string) {
  return values.map((v, i) => (statuses[i] === status ? v : null));
}

function axes(yValues: (u: uPlot, v: number[]) => string[], label: string): uPlot.Axis[] {
  const stroke = cssVar("--fg-muted");
  const grid = { stroke: cssVar("--grid"), width: 1 };
  return [
    { stroke, grid, ticks: grid },
    { stroke, grid, ticks: grid, values: yValues, size: 64, label, labelSize: 16 },
  ];
}

interface PlotProps {
  options: (width: number) => uPlot.Options;
  data: uPlot.AlignedData;
  onPick?: (index: number) => void;
  caption: string;
  table: ComponentChildren;
  class?: string;
}

/** A uPlot chart that follows its box's width, and its data table. */
export function Plot({ options, data, onPick, caption, table, class: cls }: PlotProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const width = Math.max(el.clientWidth, 200);
    const plot = new uPlot(options(width), data, el);
    if (onPick) {
      plot.over.style.cursor = "pointer";
      plot.over.addEventListener("click", () => {
        const i = plot.cursor.idx;
        if (i != null) onPick(i);
      });
    }
    const watch = new ResizeObserver(() => {
      const w = Math.max(el.clientWidth, 200);
      if (Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height: plot.height });
    });
    watch.observe(el);
    return () => {
      watch.disconnect();
      plot.destroy();
    };
  }, [data]);
  return (
    <figure class={`chart ${cls ?? ""}`}>
      <div ref={box} class="plot" />
      <figcaption>{caption}</figcaption>
      <table class="sr-only chart-data">{table}</table>
    </figure>
  );
}

const durationAxis = (_u: uPlot, v: number[]) => v.map((s) => fmtDuration(s));

/** The run list's chart: each run's duration at the time it started, by status. */
export function DurationTrend({
  trend,
  onPick,
}: {
  trend: TrendPoint[];
  onPick: (runId: string) => void;
}) {
  const points = trend.filter((p) => p.duration != null).sort((a, b) => a.t - b.t);
  if (points.length === 0) return <p class="muted">No finished runs to chart yet.</p>;
  const xs = points.map((p) => p.t);
  const ys = points.map((p) => p.duration);
  const statuses = points.map((p) => p.status);
  const kinds = [...new Set(statuses)];
  const data: uPlot.AlignedData = [xs, ys, ...kinds.map((k) => byStatus(ys, statuses, k))];
  const options = (width: number): uPlot.Options => ({
    width,
    height: 180,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { y: { range: (_u, _min, max) => [0, max * 1.1 || 1] } },
    axes: axes(durationAxis, "duration"),
    series: [
      {},
      { stroke: cssVar("--line"), width: 1, points: { show: false } },
      ...kinds.map((k) => ({
        label: k,
        stroke: statusColour(k),
        fill: statusColour(k),
        paths: () => null,
        points: { show: true, size: 8, fill: statusColour(k), stroke: statusColour(k) },
      })),
    ],
  });
  return (
    <Plot
      class="duration-trend"
      options={options}
      data={data}
      onPick={(i) => onPick(points[i].run_id)}
      caption={`Duration of the last ${points.length} finished runs over time, coloured by status (click a point to open the run).`}
      table={
        <>
          <thead>
            <tr>
              <th>run</th>
              <th>started</th>
              <th>status</th>
              <th>duration</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={p.run_id} data-run={p.run_id} data-status={p.status} data-t={p.t}>
                <td>{p.run_id}</td>
                <td>{fmtTime(p.t)}</td>
                <td>{p.status}</td>
                <td>{fmtDuration(p.duration)}</td>
              </tr>
            ))}
          </tbody>
        </>
      }
    />
  );
}

/** A node's duration (by status) and rows written over its last runs. */
export function NodeHistory({ points, current }: { points: NodePoint[]; current?: string }) {
  const shown = points.filter((p) => p.t != null);
  if (shown.length < 2) {
    return <p class="muted">{shown.length ? "Its first run: no history yet." : "No runs yet."}</p>;
  }
  const xs = shown.map((p) => p.t!);
  const ys = shown.map((p) => p.duration ?? null);
  const rows = shown.map((p) => p.rows ?? null);
  const statuses = shown.map((p) => p.status ?? "");
  const kinds = [...new Set(statuses)];
  const hasRows = rows.some((r) => r != null);
  const data: uPlot.AlignedData = [
    xs,
    ys,
    ...kinds.map((k) => byStatus(ys, statuses, k)),
    ...(hasRows ? [rows] : []),
  ];
  const options = (width: number): uPlot.Options => {
    const base = axes(durationAxis, "duration");
    return {
      width,
      height: 160,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: (_u, _min, max) => [0, max * 1.1 || 1] }, rows: { range: (_u, _min, max) => [0, max * 1.1 || 1] } },
      axes: hasRows
        ? [
            ...base,
            {
              scale: "rows",
              side: 1,
              stroke: cssVar("--accent"),
              grid: { show: false },
              size: 60,
              label: "rows",
              labelSize: 16,
              values: (_u, v) => v.map((r) => fmtCount(r)),
            },
          ]
        : base,
      series: [
        {},
        { stroke: cssVar("--line"), width: 1, points: { show: false } },
        ...kinds.map((k) => ({
          stroke: statusColour(k),
          paths: () => null,
          points: { show: true, size: 7, fill: statusColour(k), stroke: statusColour(k) },
        })),
        ...(hasRows
          ? [{ scale: "rows", stroke: cssVar("--accent"), width: 1.5, dash: [4, 3], points: { show: true, size: 4 } }]
          : []),
      ],
    };
  };
  return (
    <Plot
      class="node-history"
      options={options}
      data={data}
      caption={`Its last ${shown.length} runs: duration (points by status)${hasRows ? " and rows written (dashed)" : ""}.`}
      table={
        <>
          <thead>
            <tr>
              <th>run</th>
              <th>started</th>
              <th>status</th>
              <th>duration</th>
              <th>rows</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => (
              <tr key={p.run_id} data-run={p.run_id} class={p.run_id === current ? "current" : ""}>
                <td>{p.run_id}</td>
                <td>{fmtTime(p.t)}</td>
                <td>{p.status}</td>
                <td>{fmtDuration(p.duration)}</td>
                <td>{fmtCount(p.rows)}</td>
              </tr>
            ))}
          </tbody>
        </>
      }
    />
  );
}

/** Rows a dataset was written with over runs; a save below half the usual is marked. */
export function DatasetRows({ name, points }: { name: string; points: DatasetPoint[] }) {
  const shown = points.filter((p) => p.t != null && p.rows != null);
  if (shown.length < 2) return <p class="muted">Not enough saves of {name} with row counts to chart.</p>;
  const xs = shown.map((p) => p.t!);
  const rows = shown.map((p) => p.rows!);
  const usual = shown.map((p) => p.usual ?? null);
  const drops = shown.map((p) => (p.drop ? p.rows! : null));
  const data: uPlot.AlignedData = [xs, rows, usual, drops];
  const options = (width: number): uPlot.Options => ({
    width,
    height: 170,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { y: { range: (_u, _min, max) => [0, max * 1.1 || 1] } },
    axes: axes((_u, v) => v.map((r) => fmtCount(r)), "rows"),
    series: [
      {},
      { stroke: cssVar("--accent"), width: 2, points: { show: true, size: 5 } },
      { stroke: cssVar("--fg-muted"), width: 1, dash: [5, 4], points: { show: false } },
      {
        stroke: cssVar("--bad"),
        paths: () => null,
        points: { show: true, size: 13, width: 3, stroke: cssVar("--bad"), fill: "transparent" },
      },
    ],
  });
  const dropped = shown.filter((p) => p.drop).length;
  return (
    <Plot
      class="dataset-rows"
      options={options}
      data={data}
      caption={`Rows written to ${name} over its last ${shown.length} saves; dashed: the usual (median of the saves before); circled: ${dropped} drop${dropped === 1 ? "" : "s"} below half the usual.`}
      table={
        <>
          <thead>
            <tr>
              <th>run</th>
              <th>saved</th>
              <th>rows</th>
              <th>usual</th>
              <th>drop</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => (
              <tr key={p.run_id} data-run={p.run_id} class={p.drop ? "drop" : ""}>
                <td>{p.run_id}</td>
                <td>{fmtTime(p.t)}</td>
                <td>{fmtCount(p.rows)}</td>
                <td>{fmtCount(p.usual)}</td>
                <td>{p.drop ? "drop" : ""}</td>
              </tr>
            ))}
          </tbody>
        </>
      }
    />
  );
}
