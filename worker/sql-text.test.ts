import { describe, expect, it } from 'vitest';
import { isScionError } from '../src/core/index.ts';
import { stripLiterals } from '../src/core/index.ts';
import { normalizeParams, parseGraftPragma } from './sql-text.ts';

describe('parseGraftPragma', () => {
  it('recognizes the three statement forms, any case, with an optional semicolon', () => {
    expect(parseGraftPragma('PRAGMA graft_status')).toEqual({ name: 'graft_status', arg: undefined });
    expect(parseGraftPragma('  pragma GRAFT_PUSH ;  ')).toEqual({ name: 'graft_push', arg: undefined });
    expect(parseGraftPragma("PRAGMA graft_clone = 'vabc'")).toEqual({ name: 'graft_clone', arg: 'vabc' });
    expect(parseGraftPragma("PRAGMA graft_fork('it''s')")).toEqual({ name: 'graft_fork', arg: "it's" });
    expect(parseGraftPragma('PRAGMA main.graft_checkout(remote:5);')).toEqual({ name: 'graft_checkout', arg: 'remote:5' });
    expect(parseGraftPragma('PRAGMA graft_checkout = 7')).toEqual({ name: 'graft_checkout', arg: '7' });
  });

  it('leaves other SQL to SQLite', () => {
    expect(parseGraftPragma('PRAGMA page_size')).toBeUndefined();
    expect(parseGraftPragma("SELECT 'pragma graft_push'")).toBeUndefined();
    expect(parseGraftPragma('SELECT 1 -- pragma graft_push')).toBeUndefined();
  });

  it('refuses a graft pragma among other statements, and unknown graft pragmas', () => {
    for (const sql of ['PRAGMA graft_push; SELECT 1', 'SELECT 1; pragma graft_status', 'PRAGMA graft_nope']) {
      let thrown: unknown;
      try {
        parseGraftPragma(sql);
      } catch (e) {
        thrown = e;
      }
      expect(isScionError(thrown, 'InvalidInput'), sql).toBe(true);
    }
  });
});

describe('SQL text', () => {
  it('stripLiterals blanks strings, quoted names and comments, keeping offsets', () => {
    const sql = `SELECT 'a:b', "c@d", [e$f], x -- :g\n/* @h */ FROM t`;
    const out = stripLiterals(sql);
    expect(out).toHaveLength(sql.length);
    expect(out).not.toMatch(/[:@$]/);
    expect(out).toMatch(/SELECT .* x .* FROM t/s);
  });

  it('normalizeParams gives bare keys the prefix their parameter has in the SQL', () => {
    expect(normalizeParams('SELECT :a, @b, $c, :d', { a: 1, b: 2, c: 3, ':d': 4, e: 5 })).toEqual({ ':a': 1, '@b': 2, $c: 3, ':d': 4, ':e': 5 });
    expect(normalizeParams("SELECT '@a', $a", { a: 1 })).toEqual({ $a: 1 });
    expect(normalizeParams('SELECT :ab, @a', { a: 1 })).toEqual({ '@a': 1 });
    expect(normalizeParams('SELECT ?', [1])).toEqual([1]);
    expect(normalizeParams('SELECT 1', undefined)).toBeUndefined();
  });
});
