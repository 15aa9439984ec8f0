// A run: where it stopped first (triage), its pipeline coloured by node state (live
// while it runs), the chosen node's details and history, a timeline, what it wrote.

import { useEffect, useMemo, useState } from "preact/hooks";
import { DatasetRows, NodeHistory } from "../charts";
import {
  Badge,
  FactsTable,
  GitSha,
  getJson,
  RunLink,
  Shell,
  Traceback,
} from "../components/common";
import {
  fmtBytes,
  fmtCount,
  fmtDuration,
  fmtParams,
  fmtTime,
  fmtValue,
  statusClass,
} from "../format";
import { Graph } from "../graph/Graph";
import type { DatasetPoint, DatasetSaved, LiveState, NodePoint, PNode, RunData } from "../types";

const STATE_KEYS = [
  "status",
  "started",
  "finished",
  "duration",
  "rows",
  "reason",
  "error_type",
  "error_message",
  "traceback",
  "frames",
] as const;

/** The pipeline's nodes with the states of a live update. */
function applyLive(nodes: PNode[], live: LiveState): PNode[] {
  const running = live.run.status === "running";
  const known = new Set(nodes.map((n) => n.name));
  const updated = nodes.map((n) => {
    const next: PNode = { ...n };
    for (const key of STATE_KEYS) delete next[key];
    return { ...next, ...(live.states[n.name] ?? { status: running ? "queued" : "not run" }) };
  });
  for (const [name, state] of Object.entries(live.states)) {
    if (!known.has(name)) updated.push({ name, ...state });
  }
  return updated;
}

function useHistory<T>(
  data: RunData,
  kind: "node" | "dataset",
  name: string | null,
  refresh: string,
): T[] | null {
  const embedded =
    kind === "node" ? data.histories?.nodes?.[name ?? ""] : data.histories?.datasets?.[name ?? ""];
  const [fetched, setFetched] = useState<T[] | null>(null);
  useEffect(() => {
    setFetched(null);
    if (!name || data.static || embedded) return;
    const query = new URLSearchParams({ run: data.run.run_id, [kind]: name });
    getJson<T[]>(`/api/history?${query}`).then(setFetched, () => setFetched([]));
  }, [name, refresh]);
  return (embedded as T[] | undefined) ?? fetched;
}

export function RunPage({ initial }: { initial: RunData }) {
  const [data, setData] = useState(initial);
  const [selected, setSelected] = useState<string | null>(initial.triage?.node ?? null);
  const [live, setLive] = useState(initial.run.status === "running" && !initial.static);
  const run = data.run;

  useEffect(() => {
    if (!live || !data.poll) return;
    let timer = 0;
    let stopped = false;
    const poll = () =>
      getJson<LiveState>(data.poll!).then(
        (state) => {
          if (stopped) return;
          setData((d) => ({
            ...d,
            run: state.run,
            triage: state.triage,
            nodes: applyLive(d.nodes, state),
            datasets: state.datasets,
          }));
          if (state.run.status === "running") timer = window.setTimeout(poll, 1000);
          else setLive(false);
        },
        () => {
          if (!stopped) timer = window.setTimeout(poll, 3000);
        },
      );
    timer = window.setTimeout(poll, 1000);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [live]);

  const node = data.nodes.find((n) => n.name === selected) ?? null;
  return (
    <Shell title={`Run ${run.run_id}`} isStatic={data.static} version={data.version}>
      <RunHeader data={data} live={live} onSelect={setSelected} />
      <section class="graph-and-panel">
        <Graph
          nodes={data.nodes}
          mode="status"
          selected={selected}
          onSelect={setSelected}
          focus={initial.triage?.node}
        />
        <aside id="node-panel" class="panel" hidden={!node}>
          {node && <NodePanel data={data} node={node} onClose={() => setSelected(null)} />}
        </aside>
      </section>
      <section>
        <h2>Timeline</h2>
        <Timeline data={data} onSelect={setSelected} />
      </section>
      <DatasetsSection data={data} />
      <section>
        <h2>Run</h2>
        <RunFactsTable data={data} />
      </section>
      {data.static && (
        <p class="muted">
          A snapshot written by Waldo {data.version}: it does not update itself.
        </p>
      )}
    </Shell>
  );
}

function RunHeader({
  data,
  live,
  onSelect,
}: {
  data: RunData;
  live: boolean;
  onSelect: (name: string) => void;
}) {
  const run = data.run;
  const counts = useMemo(() => {
    const found: Record<string, number> = {};
    for (const n of data.nodes) found[n.status ?? "not run"] = (found[n.status ?? "not run"] ?? 0) + 1;
    return Object.entries(found).sort();
  }, [data.nodes]);
  const triage = data.triage;
  return (
    <header class="run-header">
      {!data.static && (
        <p class="crumbs">
          <a href="/">&larr; all runs</a>
          {data.previous && (
            <>
              {" · "}
              <a
                id="diff-previous"
                href={`/diff?${new URLSearchParams({ a: data.previous, b: run.run_id })}`}
              >
                diff with the previous run
              </a>
            </>
          )}
        </p>
      )}
      <h1>
        Run <span class="run-id">{run.run_id}</span> <Badge id="run-status" status={run.status} />
        <span class="chip kind">{run.kind}</span>
        {live && <span class="live">live</span>}
      </h1>
      {triage && run.status === "failed" && (
        <div class="triage failed" id="triage" role="alert">
          {triage.node ? (
            <>
              Failed in node{" "}
              <button type="button" class="linklike node-link" onClick={() => onSelect(triage.node!)}>
                {triage.node}
              </button>
              : <b>{triage.error_type}</b>: {triage.message}
            </>
          ) : (
            <>
              Failed before any node failed: <b>{triage.error_type}</b>: {triage.message}
            </>
          )}
        </div>
      )}
      {triage && run.status === "interrupted" && (
        <div class="triage interrupted" id="triage" role="alert">
          Interrupted after <b>{fmtDuration(run.duration_s)}</b>
          {run.last_seen ? <> (last seen alive at {fmtTime(run.last_seen)})</> : null}
          {triage.running && triage.running.length > 0 && (
            <> while running {triage.running.join(", ")}</>
          )}
          : {triage.message || "the process stopped without ending the run"}.
        </div>
      )}
      <p class="meta">
        <span>{run.pipeline_names.join(", ") || "-"}</span>
        <span>started {fmtTime(run.started)}</span>
        <span>
          took <b id="run-duration">{fmtDuration(run.duration_s)}</b>
        </span>
        <span id="node-counts">
          {counts.map(([s, n]) => (
            <span key={s} class={`count ${statusClass(s)}`}>
              {n} {s}
            </span>
          ))}
        </span>
        <span>
          git <GitSha sha={run.git_sha} dirty={run.git_dirty} template={data.commit_url} />
        </span>
      </p>
    </header>
  );
}

function NodePanel({ data, node, onClose }: { data: RunData; node: PNode; onClose: () => void }) {
  const history = useHistory<NodePoint>(data, "node", node.name, `${node.status}`);
  const rows: [string, preact.ComponentChildren][] = [
    ["status", <Badge status={node.status} />],
    ["function", node.func ?? "-"],
  ];
  if (node.namespace) rows.push(["namespace", node.namespace]);
  rows.push(
    ["reads", (node.inputs ?? []).join(", ") || "-"],
    ["writes", (node.outputs ?? []).join(", ") || "-"],
    ["started", fmtTime(node.started)],
    ["duration", fmtDuration(node.duration)],
    ["rows written", fmtCount(node.rows)],
    ["why it ran", node.reason ?? "-"],
  );
  if (node.tags?.length) rows.push(["tags", node.tags.join(", ")]);
  return (
    <div class="node-panel">
      <button type="button" class="close" aria-label="close" onClick={onClose}>
        ×
      </button>
      <h3>{node.name}</h3>
      {(node.error_message || node.error_type) && (
        <Traceback
          errorType={node.error_type}
          message={node.error_message}
          frames={node.frames}
          text={node.traceback}
        />
      )}
      <Checks node={node} />
      <FactsTable rows={rows} />
      <h4>Its last runs</h4>
      {history === null ? (
        <p class="muted">{data.static ? "Not in this report." : "Loading…"}</p>
      ) : (
        <NodeHistory points={history} current={data.run.run_id} />
      )}
    </div>
  );
}

function Checks({ node }: { node: PNode }) {
  if (node.checks && node.checks.length) {
    return (
      <table class="list checks">
        <thead>
          <tr>
            <th>dataset</th>
            <th>check</th>
            <th>result</th>
            <th>observed</th>
          </tr>
        </thead>
        <tbody>
          {node.checks.map((c, i) => (
            <tr key={i} class={c.success ? "ok" : "bad"}>
              <td>{c.dataset ?? "-"}</td>
              <td>{c.expectation ?? "-"}</td>
              <td>{c.success ? "passed" : "failed"}</td>
              <td>{fmtValue(c.observed)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  if (node.checks_failed) {
    return (
      <p class="checks-failed">
        {node.checks_failed} data check{node.checks_failed === 1 ? "" : "s"} failed.
      </p>
    );
  }
  return null;
}

/** Rows the timeline draws before the reader asks for all (a big run has thousands). */
const TIMELINE_ROWS = 300;

function Timeline({ data, onSelect }: { data: RunData; onSelect: (name: string) => void }) {
  const [all, setAll] = useState(false);
  const started = data.nodes
    .filter((n) => n.started != null)
    .sort((a, b) => a.started! - b.started!);
  if (!started.length) return <p class="muted">No node has started yet.</p>;
  const shown = all ? started : started.slice(0, TIMELINE_ROWS);
  const now = Date.now() / 1000;
  const end = (n: PNode) =>
    Math.max(n.finished ?? (n.status === "running" ? now : n.started!), n.started!);
  const t0 = Math.min(data.run.started ?? Infinity, started[0].started!);
  let t1 = Math.max(...started.map(end), data.run.finished ?? 0);
  if (data.run.status === "interrupted" && data.run.last_seen) t1 = Math.max(t1, data.run.last_seen);
  const span = Math.max(t1 - t0, 0.001);
  const pct = (t: number) => `${(((t - t0) / span) * 100).toFixed(2)}%`;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div class="timeline" id="timeline">
      <div class="tl-scroll">
        <div class="tl-row tl-axis">
          <span class="tl-name" />
          <span class="tl-track">
            {ticks.map((k) => (
              <span key={k} class="tick" style={{ left: `${k * 100}%` }}>
                {fmtDuration(span * k)}
              </span>
            ))}
          </span>
        </div>
        {shown.map((n) => (
          <div key={n.name} class="tl-row" data-node={n.name} onClick={() => onSelect(n.name)}>
            <span class="tl-name" title={n.name}>
              {n.name}
            </span>
            <span class="tl-track">
              <span
                class={`tl-bar ${statusClass(n.status)}`}
                style={{ left: pct(n.started!), width: `max(2px, ${pct(t0 + end(n) - n.started!)})` }}
                title={`${n.name}: ${n.status}, ${fmtDuration(n.duration)}`}
              />
              <span class="tl-dur" style={{ left: pct(end(n)) }}>
                {fmtDuration(n.duration ?? (n.status === "running" ? now - n.started! : null))}
              </span>
            </span>
          </div>
        ))}
      </div>
      {shown.length < started.length && (
        <button type="button" class="show-all" onClick={() => setAll(true)}>
          show all {started.length.toLocaleString("en-US")} nodes
        </button>
      )}
    </div>
  );
}

function statsDetail(stats: Record<string, any> | undefined): string {
  if (!stats) return "";
  const parts: string[] = [];
  if (stats.schema) {
    parts.push(
      `schema: ${Object.entries(stats.schema)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
  }
  if (stats.sampled) parts.push(`summarised on the first ${fmtCount(stats.sample_rows)} rows`);
  return parts.join("; ");
}

function DatasetsSection({ data }: { data: RunData }) {
  const items = data.datasets;
  const first = items.find((d) => d.drop) ?? items.find((d) => d.rows != null);
  const [chosen, setChosen] = useState<string | null>(first?.dataset ?? null);
  const points = useHistory<DatasetPoint>(data, "dataset", chosen, data.run.status);
  if (!items.length) return null;
  return (
    <section id="datasets-section">
      <h2>Datasets written</h2>
      <div class="table-box">
        <table class="list" id="datasets-table">
          <thead>
            <tr>
              <th>dataset</th>
              <th class="wide-only">by node</th>
              <th>rows</th>
              <th class="wide-only">columns</th>
              <th>nulls</th>
              <th class="wide-only">size</th>
              <th class="wide-only">version</th>
              <th class="wide-only">details</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d: DatasetSaved) => (
              <tr
                key={`${d.dataset}/${d.node}`}
                data-dataset={d.dataset}
                class={`${d.drop ? "drop" : ""} ${d.dataset === chosen ? "chosen" : ""}`}
                onClick={() => setChosen(d.dataset)}
              >
                <td>
                  <button type="button" class="linklike">
                    {d.dataset}
                  </button>
                </td>
                <td class="wide-only">{d.node ?? "-"}</td>
                <td>
                  {fmtCount(d.rows)}
                  {d.drop && (
                    <span class="chip drop" title={`usual: ${fmtCount(d.usual)} rows`}>
                      drop
                    </span>
                  )}
                </td>
                <td class="wide-only">{fmtCount(d.stats?.columns)}</td>
                <td>{fmtCount(d.nulls)}</td>
                <td class="wide-only">{fmtBytes(d.stats?.bytes)}</td>
                <td class="wide-only">{(d.version ?? "-").slice(0, 12)}</td>
                <td class="wide-only details">{statsDetail(d.stats)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {chosen && (
        <div id="dataset-chart">
          <h3>{chosen}: rows over runs</h3>
          {points === null ? (
            <p class="muted">{data.static ? "Not in this report." : "Loading…"}</p>
          ) : (
            <DatasetRows name={chosen} points={points} />
          )}
        </div>
      )}
    </section>
  );
}

function RunFactsTable({ data }: { data: RunData }) {
  const run = data.run;
  const rows: [string, preact.ComponentChildren][] = [
    ["pipeline", run.pipeline_names.join(", ") || "-"],
    ["kind", run.kind],
    ["project", run.project ?? "-"],
    ["started", fmtTime(run.started)],
    ["finished", fmtTime(run.finished)],
    ["env", run.env ?? "-"],
    ["runner", run.runner ?? "-"],
    ["git", <GitSha sha={run.git_sha} dirty={run.git_dirty} template={data.commit_url} />],
    ["user@host", `${run.user_name ?? "-"}@${run.host ?? "-"}`],
    ["parameters", fmtParams(run.runtime_params).join(", ") || "-"],
    ["tags", run.tags.join(", ") || "-"],
  ];
  if (data.previous && data.static) rows.push(["previous run", <RunLink runId={data.previous} isStatic />]);
  const failedBeforeNodes = run.status !== "success" && run.error_message && !data.triage?.node;
  return (
    <>
      <FactsTable rows={rows} />
      {failedBeforeNodes && run.status === "failed" && (
        <Traceback
          errorType={run.error_type}
          message={run.error_message}
          frames={run.frames}
          text={run.traceback}
        />
      )}
    </>
  );
}

