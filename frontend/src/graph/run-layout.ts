// Lays views out in a worker (one for the page), remembering each layout so toggling
// back and forth costs nothing. A layout asked for while another is still being made
// replaces it: the graph only ever shows the reader's last choice, so the worker is
// stopped and a fresh one started rather than finishing a layout nobody will see.
// Where no worker can start (a browser may refuse one on a file:// page) the layout
// runs on the page's thread instead.
import { layoutGraph, type LayoutInput, type LayoutResult } from "./layout";
import LayoutWorker from "./worker?worker&inline";

interface Pending {
  key: string;
  input: LayoutInput;
  resolve: (result: LayoutResult) => void;
}

let worker: Worker | null | undefined;
let nextId = 0;
const waiting = new Map<number, Pending>();
const cache = new Map<string, Promise<LayoutResult>>();

function giveUpOnWorker() {
  worker = null;
  for (const { input, resolve } of waiting.values()) resolve(layoutGraph(input));
  waiting.clear();
}

/** Stop the layouts still being made: their promises never settle (nobody waits on
 * them any more) and they leave the cache, to be made again if asked for again. */
function abandonWaiting(unless: string) {
  if (!worker || !waiting.size || [...waiting.values()].some((p) => p.key === unless)) return;
  worker.terminate();
  worker = undefined;
  for (const { key } of waiting.values()) cache.delete(key);
  waiting.clear();
}

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new LayoutWorker();
    worker.onmessage = (event: MessageEvent<{ id: number; result: LayoutResult }>) => {
      waiting.get(event.data.id)?.resolve(event.data.result);
      waiting.delete(event.data.id);
    };
    worker.onerror = giveUpOnWorker;
  } catch {
    worker = null;
  }
  return worker;
}

function cacheKey(input: LayoutInput): string {
  const v = input.vertices.map((x) => `${x.id}:${x.width}x${x.height}`).join("|");
  return `${v}#${input.edges.map((e) => `${e.from}>${e.to}`).join("|")}`;
}

export function runLayout(input: LayoutInput): Promise<LayoutResult> {
  const key = cacheKey(input);
  abandonWaiting(key);
  let found = cache.get(key);
  if (!found) {
    const w = getWorker();
    found = w
      ? new Promise<LayoutResult>((resolve) => {
          const id = nextId++;
          waiting.set(id, { key, input, resolve });
          w.postMessage({ id, input });
        })
      : Promise.resolve().then(() => layoutGraph(input));
    cache.set(key, found);
  }
  return found;
}
