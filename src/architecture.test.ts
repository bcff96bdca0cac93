import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The folders are the architecture (README, "Developing"): imports flow one way,
 * core ← protocol ← local/remote ← runtime ← vfs ← worker; the client speaks the protocol (core, protocol);
 * a folder is entered only through its index.ts.
 */
const SRC = dirname(fileURLToPath(import.meta.url));

const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  local: ['core'],
  remote: ['core'],
  presign: ['core'],
  runtime: ['core', 'protocol', 'local', 'remote'],
  vfs: ['core', 'protocol', 'local', 'runtime'],
  protocol: ['core'],
  client: ['core', 'protocol'],
  // Bindings to other libraries: glue on the client's API.
  drizzle: ['client'],
  kysely: ['client'],
  react: ['client'],
};

const ROOT = resolve(SRC, '..');
const LAYERS = Object.keys(ALLOWED).map((l) => `src/${l}`);

/**
 * The folders outside src/ and what each may import. Only the worker ships: it wires src/ (never the
 * client or the bindings). The dev folders (the demo, benchmarks, tools, end-to-end tests) may use
 * anything shipped, never each other's internals beyond what is listed.
 */
const OUTSIDE: Record<string, readonly string[]> = {
  worker: ['src/core', 'src/protocol', 'src/local', 'src/remote', 'src/runtime', 'src/vfs'],
  demo: [...LAYERS, 'worker', 'tools'],
  tools: [...LAYERS, 'worker'],
  e2e: [...LAYERS, 'worker', 'tools'],
  bench: [...LAYERS, 'worker', 'tools', 'e2e'],
  scripts: [],
};

/** Files of a src/ folder other folders may import: its index.ts, the package's extra entries, and test support. */
const ENTRY = /^src\/[a-z]+\/(?:index|node|deno|workers|testing)\.ts$|\.contract\.ts$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !/\.(test|contract)\.ts$|^testing\.ts$/.test(e.name) ? [path] : [];
  });
}

/** Every TypeScript file under `dir`, tests included (a consumer app of the built package excepted). */
function repoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || relative(ROOT, path) === join('e2e', 'consumer', 'app') ? [] : repoFiles(path);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  return importStatementsOf(file).map((i) => i.spec);
}

function importStatementsOf(file: string): { spec: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s([^'"]*?)from\s+['"]([^'"]+)['"]/gm)].map((m) => ({
    spec: m[2] as string,
    typeOnly: /^type\s/.test(m[1] as string),
  }));
}

const files = sourceFiles(SRC).map((f) => ({ file: f, folder: relative(SRC, f).split(/[\\/]/)[0] as string }));

describe('architecture', () => {
  it('every source folder is a known layer', () => {
    const folders = new Set(files.map((f) => f.folder).filter((f) => !f.endsWith('.ts')));
    for (const folder of folders) expect(Object.keys(ALLOWED), `unknown folder src/${folder}`).toContain(folder);
  });

  it('imports point only downward, and other folders are entered through their index.ts', () => {
    const violations: string[] = [];
    for (const { file, folder } of files) {
      for (const { spec } of importStatementsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const outside = relative(SRC, resolve(dirname(file), spec));
        if (outside.startsWith('..')) {
          violations.push(`${relative(SRC, file)} imports ${spec}: src/ imports nothing outside src/`);
          continue;
        }
        const target = outside.split(/[\\/]/);
        const targetFolder = target[0] as string;
        if (targetFolder === folder) continue;
        const where = `${relative(SRC, file)} imports ${spec}`;
        if (!(ALLOWED[folder] ?? []).includes(targetFolder)) violations.push(`${where}: ${folder} may not import ${targetFolder}`);
        else if (target.length !== 2 || target[1] !== 'index.ts') violations.push(`${where}: import src/${targetFolder}/index.ts instead`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the folders outside src/ import only what they may, entering src/ folders through their entries', () => {
    const tops = readdirSync(ROOT, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !/^(\.|node_modules$|dist$|src$|test-results$|playwright-report$)/.test(e.name))
      .map((e) => e.name)
      .filter((name) => repoFiles(join(ROOT, name)).length > 0);
    for (const top of tops) expect(Object.keys(OUTSIDE), `unknown folder ${top}/: list what it may import`).toContain(top);
    const violations: string[] = [];
    for (const top of tops) {
      for (const file of repoFiles(join(ROOT, top))) {
        for (const { spec } of importStatementsOf(file)) {
          if (!spec.startsWith('.')) continue;
          const target = relative(ROOT, resolve(dirname(file), spec)).split(/[\\/]/).join('/');
          const where = `${relative(ROOT, file)} imports ${spec}`;
          // Its own folder, or a config at the root (vite, playwright).
          if (target.startsWith(`${top}/`) || !target.includes('/')) continue;
          const owner = target.startsWith('src/') ? target.split('/').slice(0, 2).join('/') : (target.split('/')[0] as string);
          if (!(OUTSIDE[top] ?? []).includes(owner)) violations.push(`${where}: ${top}/ may not import ${owner}`);
          else if (owner.startsWith('src/') && !ENTRY.test(target)) violations.push(`${where}: import ${owner}/index.ts instead`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('core is pure: no I/O, timers, globals of a host or logging', () => {
    const impure = /\b(fetch|indexedDB|navigator|self|setTimeout|setInterval|console|localStorage|XMLHttpRequest)\b\s*[.(]/;
    const offenders = files
      .filter((f) => f.folder === 'core')
      .flatMap(({ file }) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line) && impure.test(line))
          .map((line) => `${relative(SRC, file)}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it('relative imports carry the .ts extension (Deno and Node type stripping need it)', () => {
    const bad = files.flatMap(({ file }) => importsOf(file).filter((s) => s.startsWith('.') && !s.endsWith('.ts')).map((s) => `${relative(SRC, file)}: ${s}`));
    expect(bad).toEqual([]);
  });
});
