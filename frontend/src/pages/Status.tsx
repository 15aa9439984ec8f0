// What `waldo status` says, on the pipeline: which nodes would run and why.

import { useState } from "preact/hooks";
import { RunLink, Shell } from "../components/common";
import { Graph } from "../graph/Graph";
import type { StatusData } from "../types";

export function StatusPage({ data }: { data: StatusData }) {
  const [selected, setSelected] = useState<string | null>(null);
  if (!data.available) {
    return (
      <Shell title="Status" isStatic={data.static} version={data.version}>
        <h1>Status</h1>
        <p class="notice" id="status-unavailable">
          {data.message}
        </p>
      </Shell>
    );
  }
  const nodes = data.nodes ?? [];
  return (
    <Shell title="Status" isStatic={data.static} version={data.version}>
      <h1>What would run now</h1>
      <form class="filters" method="get" action="/status">
        <label>
          pipeline
          <select name="pipeline" value={data.pipeline} onChange={(e) => (e.target as HTMLSelectElement).form!.submit()}>
            {(data.pipelines ?? []).map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <noscript>
          <button type="submit">show</button>
        </noscript>
      </form>
      <p class="summary" id="status-summary">
        <b>{data.to_run}</b> of {nodes.length} nodes of <code>{data.pipeline}</code> would run
        (code, parameters and inputs compared with each node's last successful run, as{" "}
        <code>waldo status</code> does).
      </p>
      <section class="graph-and-panel">
        <Graph nodes={data.graph ?? []} mode="stale" selected={selected} onSelect={setSelected} />
      </section>
      <table class="list" id="status-table">
        <thead>
          <tr>
            <th>node</th>
            <th>would run</th>
            <th>why</th>
            <th class="mid-only">last successful run</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => (
            <tr
              key={n.node}
              data-node={n.node}
              class={`${n.stale ? "st-stale" : "st-fresh"} ${n.node === selected ? "chosen" : ""}`}
              onClick={() => setSelected(n.node)}
            >
              <td>{n.node}</td>
              <td>{n.stale ? "yes" : "no"}</td>
              <td class="details">{n.reasons.join("; ") || "up to date"}</td>
              <td class="mid-only">{n.last_run ? <RunLink runId={n.last_run} isStatic={data.static} /> : "-"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Shell>
  );
}
