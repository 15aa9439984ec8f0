// The run list: filters (pipeline, status, kind, tag, parameter value, dates), the
// duration of runs over time, one page of runs, and picking runs to compare. While a
// listed run is going the list asks the journal every two seconds and redraws.

import { useEffect, useState } from "preact/hooks";
import { DurationTrend } from "../charts";
import { Badge, GitSha, getJson, Shell } from "../components/common";
import { fmtDuration, fmtParams, fmtTime, runHref } from "../format";
import type { RunFacts, RunsData } from "../types";

const MAX_PICKED = 10;

export function RunsPage({ initial }: { initial: RunsData }) {
  const [data, setData] = useState(initial);
  const [picked, setPicked] = useState<string[]>([]);
  const going = data.runs.some((r) => r.status === "running");

  useEffect(() => {
    if (!going || !data.poll) return;
    const timer = window.setTimeout(() => {
      getJson<RunsData>(data.poll!).then(setData, () => setData({ ...data }));
    }, 2000);
    return () => clearTimeout(timer);
  }, [data]);

  const toggle = (runId: string, on: boolean) =>
    setPicked((now) =>
      on ? [...now.filter((r) => r !== runId), runId].slice(-MAX_PICKED) : now.filter((r) => r !== runId),
    );
  const f = data.filters;
  const query = (page: number) => {
    const q = new URLSearchParams(Object.entries(f).filter(([, v]) => v));
    q.set("page", String(page));
    return `/?${q}`;
  };
  // Oldest first for a diff: the list is newest first.
  const order = (ids: string[]) =>
    [...ids].sort(
      (a, b) => data.runs.findIndex((r) => r.run_id === b) - data.runs.findIndex((r) => r.run_id === a),
    );
  const pickedInOrder = order(picked);
  return (
    <Shell title="Runs" isStatic={data.static} version={data.version}>
      <h1>Runs</h1>
      <form class="filters" method="get" action="/" id="filters">
        <Select name="pipeline" value={f.pipeline} options={data.options.pipelines} />
        <Select name="status" value={f.status} options={data.options.statuses} />
        <Select name="kind" value={f.kind} options={data.options.kinds} />
        <label>
          tag
          <input name="tag" value={f.tag} size={10} placeholder="a --tags tag" />
        </label>
        <label>
          parameter
          <input name="param" value={f.param} size={14} placeholder="name=value" />
        </label>
        <label>
          from
          <input type="date" name="since" value={f.since} />
        </label>
        <label>
          until
          <input type="date" name="until" value={f.until} />
        </label>
        <button type="submit">filter</button>
        {Object.values(f).some(Boolean) && <a href="/">clear</a>}
      </form>
      <section>
        <h2>Duration over time</h2>
        <DurationTrend trend={data.trend} onPick={(runId) => (location.href = runHref(runId))} />
      </section>
      <section>
        <h2>
          {data.total.toLocaleString("en-US")} run{data.total === 1 ? "" : "s"}
        </h2>
        <div class="pick-bar" id="pick-bar">
          <span class="muted">
            {picked.length ? `${picked.length} picked` : "Pick runs to compare them."}
          </span>
          <a
            id="compare-picked"
            class={`button ${picked.length >= 2 ? "" : "disabled"}`}
            aria-disabled={picked.length < 2}
            href={picked.length >= 2 ? `/compare?runs=${pickedInOrder.map(encodeURIComponent).join(",")}` : undefined}
          >
            compare parameters
          </a>
          <a
            id="diff-picked"
            class={`button ${picked.length === 2 ? "" : "disabled"}`}
            aria-disabled={picked.length !== 2}
            href={
              picked.length === 2
                ? `/diff?${new URLSearchParams({ a: pickedInOrder[0], b: pickedInOrder[1] })}`
                : undefined
            }
          >
            diff two
          </a>
        </div>
        {data.runs.length ? (
          <RunsTable runs={data.runs} picked={picked} onPick={toggle} />
        ) : (
          <p>
            No runs match. Run your pipeline (<code>kedro run</code>) or try{" "}
            <code>waldo demo</code>.
          </p>
        )}
        <nav class="pager">
          {data.page_number > 1 && <a href={query(data.page_number - 1)}>&larr; newer</a>}
          <span>
            page {data.page_number} of {data.pages}
          </span>
          {data.page_number < data.pages && <a href={query(data.page_number + 1)}>older &rarr;</a>}
        </nav>
      </section>
    </Shell>
  );
}

function Select({ name, value, options }: { name: string; value: string; options: string[] }) {
  return (
    <label>
      {name}
      <select name={name} value={value}>
        <option value="">all</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}

function RunsTable({
  runs,
  picked,
  onPick,
}: {
  runs: RunFacts[];
  picked: string[];
  onPick: (runId: string, on: boolean) => void;
}) {
  return (
    <table class="list" id="runs">
      <thead>
        <tr>
          <th class="pick">
            <span class="sr-only">pick</span>
          </th>
          <th>run</th>
          <th>status</th>
          <th>kind</th>
          <th>started</th>
          <th>duration</th>
          <th class="mid-only">pipeline</th>
          <th class="mid-only">nodes ok/failed</th>
          <th class="wide-only">parameters</th>
          <th class="wide-only">git</th>
          <th class="wide-only">vs previous</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run, i) => {
          const older = runs[i + 1]?.run_id;
          return (
            <tr key={run.run_id} data-run={run.run_id} data-kind={run.kind}>
              <td class="pick">
                <input
                  type="checkbox"
                  aria-label={`pick ${run.run_id}`}
                  checked={picked.includes(run.run_id)}
                  onChange={(e) => onPick(run.run_id, (e.target as HTMLInputElement).checked)}
                />
              </td>
              <td class="run-id">
                <a href={runHref(run.run_id)}>{run.run_id}</a>
                {run.tags.length > 0 && <span class="tags"> {run.tags.map((t) => `#${t}`).join(" ")}</span>}
              </td>
              <td>
                <Badge status={run.status} />
              </td>
              <td class="kind">{run.kind}</td>
              <td>{fmtTime(run.started)}</td>
              <td>{fmtDuration(run.duration_s)}</td>
              <td class="mid-only">{run.pipeline_names.join(", ") || "-"}</td>
              <td class="mid-only">
                {run.nodes_ok}/{run.nodes_failed}
                {run.nodes_skipped ? ` (+${run.nodes_skipped} skipped)` : ""}
              </td>
              <td class="wide-only params">{fmtParams(run.runtime_params).join(" ")}</td>
              <td class="wide-only">
                <GitSha sha={run.git_sha} dirty={run.git_dirty} />
              </td>
              <td class="wide-only">
                {older && <a href={`/diff?${new URLSearchParams({ a: older, b: run.run_id })}`}>diff</a>}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
