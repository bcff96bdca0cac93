/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';

// One dev server, rooted at the repository, serves every page by its path:
//   /demo/                 -> demo/index.html
//   /e2e/pages/<x>.html    -> e2e/pages/<x>.html
// so pages and workers import library code as `../../src/<folder>/index.ts`.

// COOP/COEP are only needed by the classic "opfs" VFS (SharedArrayBuffer + Atomics); Scion must not require them.
const crossOriginIsolation =
  process.env.SCION_COI === '1'
    ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
    : {};

/** `npm start` prints the server's root URL: send it to the demo. */
const rootToDemo: Plugin = {
  name: 'scion-root-to-demo',
  configureServer(server) {
    server.middlewares.use((req, res, next) => {
      if (req.url !== '/') return next();
      res.writeHead(302, { Location: '/demo/' });
      res.end();
    });
  },
};

export default defineConfig({
  root: '.',
  plugins: [rootToDemo],
  server: {
    host: '127.0.0.1',
    headers: crossOriginIsolation,
    watch: { ignored: ['**/test-results/**', '**/playwright-report/**', '**/.data/**', '**/dist/**'] },
  },
  preview: { host: '127.0.0.1', headers: crossOriginIsolation },
  optimizeDeps: {
    // The package locates sqlite3.wasm relative to its own module; pre-bundling would move it.
    exclude: ['@sqlite.org/sqlite-wasm'],
    // Crawl worker entries too: a dependency first met inside a worker would otherwise be optimized
    // mid-test and make Vite reload the page.
    entries: ['demo/**/*.html', 'e2e/pages/**/*.{html,ts}', 'worker/**/*.ts', '!**/*.test.ts'],
  },
  worker: { format: 'es' },
  build: {
    rolldownOptions: { input: { demo: 'demo/index.html' } },
  },
  test: {
    include: ['src/**/*.test.ts', 'worker/**/*.test.ts', 'tools/**/*.test.ts'],
    environment: 'node',
    // One S3 bucket for every test file that talks to a real bucket (inject('testBucket')).
    globalSetup: ['tools/bucket/vitest-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 120_000,
  },
});
