// Two runs compared: what changed, node by node and dataset by dataset, and the
// pipeline coloured by change. Only the changes show unless the reader asks for all.

import { useState } from "preact/hooks";
import { Badge, GitSha, RunLink, Shell } from "../components/common";
import { fmtCount, fmtDuration, fmtShare, fmtValue } from "../format";
import { Graph } from "../graph/Graph";
import type { DatasetChange, DiffData, NodeChange, Pair } from "../types";

function Arrow({ a, b, format }: { a: unknown; b: unknown; format: (v: any) => string }) {
  if (a === b || (a == null && b == null)) return <>{format(b)}</>;
  return (
    <>
      {format(a)} &rarr; <b>{format(b)}</b>
    </>
  );
}

function rowsDelta(d: DatasetChange): string {
  if (d.rows_a == null || d.rows_b == null || d.rows_a === d.rows_b) return "";
  const change = d.rows_b - d.rows_a;
  const share = d.rows_a ? ` (${fmtShare(change / d.rows_a)})` : "";
  return ` ${change > 0 ? "+" : ""}${fmtCount(change)}${share}`;
}

export function DiffPage({ data }: { data: DiffData }) {
  const [all, setAll] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const nodes = all ? data.nodes : data.nodes.filter((n) => n.changed);
  const datasets = all ? data.datasets : data.datasets.filter((d) => d.changed);
  const count = (test: (n: NodeChange) => boolean) => data.nodes.filter(test).length;
  const a = data.a;
  const b = data.b;
  return (
    <Shell title="Diff" isStatic={data.static} version={data.version}>
      <h1>Diff</h1>
      <p class="diff-runs">
        <RunLink runId={a.run_id} isStatic={data.static} /> <Badge status={a.status} /> &rarr;{" "}
        <RunLink runId={b.run_id} isStatic={data.static} /> <Badge status={b.status} />
      </p>
      <p class="summary" id="diff-summary">
        {(
          [
            ["c-failed", count((n) => n.failed), "failed"],
            ["c-changed", count((n) => n.change === "changed"), "changed"],
            ["c-slower", count((n) => n.slower), "> 20% slower"],
            ["c-added", count((n) => n.change === "added"), "added"],
            ["c-removed", count((n) => n.change === "removed"), "removed"],
          ] as [string, number, string][]
        )
          .filter(([, n]) => n > 0)
          .map(([cls, n, label]) => (
            <span key={cls} class={`chip ${cls}`}>
              {n} {label}
            </span>
          ))}
        <span class="muted">
          {data.nodes.length} nodes in all
          {data.plain_b ? `; ${b.run_id} was a plain run: every node of its pipeline ran.` : "."}
        </span>
      </p>
      <label class="toggle">
        <input
          type="checkbox"
          id="show-all"
          checked={all}
          onChange={(e) => setAll((e.target as HTMLInputElement).checked)}
        />{" "}
        show unchanged nodes and datasets too
      </label>
      <section class="graph-and-panel">
        <Graph nodes={data.graph} mode="change" selected={selected} onSelect={setSelected} />
      </section>
      <section>
        <h2>Nodes</h2>
        {nodes.length ? (
          <NodesTable nodes={nodes} a={a.run_id} b={b.run_id} selected={selected} plain={data.plain_b} />
        ) : (
          <p class="muted">No node changed.</p>
        )}
      </section>
      <section>
        <h2>Datasets</h2>
        {datasets.length ? (
          <DatasetsTable datasets={datasets} />
        ) : (
          <p class="muted">No dataset changed (rows, nulls, schema and version are the same).</p>
        )}
      </section>
      <section>
        <h2>Run</h2>
        <PairsTable id="facts" pairs={data.facts} a={a.run_id} b={b.run_id} template={data.commit_url} />
      </section>
      <section>
        <h2>Parameters</h2>
        {data.params.length ? (
          <PairsTable id="params" pairs={data.params} a={a.run_id} b={b.run_id} />
        ) : (
          <p class="muted">Same parameters.</p>
        )}
      </section>
    </Shell>
  );
}

function NodesTable({
  nodes,
  a,
  b,
  selected,
  plain,
}: {
  nodes: NodeChange[];
  a: string;
  b: string;
  selected: string | null;
  plain: boolean;
}) {
  return (
    <table class="list" id="node-diff">
      <thead>
        <tr>
          <th>node</th>
          <th>change</th>
          <th>status</th>
          <th>time</th>
          <th class="mid-only">what changed</th>
          {!plain && <th class="wide-only">why it ran or was skipped ({b})</th>}
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => (
          <tr
            key={n.name}
            data-node={n.name}
            class={`c-${n.colour} ${n.slower ? "slower" : ""} ${n.failed ? "failed" : ""} ${
              n.name === selected ? "chosen" : ""
            }`}
          >
            <td>{n.name}</td>
            <td>{n.change}</td>
            <td>
              {n.status_a ? <Badge status={n.status_a} /> : "-"} &rarr;{" "}
              {n.status_b ? <Badge status={n.status_b} /> : "-"}
            </td>
            <td class="time" title={`${a} → ${b}`}>
              {fmtDuration(n.duration_a)} &rarr; {fmtDuration(n.duration_b)}{" "}
              {n.slowdown != null && <span class={n.slower ? "delta slower" : "delta"}>{fmtShare(n.slowdown)}</span>}
            </td>
            <td class="mid-only details">{n.details.join("; ")}</td>
            {!plain && <td class="wide-only details">{n.why ?? ""}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DatasetsTable({ datasets }: { datasets: DatasetChange[] }) {
  return (
    <table class="list" id="dataset-diff">
      <thead>
        <tr>
          <th>dataset</th>
          <th>rows</th>
          <th>nulls</th>
          <th>schema</th>
        </tr>
      </thead>
      <tbody>
        {datasets.map((d) => {
          const schema = [
            ...d.columns_added.map((c) => `+${c}`),
            ...d.columns_removed.map((c) => `-${c}`),
            ...d.retyped.map((r) => `${r.column}: ${r.a} → ${r.b}`),
          ];
          return (
            <tr key={d.dataset} data-dataset={d.dataset} class={d.changed ? "changed" : ""}>
              <td>
                {d.dataset}
                {!d.in_a && <span class="chip c-added">new</span>}
                {!d.in_b && <span class="chip c-removed">not written</span>}
              </td>
              <td class="rows">
                <Arrow a={d.rows_a} b={d.rows_b} format={fmtCount} />
                <span class="delta">{rowsDelta(d)}</span>
              </td>
              <td class="nulls">
                <Arrow a={d.nulls_a} b={d.nulls_b} format={fmtCount} />
              </td>
              <td class="schema">
                {schema.length ? schema.join(", ") : d.version_changed ? "same schema, new data" : "same"}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function PairsTable({
  id,
  pairs,
  a,
  b,
  template,
}: {
  id: string;
  pairs: Pair[];
  a: string;
  b: string;
  template?: string | null;
}) {
  if (!pairs.length) return <p class="muted">Same run facts.</p>;
  const show = (name: string, value: unknown) => {
    if (name === "git_sha" && typeof value === "string") return <GitSha sha={value} template={template} />;
    if (name === "duration_s" && typeof value === "number") return fmtDuration(value);
    return fmtValue(value);
  };
  return (
    <table class="list" id={id}>
      <thead>
        <tr>
          <th>what</th>
          <th>{a}</th>
          <th>{b}</th>
        </tr>
      </thead>
      <tbody>
        {pairs.map((p) => (
          <tr key={p.name} data-name={p.name}>
            <td>{p.name}</td>
            <td>{show(p.name, p.a)}</td>
            <td>{show(p.name, p.b)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
