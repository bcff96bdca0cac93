import { describe, expect, it } from 'vitest';
import { classifySql, mayWrite } from './sql-kind.ts';

describe('classifySql', () => {
  it('tells reads, writes, transaction control and the rest apart', () => {
    const cases: [string, string][] = [
      ['SELECT * FROM t', 'read'],
      ["  -- a comment; with BEGIN\n select 'COMMIT; DELETE' from t;", 'read'],
      ['WITH x AS (SELECT 1) SELECT * FROM x', 'read'],
      ['WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x', 'write'],
      ['INSERT INTO t VALUES (1)', 'write'],
      ['CREATE TABLE t(x); CREATE INDEX i ON t(x)', 'write'],
      ['CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM u; END', 'write'],
      ['BEGIN', 'begin'],
      ['begin immediate transaction;', 'begin'],
      ['COMMIT', 'commit'],
      ['END TRANSACTION', 'commit'],
      ['ROLLBACK', 'rollback'],
      ['ROLLBACK TO sp', 'opaque'],
      ['SAVEPOINT sp', 'opaque'],
      ['BEGIN; INSERT INTO t VALUES (1); COMMIT', 'opaque'],
      ['PRAGMA integrity_check', 'idempotent'],
      ['PRAGMA graft_push', 'idempotent'],
      ['VACUUM', 'idempotent'],
    ];
    for (const [sql, kind] of cases) expect(classifySql(sql).kind, sql).toBe(kind);
    expect(classifySql('BEGIN IMMEDIATE')).toEqual({ kind: 'begin', locks: true });
    expect(classifySql('BEGIN DEFERRED')).toEqual({ kind: 'begin', locks: false });
    expect(classifySql('INSERT INTO t VALUES (1)')).toEqual({ kind: 'write' });
    expect(classifySql('PRAGMA foreign_keys = ON')).toEqual({ kind: 'idempotent', session: true, writes: true });
    expect(classifySql('PRAGMA user_version = 3')).toEqual({ kind: 'idempotent', session: false, writes: true });
    expect(classifySql('PRAGMA table_info(t)')).toEqual({ kind: 'idempotent', session: false, writes: true });
  });
});

describe('mayWrite', () => {
  it('is false only for reads and transaction control that takes no lock', () => {
    const cases: [string, boolean][] = [
      ['SELECT 1', false],
      ["SELECT 'INSERT INTO t' -- DELETE", false],
      ['WITH x AS (SELECT 1) SELECT * FROM x', false],
      ['WITH x AS (SELECT 1) DELETE FROM t', true],
      ['EXPLAIN QUERY PLAN SELECT 1', false],
      ['BEGIN', false],
      ['BEGIN DEFERRED TRANSACTION', false],
      ['BEGIN IMMEDIATE', true],
      ['begin exclusive', true],
      ['COMMIT', false],
      ['ROLLBACK TO sp', false],
      ['SAVEPOINT sp; RELEASE sp', false],
      ['PRAGMA user_version', false],
      ['PRAGMA user_version = 3', true],
      ['PRAGMA graft_push', false],
      ['VACUUM', true],
      ['ATTACH DATABASE x AS y', true],
      ['SELECT 1; INSERT INTO t VALUES (1)', true],
      ['CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM u; END', true],
    ];
    for (const [sql, writes] of cases) expect(mayWrite(sql), sql).toBe(writes);
  });
});
