// How numbers, times and names read on the page (the same forms as the CLI's).

export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds == null) return "-";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  let m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  m %= 60;
  return `${h}h${String(m).padStart(2, "0")}m`;
}

const two = (n: number) => String(n).padStart(2, "0");

/** Local "YYYY-MM-DD HH:MM:SS", as the CLI prints it. */
export function fmtTime(epoch: number | null | undefined): string {
  if (epoch == null) return "-";
  const d = new Date(epoch * 1000);
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
}

export function fmtCount(value: number | null | undefined): string {
  return typeof value === "number" ? value.toLocaleString("en-US") : "-";
}

export function fmtBytes(value: number | null | undefined): string {
  if (typeof value !== "number") return "-";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let size = value;
  let i = 0;
  while (size >= 1024 && i < units.length - 1) {
    size /= 1024;
    i += 1;
  }
  return `${i === 0 ? size : size.toFixed(1)} ${units[i]}`;
}

/** A change in percent, signed: "+155%", "-12%". */
export function fmtShare(share: number | null | undefined): string {
  if (share == null || !isFinite(share)) return "";
  const pct = Math.round(share * 100);
  return `${pct >= 0 ? "+" : ""}${pct}%`;
}

export function fmtValue(value: unknown): string {
  if (value === undefined || value === null) return "-";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}\u2026` : text;
}

/** A CSS class for a status word ("not run" -> "s-notrun"). */
export function statusClass(status: string | null | undefined): string {
  return `s-${String(status ?? "").replace(/[^a-z]/g, "")}`;
}

export function commitHref(template: string | null | undefined, sha: string | null | undefined) {
  return template && sha ? template.replace("{sha}", sha) : null;
}

export function runHref(runId: string): string {
  return `/runs/${encodeURIComponent(runId)}`;
}

/** Nested parameters as "a.b=1 c=x" (the run list's and run facts' short form). */
export function fmtParams(params: Record<string, unknown>, prefix = ""): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      out.push(...fmtParams(value as Record<string, unknown>, name));
    } else {
      out.push(`${name}=${typeof value === "object" ? JSON.stringify(value) : String(value)}`);
    }
  }
  return out;
}
