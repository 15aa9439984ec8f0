// What colour a box gets and what its small print says, in each of the graph's modes:
// a run's node states, a diff's changes, or what `waldo status` would re-run.

import { fmtCount, fmtDuration, statusClass } from "../format";
import type { PNode } from "../types";

export type Mode = "status" | "change" | "stale";

const STATUS_ORDER = ["error", "running", "interrupted", "queued", "complete", "skipped", "not run"];
const CHANGE_ORDER = ["failed", "removed", "added", "changed", "slower", "same"];

/** The state a namespace box shows for its nodes: the most urgent among them; a box
 * whose nodes are partly done and partly queued is running. */
export function groupStatus(members: PNode[]): string {
  const found = new Set(members.map((m) => m.status ?? "not run"));
  if (found.has("queued") && found.has("complete") && !found.has("error")) return "running";
  return STATUS_ORDER.find((s) => found.has(s)) ?? "not run";
}

export function groupChange(members: PNode[]): string {
  const found = new Set(members.map((m) => m.change ?? "same"));
  return CHANGE_ORDER.find((c) => found.has(c)) ?? "same";
}

export function vertexClass(mode: Mode, members: PNode[]): string {
  if (!members.length) return "";
  if (mode === "status") return statusClass(groupStatus(members));
  if (mode === "change") return `c-${groupChange(members)}`;
  return members.some((m) => m.stale) ? "st-stale" : "st-fresh";
}

/** The state word tests and tooltips read (data-status of a box). */
export function vertexState(mode: Mode, members: PNode[]): string {
  if (mode === "status") return groupStatus(members);
  if (mode === "change") return groupChange(members);
  return members.some((m) => m.stale) ? "stale" : "up to date";
}

function sum(values: (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => typeof v === "number");
  return known.length ? known.reduce((a, b) => a + b, 0) : undefined;
}

/** How long a node took, or for a running one how long it has been going. */
function took(node: PNode, now: number): number | undefined {
  if (node.duration != null) return node.duration;
  if (node.status === "running" && node.started != null) return Math.max(now - node.started, 0);
  return undefined;
}

/** The small print under a box's name: time and rows written, what changed, or why it
 * would run (a namespace's box: how many of its nodes, and the sums). */
export function badges(mode: Mode, members: PNode[], group: boolean): string[] {
  const out: string[] = [];
  if (group) out.push(`${members.length} nodes`);
  if (mode === "status") {
    const now = Date.now() / 1000;
    const duration = sum(members.map((m) => took(m, now)));
    const rows = sum(members.map((m) => m.rows));
    if (duration !== undefined) out.push(fmtDuration(duration));
    if (rows !== undefined) out.push(`${fmtCount(rows)} rows`);
  } else if (mode === "change") {
    const change = groupChange(members);
    if (group) {
      const changed = members.filter((m) => (m.change ?? "same") !== "same").length;
      if (changed) out.push(`${changed} ${change === "same" ? "changed" : change}`);
    } else if (change !== "same") {
      out.push(members[0].why_changed ?? change);
    }
  } else {
    const stale = members.filter((m) => m.stale);
    if (group) out.push(stale.length ? `${stale.length} would run` : "up to date");
    else out.push(stale.length ? (members[0].reasons?.[0] ?? "would run") : "up to date");
  }
  return out;
}

export function checksFailed(members: PNode[]): number {
  return members.reduce((n, m) => n + (m.checks_failed ?? 0), 0);
}

export const LEGENDS: Record<Mode, [string, string][]> = {
  status: [
    ["s-queued", "queued"],
    ["s-running", "running"],
    ["s-complete", "complete"],
    ["s-error", "error"],
    ["s-interrupted", "interrupted"],
    ["s-skipped", "skipped"],
    ["s-notrun", "not run"],
  ],
  change: [
    ["c-failed", "failed"],
    ["c-added", "added"],
    ["c-removed", "removed"],
    ["c-changed", "changed"],
    ["c-slower", "> 20% slower"],
    ["c-same", "same"],
  ],
  stale: [
    ["st-stale", "would run"],
    ["st-fresh", "up to date"],
  ],
};
