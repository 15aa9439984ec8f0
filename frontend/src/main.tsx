// Waldo's pages: each HTML page carries its data as JSON (#waldo-data) and this
// script draws the page it names. The same bundle serves `waldo serve` and the
// self-contained `waldo report` file.

import { render } from "preact";
import "./style.css";
import { ComparePage } from "./pages/Compare";
import { DiffPage } from "./pages/Diff";
import { RunPage } from "./pages/Run";
import { RunsPage } from "./pages/Runs";
import { StatusPage } from "./pages/Status";
import type { PageData } from "./types";

declare global {
  interface Window {
    waldoReadyAt?: number;
  }
}

function Page({ data }: { data: PageData }) {
  switch (data.page) {
    case "run":
      return <RunPage initial={data} />;
    case "runs":
      return <RunsPage initial={data} />;
    case "diff":
      return <DiffPage data={data} />;
    case "compare":
      return <ComparePage data={data} />;
    case "status":
      return <StatusPage data={data} />;
  }
}

const data = JSON.parse(document.getElementById("waldo-data")!.textContent!) as PageData;
render(<Page data={data} />, document.getElementById("app")!);
// The page answers input from here on (a graph may still be laying out in a worker).
requestAnimationFrame(() => {
  window.waldoReadyAt = performance.now();
  document.body.dataset.ready = "1";
  if (!document.querySelector(".graph-svg")) document.body.dataset.drawn = "1";
});
