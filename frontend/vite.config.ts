// Builds the whole front end into two files of the Python package, waldo.js and
// waldo.css, which the server (and `waldo report`) inline into every page.
import { defineConfig } from "vite";

export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "../src/waldo/web/assets",
    emptyOutDir: true,
    target: "es2020",
    reportCompressedSize: false,
    lib: {
      entry: "src/main.tsx",
      name: "waldo",
      formats: ["iife"],
      fileName: () => "waldo.js",
      cssFileName: "waldo",
    },
  },
  worker: { format: "iife" },
});
