// The dev server for automated browser runs: the repository's vite.config.ts without file watching or HMR.
// With them, an edit to src/ during a run makes Vite full-reload the page, which kills the scenario worker
// mid-test ("Execution context was destroyed"). Used by playwright.config.ts and bench/bench.config.ts.
import { defineConfig } from 'vite';
import base from '../vite.config.ts';

export default defineConfig({
  ...base,
  server: { ...base.server, hmr: false, watch: null },
});
