import { expect, test } from './fixtures.ts';
import { PROBE_SIZE, probePattern } from './scenarios/opfs-probe.ts';

test.beforeEach(async ({ scion }) => {
  await scion.run('wipeOpfs');
});

test('a sync access handle in the worker writes, flushes and reads back 4 KiB', async ({ scion }) => {
  const result = await scion.run('opfsProbe', { file: 'probe.bin', seed: 7 });
  expect(result).toMatchObject({ file: 'probe.bin', size: PROBE_SIZE, written: PROBE_SIZE, read: PROBE_SIZE });
  expect(result.bytes).toEqual(probePattern(7));
});

test('a flushed OPFS file keeps its contents across a page reload', async ({ scion }) => {
  await scion.run('opfsProbe', { file: 'persist.bin', seed: 42 });
  await scion.reload();
  const after = await scion.run('opfsProbe', { file: 'persist.bin', write: false });
  expect(after).toMatchObject({ size: PROBE_SIZE, written: 0, read: PROBE_SIZE });
  expect(after.bytes).toEqual(probePattern(42));
});

test('wipeOpfs removes every entry of the OPFS root', async ({ scion }) => {
  await scion.run('opfsProbe', { file: 'a.bin' });
  await scion.run('opfsProbe', { file: 'b.bin' });
  expect(await scion.run('wipeOpfs')).toEqual(['a.bin', 'b.bin']);
  const missing = await scion.attempt('opfsProbe', { file: 'a.bin', write: false });
  expect(missing).toMatchObject({ ok: false, error: { name: 'NotFoundError' } });
});
