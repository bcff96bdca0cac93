// `npm run build`: the published package in dist/ — ESM JavaScript with source maps (rolldown, one file
// per source module) and .d.ts files (tsc), laid out as the sources are (dist/src/…, dist/worker/…).
// Consumers' bundlers and type checkers then never see TypeScript, and plain Node imports the engine.
import { execFileSync } from 'node:child_process';
import { copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

/** Every public entry: the keys are their paths in dist/ without `.js`. */
const ENTRIES: Readonly<Record<string, string>> = {
  'src/client/index': 'src/client/index.ts',
  'worker/entry': 'worker/entry.ts',
  'src/core/index': 'src/core/index.ts',
  'src/local/index': 'src/local/index.ts',
  'src/remote/index': 'src/remote/index.ts',
  'src/runtime/index': 'src/runtime/index.ts',
  'src/vfs/index': 'src/vfs/index.ts',
  'src/presign/index': 'src/presign/index.ts',
  'src/presign/node': 'src/presign/node.ts',
  'src/presign/deno': 'src/presign/deno.ts',
  'src/presign/workers': 'src/presign/workers.ts',
  'src/presign/cli': 'src/presign/cli.ts',
  'src/drizzle/index': 'src/drizzle/index.ts',
  'src/kysely/index': 'src/kysely/index.ts',
  'src/react/index': 'src/react/index.ts',
};

/**
 * Dependencies copied into dist/ instead of imported: CommonJS-only modules. A consumer's dev server
 * serves the DB worker's imports unbundled, and a CommonJS module there has no ESM default export.
 */
const INLINED = new Set(['crc-32']);
const packageOf = (id: string): string => (id.startsWith('@') ? id.split('/').slice(0, 2).join('/') : id.split('/')[0] ?? id);
const isExternal = (id: string): boolean => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0') && !INLINED.has(packageOf(id));

/** `new URL('./x.ts', import.meta.url)` (the DB worker's URL) must name the built file. */
const workerUrlsToJs: Plugin = {
  name: 'scion-worker-urls-to-js',
  transform(code, id) {
    if (!id.endsWith('.ts') || !code.includes('import.meta.url')) return null;
    const js = code.replace(/new URL\((['"])(\.{1,2}\/[^'"]+)\.ts\1, import\.meta\.url\)/g, 'new URL($1$2.js$1, import.meta.url)');
    return js === code ? null : { code: js, map: null }; // same length: the mappings stay valid
  },
};

async function buildJs(): Promise<void> {
  await build({
    cwd: root,
    input: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, join(root, file)])),
    external: isExternal,
    platform: 'neutral',
    plugins: [workerUrlsToJs],
    output: {
      dir: dist,
      format: 'esm',
      preserveModules: true,
      preserveModulesRoot: root,
      // npm never packs a folder named node_modules: inlined dependencies go to dist/vendor/.
      entryFileNames: (chunk) => `${chunk.name.replace(/^node_modules\//, 'vendor/')}.js`,
      sourcemap: true,
    },
  });
}

/** tsc writes `.d.ts` files whose relative imports still end in `.ts`; consumers resolve `.js`. */
async function buildTypes(): Promise<void> {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  for (const file of await listFiles(dist)) {
    if (!file.endsWith('.d.ts')) continue;
    const text = await readFile(file, 'utf8');
    const fixed = text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1$2.js$3');
    if (fixed !== text) await writeFile(file, fixed);
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

await rm(dist, { recursive: true, force: true });
await buildJs();
await buildTypes();
// crc-32 is Apache-2.0: its license travels with the copy.
await copyFile(join(root, 'node_modules/crc-32/LICENSE'), join(dist, 'vendor/crc-32/LICENSE'));
process.stdout.write(`built ${dist}\n`);
