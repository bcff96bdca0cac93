import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The folders are the architecture (README, "Developing"): imports flow one way,
 * core ← local/remote ← runtime ← vfs ← worker ← client, and a folder is entered only through its index.ts.
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

/**
 * Folders outside src/ that a layer may import types from (`import type` / `export type` only, so no
 * code of theirs is bundled): the client speaks the worker's protocol, whose types live in worker/.
 */
const TYPES_FROM_OUTSIDE: Record<string, readonly string[]> = {
  client: ['worker/index.ts'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !/\.(test|contract)\.ts$|^testing\.ts$/.test(e.name) ? [path] : [];
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
      for (const { spec, typeOnly } of importStatementsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const outside = relative(SRC, resolve(dirname(file), spec));
        if (outside.startsWith('..')) {
          const path = relative(resolve(SRC, '..'), resolve(dirname(file), spec)).split(/[\\/]/).join('/');
          const allowed = (TYPES_FROM_OUTSIDE[folder] ?? []).includes(path);
          if (!allowed || !typeOnly) violations.push(`${relative(SRC, file)} imports ${spec}: ${folder} may import only types, and only from ${(TYPES_FROM_OUTSIDE[folder] ?? []).join(', ') || 'src/'}`);
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
