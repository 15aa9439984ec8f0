// The data the server (waldo/web/_payload.py and friends) puts in each page, as JSON.
// Times are epoch seconds; fields a node does not have are absent.

export interface Frame {
  file: string;
  line: number;
  func: string;
  code: string;
  user: boolean;
}

export interface Check {
  dataset?: string;
  expectation?: string;
  success?: boolean;
  observed?: unknown;
}

/** A node of a pipeline, with whatever the page colours it by. */
export interface PNode {
  name: string;
  func?: string;
  namespace?: string;
  inputs?: string[];
  outputs?: string[];
  tags?: string[];
  // run page
  status?: string;
  started?: number;
  finished?: number;
  duration?: number;
  rows?: number;
  reason?: string;
  error_type?: string;
  error_message?: string;
  traceback?: string;
  frames?: Frame[];
  checks_failed?: number;
  checks?: Check[];
  // diff page: added | removed | changed | failed | slower | same, and its first reason
  change?: string;
  why_changed?: string;
  // status page
  stale?: boolean;
  reasons?: string[];
}

export interface RunFacts {
  run_id: string;
  kind: string;
  status: string;
  started?: number | null;
  finished?: number | null;
  duration_s?: number | null;
  pipeline_names: string[];
  env?: string | null;
  nodes_ok: number;
  nodes_failed: number;
  nodes_skipped: number;
  git_sha?: string | null;
  git_dirty?: boolean | null;
  user_name?: string | null;
  host?: string | null;
  runner?: string | null;
  runtime_params: Record<string, unknown>;
  tags: string[];
  project?: string | null;
  kedro_version?: string | null;
  error_type?: string | null;
  error_message?: string | null;
  traceback?: string | null;
  frames?: Frame[];
  last_seen?: number;
}

export interface Triage {
  node?: string;
  error_type?: string | null;
  message?: string;
  running?: string[];
}

export interface DatasetSaved {
  dataset: string;
  node?: string;
  version?: string;
  stats?: Record<string, any>;
  rows?: number;
  nulls?: number;
  usual?: number;
  drop?: boolean;
}

export interface NodePoint {
  run_id: string;
  t?: number;
  status?: string;
  duration?: number;
  rows?: number;
}

export interface DatasetPoint {
  run_id: string;
  t?: number;
  rows?: number;
  nulls?: number;
  usual?: number;
  drop?: boolean;
}

interface Common {
  static: boolean;
  version: string;
  poll?: string;
  commit_url?: string | null;
}

export interface LiveState {
  run: RunFacts;
  triage: Triage | null;
  states: Record<string, Partial<PNode>>;
  datasets: DatasetSaved[];
}

export interface RunData extends Common {
  page: "run";
  run: RunFacts;
  triage: Triage | null;
  nodes: PNode[];
  datasets: DatasetSaved[];
  previous?: string | null;
  histories?: { nodes?: Record<string, NodePoint[]>; datasets?: Record<string, DatasetPoint[]> };
}

export interface TrendPoint {
  run_id: string;
  status: string;
  t: number;
  duration: number | null;
}

export interface RunsData extends Common {
  page: "runs";
  filters: Record<string, string>;
  options: { statuses: string[]; pipelines: string[]; kinds: string[] };
  total: number;
  page_number: number;
  pages: number;
  runs: RunFacts[];
  trend: TrendPoint[];
}

export interface NodeChange {
  name: string;
  change: string;
  details: string[];
  status_a?: string | null;
  status_b?: string | null;
  duration_a?: number | null;
  duration_b?: number | null;
  slowdown?: number | null;
  slower: boolean;
  failed: boolean;
  why?: string | null;
  changed: boolean;
  colour: string;
}

export interface DatasetChange {
  dataset: string;
  in_a: boolean;
  in_b: boolean;
  rows_a?: number | null;
  rows_b?: number | null;
  nulls_a?: number | null;
  nulls_b?: number | null;
  columns_added: string[];
  columns_removed: string[];
  retyped: { column: string; a: string; b: string }[];
  version_changed: boolean;
  changed: boolean;
}

export interface Pair {
  name: string;
  a: unknown;
  b: unknown;
}

export interface DiffData extends Common {
  page: "diff";
  a: RunFacts;
  b: RunFacts;
  facts: Pair[];
  params: Pair[];
  nodes: NodeChange[];
  plain_b: boolean;
  datasets: DatasetChange[];
  graph: PNode[];
}

export interface CompareData extends Common {
  page: "compare";
  runs: RunFacts[];
  params: { name: string; values: unknown[]; differs: boolean }[];
}

export interface StatusData extends Common {
  page: "status";
  available: boolean;
  message?: string;
  pipeline?: string;
  pipelines?: string[];
  to_run?: number;
  nodes?: { node: string; stale: boolean; reasons: string[]; last_run?: string | null }[];
  graph?: PNode[];
}

export type PageData = RunData | RunsData | DiffData | CompareData | StatusData;
