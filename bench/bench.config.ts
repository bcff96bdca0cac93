// Benchmarks: `npm run bench` (SCION_BENCH_QUICK=1 for a small, fast run; see bench/config.ts). The e2e setup
// (system Chromium; bench/serve.ts: bucket, presign services, Vite without watching, network-shaping proxies) on its own port, so
// a benchmark can run beside `npx playwright test`. Never run by `npm test`: that config matches *.e2e.ts only.
// Each spec saves its section of bench/results.json; the teardown prints all of it as one table.
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import e2e from '../playwright.config.ts';

const port = Number(process.env.SCION_BENCH_PORT ?? 5182);
const baseURL = `http://127.0.0.1:${port}`;
const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  ...e2e,
  testDir: '.',
  testMatch: '**/*.bench.ts',
  outputDir: '../test-results/bench',
  timeout: 15 * 60_000,
  reporter: 'list',
  globalTeardown: './print-results.ts',
  use: { ...e2e.use, baseURL },
  webServer: {
    command: `node_modules/.bin/tsx bench/serve.ts --port ${port} --bucket auto --data test-results/bench-data`,
    cwd: root,
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
    url: `${baseURL}/scion-config.json`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
