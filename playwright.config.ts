import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

// `npx playwright install` cannot work here: tests run the system Chromium (Debian package `chromium`).
const chromium = process.env.SCION_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  // One line, no stack: this is a setup problem, not a test failure.
  process.stderr.write(
    `Chromium not found at ${chromium}: install it with \`apt-get install chromium\` or set SCION_CHROMIUM=/path/to/chromium\n`,
  );
  process.exit(1);
}

const port = Number(process.env.SCION_E2E_PORT ?? 5181);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: './e2e',
  testMatch: '**/*.e2e.ts',
  timeout: 60_000,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? 'line' : 'list',
  use: {
    baseURL,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    // The `npm start` stack (bucket, presign service, Vite without file watching), run by the binary
    // directly: a killed npx would leave its children holding the ports. radosgw when installed.
    command: `node_modules/.bin/tsx demo/serve.ts --port ${port} --no-watch --bucket auto --data test-results/e2e-data`,
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
    url: `${baseURL}/demo/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
