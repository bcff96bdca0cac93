// `npm run test:package`, step 1: a fresh consumer app installs the packed tarball as a user would,
// type-checks against its .d.ts (strict, no skipLibCheck), imports the engine and presign handler in
// plain Node, and builds with Vite. Step 2 (playwright.config.ts) runs the app in Chromium.
import { execFileSync } from 'node:child_process';
import { cp, readFile, rm } from 'node:fs/promises';
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
const viteVersion = JSON.parse(await readFile(join(REPO, 'node_modules/vite/package.json'), 'utf8')).version as string;
run('npm', ['install', `./${tarball}`, `vite@${viteVersion}`, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], APP_DIR);

run(join(REPO, 'node_modules/.bin/tsc'), ['-p', APP_DIR], APP_DIR);
const node = JSON.parse(run(process.execPath, ['node-check.mjs'], APP_DIR)) as { text: string; status: number; url: string };
if (node.text !== 'hello from node' || node.status !== 200 || !node.url.startsWith('http://127.0.0.1:9/notes/')) {
  throw new Error(`node-check.mjs printed ${JSON.stringify(node)}`);
}
run(join(APP_DIR, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], APP_DIR);
process.stdout.write(`consumer app ready in ${APP_DIR}\n`);
