// Pieces every page uses: the top bar, status badges, git links, tracebacks.

import type { ComponentChildren } from "preact";
import { commitHref, runHref, statusClass } from "../format";
import type { Frame } from "../types";

export function Shell({
  title,
  isStatic,
  version,
  children,
}: {
  title: string;
  isStatic: boolean;
  version: string;
  children: ComponentChildren;
}) {
  return (
    <>
      <header class="top">
        {isStatic ? <b class="brand">Waldo</b> : <a class="brand" href="/">Waldo</a>}
        {!isStatic && (
          <nav>
            <a href="/">runs</a>
            <a href="/status">status</a>
          </nav>
        )}
        <span class="muted tagline">flight recorder of your pipelines · v{version}</span>
      </header>
      <main aria-label={title}>{children}</main>
    </>
  );
}

export function Badge({ status, id }: { status: string | null | undefined; id?: string }) {
  return (
    <span id={id} class={`badge ${statusClass(status)}`}>
      {status ?? "-"}
    </span>
  );
}

export function RunLink({ runId, isStatic }: { runId: string; isStatic: boolean }) {
  return isStatic ? <code>{runId}</code> : <a href={runHref(runId)}>{runId}</a>;
}

export function GitSha({
  sha,
  dirty,
  template,
}: {
  sha: string | null | undefined;
  dirty?: boolean | null;
  template?: string | null;
}) {
  if (!sha) return <span class="muted">-</span>;
  const href = commitHref(template, sha);
  const text = sha.slice(0, 10) + (dirty ? " (dirty)" : "");
  return href ? (
    <a class="git-sha" href={href} target="_blank" rel="noreferrer" title={sha}>
      {text}
    </a>
  ) : (
    <code class="git-sha" title={sha}>
      {text}
    </code>
  );
}

function FrameLine({ frame }: { frame: Frame }) {
  return (
    <li class={frame.user ? "frame user" : "frame library"}>
      <span class="where">
        {frame.file}:{frame.line} in <b>{frame.func}</b>
      </span>
      {frame.code && <code>{frame.code}</code>}
    </li>
  );
}

/** An error: its line, the user's frames first, the libraries' folded, then the raw text. */
export function Traceback({
  errorType,
  message,
  frames,
  text,
}: {
  errorType?: string | null;
  message?: string | null;
  frames?: Frame[];
  text?: string | null;
}) {
  const mine = (frames ?? []).filter((f) => f.user);
  const theirs = (frames ?? []).filter((f) => !f.user);
  return (
    <div class="traceback">
      <p class="error-line">
        <b>{errorType ?? "Error"}</b>: {message}
      </p>
      {mine.length > 0 && (
        <ol class="frames user-frames" aria-label="your code">
          {mine.map((f, i) => (
            <FrameLine key={i} frame={f} />
          ))}
        </ol>
      )}
      {theirs.length > 0 && (
        <details class="library-frames">
          <summary>
            {theirs.length} frame{theirs.length === 1 ? "" : "s"} in Kedro, Python and other
            libraries
          </summary>
          <ol class="frames">
            {theirs.map((f, i) => (
              <FrameLine key={i} frame={f} />
            ))}
          </ol>
        </details>
      )}
      {text && (
        <details class="raw-traceback">
          <summary>full traceback</summary>
          <pre>{text}</pre>
        </details>
      )}
    </div>
  );
}

export function FactsTable({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <table class="facts">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return (await response.json()) as T;
}
