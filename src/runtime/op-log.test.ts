import { configure, reset, type LogRecord } from '@logtape/logtape';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PageIdx } from '../core/index.ts';
import { MemoryCatalog, MemoryStore } from '../local/index.ts';
import { Runtime } from './runtime.ts';

async function capture(level: 'debug' | 'info' | 'warning'): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { capture: (r) => void records.push(r) },
    loggers: [
      { category: ['scion'], lowestLevel: level, sinks: ['capture'] },
      { category: ['logtape', 'meta'], lowestLevel: 'warning', sinks: [] },
    ],
  });
  return records;
}

afterEach(async () => {
  await reset();
});

describe('structured logging', () => {
  it('emits one record per operation with op, ids, lsn, pages, duration and outcome', async () => {
    const records = await capture('debug');
    const rt = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog() });
    const g = await rt.tagOpen('main');
    const w = rt.graftWriter(g.local);
    w.writePage(PageIdx.parse(1), new Uint8Array(4096));
    w.commit();
    const ops = records.map((r) => r.properties.op);
    expect(ops).toEqual(['runtime.open', 'graft.open', 'tag.replace', 'graft.commit']);
    const commit = records.at(-1)!.properties;
    expect(commit).toMatchObject({ op: 'graft.commit', graft: g.local, lsn: 1, pages: 1, outcome: 'ok' });
    expect(typeof commit.durationMs).toBe('number');
    expect(records.find((r) => r.properties.op === 'tag.replace')?.properties).toMatchObject({ tag: 'main', graft: g.local });
  });

  it('logs a failed operation as a warning whose outcome is the error code', async () => {
    const records = await capture('warning');
    const rt = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog() });
    const g = await rt.graftOpen();
    const a = rt.graftWriter(g.local);
    const b = rt.graftWriter(g.local);
    a.commit();
    expect(() => b.commit()).toThrow();
    expect(records).toHaveLength(1);
    expect(records[0]!.level).toBe('warning');
    expect(records[0]!.properties).toMatchObject({ op: 'graft.commit', outcome: 'ConcurrentWrite' });
  });

  it('is silent until the app configures LogTape', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((k) => vi.spyOn(console, k));
    const rt = await Runtime.open({ store: MemoryStore.open(), catalog: new MemoryCatalog() });
    await rt.tagOpen('main');
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    vi.restoreAllMocks();
  });
});
