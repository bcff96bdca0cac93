// `npm run test:package`, step 1: a fresh consumer app installs the packed tarball as a user would,
// type-checks against its .d.ts (strict, no skipLibCheck), imports the engine and presign handler in
// plain Node, and builds with Vite. Step 2 (playwright.config.ts) runs the app in Chromium.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_DIR, REPO } from './paths.ts';

const run = (cmd: string, args: string[], cwd: string): string => {
  const started = Date.now();
  let out: string;
  try {
    out = execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (e) {
    throw new Error(`${[cmd, ...args].join(' ')} failed in ${cwd}:\n${(e as { stdout?: string }).stdout ?? ''}`, { cause: e });
  }
  process.stdout.write(`  ${[cmd.replace(REPO, ''), ...args].join(' ')}: ${Date.now() - started} ms\n`);
  return out;
};

await rm(APP_DIR, { recursive: true, force: true });
await cp(join(REPO, 'e2e/consumer/app'), APP_DIR, { recursive: true });
// `npm pack` runs the build (prepack) and prints the tarball's name last.
const tarball = run('npm', ['pack', '--pack-destination', APP_DIR, '--loglevel=error'], REPO).trim().split('\n').pop() as string;
// The tarball holds the build, the license and the README: no sources, tests, bench, demo or e2e.
const packed = run('tar', ['-tzf', join(APP_DIR, tarball)], REPO).trim().split('\n');
const stray = packed.filter((f) => !/^package\/(dist\/.+\.(js|d\.ts|js\.map)|dist\/vendor\/crc-32\/LICENSE|package\.json|README\.md|LICENSE)$/.test(f));
if (stray.length > 0 || !packed.includes('package/dist/worker/entry.js')) throw new Error(`The tarball holds unexpected files: ${stray.join(', ')}`);
const viteVersion = JSON.parse(await readFile(join(REPO, 'node_modules/vite/package.json'), 'utf8')).version as string;
run('npm', ['install', `./${tarball}`, `vite@${viteVersion}`, 'webpack@5.113.0', 'webpack-cli@7.3.1', 'deno@2.9.6', 'miniflare@4.20260730.0', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], APP_DIR);

run(join(REPO, 'node_modules/.bin/tsc'), ['-p', APP_DIR], APP_DIR);
const node = JSON.parse(run(process.execPath, ['node-check.mjs'], APP_DIR)) as { text: string; status: number; url: string };
if (node.text !== 'hello from node' || node.status !== 200 || !node.url.startsWith('http://127.0.0.1:9/notes/')) {
  throw new Error(`node-check.mjs printed ${JSON.stringify(node)}`);
}
// The bin says what is missing, in one line, and exits 2 (serve.ts then runs it for real).
const bin = spawnSync(join(APP_DIR, 'node_modules/.bin/scion-presign'), [], { cwd: APP_DIR, encoding: 'utf8', env: { PATH: process.env.PATH } });
if (bin.status !== 2 || !bin.stderr.startsWith('scion-presign: --tokens FILE is required')) throw new Error(`scion-presign without flags: ${bin.status} ${bin.stderr}`);
run(join(APP_DIR, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], APP_DIR);

// esbuild, as the README's bundler notes say: the app, the worker from scion-db/worker, and sqlite3.wasm
// beside the worker. Written under Vite's dist/ so that `vite preview` serves it at /esbuild/.
const esbuild = join(REPO, 'node_modules/.bin/esbuild');
const out = join(APP_DIR, 'dist/esbuild');
run(esbuild, ['src/main-esbuild.ts', '--bundle', '--format=esm', `--outfile=${out}/main.js`, '--log-level=warning'], APP_DIR);
run(esbuild, ['node_modules/scion-db/dist/worker/entry.js', '--bundle', '--format=esm', `--outfile=${out}/scion-worker.js`, '--log-level=warning'], APP_DIR);
await copyFile(join(APP_DIR, 'node_modules/@sqlite.org/sqlite-wasm/dist/sqlite3.wasm'), join(out, 'sqlite3.wasm'));
await writeFile(join(out, 'index.html'), (await readFile(join(APP_DIR, 'index.html'), 'utf8')).replace('/src/main.ts', './main.js'));

// webpack 5, with no configuration for scion-db (app/webpack.config.js), served at /webpack/.
run(esbuild, ['src/main.ts', '--bundle', '--packages=external', '--format=esm', '--outfile=.webpack-src/main.js', '--log-level=warning'], APP_DIR);
run(join(APP_DIR, 'node_modules/.bin/webpack'), ['--no-stats'], APP_DIR);
await writeFile(join(APP_DIR, 'dist/webpack/index.html'), (await readFile(join(APP_DIR, 'index.html'), 'utf8')).replace('/src/main.ts', './main.js'));
// The Workers entry, bundled as wrangler would (runtimes.spec.ts runs it in miniflare).
run(esbuild, ['presign-worker.ts', '--bundle', '--format=esm', '--platform=neutral', '--outfile=dist-worker/presign-worker.js', '--log-level=warning'], APP_DIR);
process.stdout.write(`consumer app ready in ${APP_DIR}\n`);
