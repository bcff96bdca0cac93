// Benchmarks: `npm run bench`. The e2e setup (system Chromium, Vite dev server, one worker) on its own port,
// so a benchmark can run beside `npx playwright test`. Never run by `npm test`: that config matches *.e2e.ts only.
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
  use: { ...e2e.use, baseURL },
  webServer: {
    command: `node_modules/.bin/vite --config e2e/vite.config.ts --host 127.0.0.1 --port ${port} --strictPort`,
    cwd: root,
    url: `${baseURL}/demo/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
