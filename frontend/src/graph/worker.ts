// The layout, off the page's thread: a big pipeline lays out while the page stays usable.
import { layoutGraph, type LayoutInput } from "./layout";

self.onmessage = (event: MessageEvent<{ id: number; input: LayoutInput }>) => {
  const { id, input } = event.data;
  self.postMessage({ id, result: layoutGraph(input) });
};
