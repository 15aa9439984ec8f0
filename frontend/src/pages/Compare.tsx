// Parameters of up to ten runs side by side; the rows where they differ stand out.

import { useState } from "preact/hooks";
import { Badge, GitSha, RunLink, Shell } from "../components/common";
import { fmtDuration, fmtTime, fmtValue } from "../format";
import type { CompareData } from "../types";

export function ComparePage({ data }: { data: CompareData }) {
  const [onlyDiffering, setOnlyDiffering] = useState(false);
  const rows = onlyDiffering ? data.params.filter((p) => p.differs) : data.params;
  return (
    <Shell title="Parameters" isStatic={data.static} version={data.version}>
      <h1>Parameters of {data.runs.length} runs</h1>
      <label class="toggle">
        <input
          type="checkbox"
          id="only-differing"
          checked={onlyDiffering}
          onChange={(e) => setOnlyDiffering((e.target as HTMLInputElement).checked)}
        />{" "}
        only the parameters that differ
      </label>
      <div class="table-box">
        <table class="list" id="compare">
          <thead>
            <tr>
              <th>run</th>
              {data.runs.map((r) => (
                <th key={r.run_id} data-run={r.run_id}>
                  <RunLink runId={r.run_id} isStatic={data.static} />
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr class="fact">
              <td>status</td>
              {data.runs.map((r) => (
                <td key={r.run_id}>
                  <Badge status={r.status} />
                </td>
              ))}
            </tr>
            <tr class="fact">
              <td>started</td>
              {data.runs.map((r) => (
                <td key={r.run_id}>{fmtTime(r.started)}</td>
              ))}
            </tr>
            <tr class="fact">
              <td>duration</td>
              {data.runs.map((r) => (
                <td key={r.run_id}>{fmtDuration(r.duration_s)}</td>
              ))}
            </tr>
            <tr class="fact">
              <td>git</td>
              {data.runs.map((r) => (
                <td key={r.run_id}>
                  <GitSha sha={r.git_sha} dirty={r.git_dirty} template={data.commit_url} />
                </td>
              ))}
            </tr>
            {rows.map((p) => (
              <tr key={p.name} data-param={p.name} class={p.differs ? "differs" : ""}>
                <td>{p.name}</td>
                {p.values.map((v, i) => (
                  <td key={i}>{fmtValue(v)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!data.params.length && <p class="muted">These runs were given no parameters.</p>}
    </Shell>
  );
}
