// The consumer app from the packed tarball, in Chromium (`npm run test:package`, after prepare.ts).
import { defineConfig } from '@playwright/test';
import base from '../../playwright.config.ts';
import { PORTS } from './paths.ts';

export default defineConfig({
  ...base,
  testDir: '.',
  testMatch: '*.spec.ts',
  webServer: {
    command: `node_modules/.bin/tsx e2e/consumer/serve.ts`,
    cwd: '../..',
    url: `http://127.0.0.1:${PORTS.build}/`,
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
