import { describe, expect, it } from 'vitest';
import { LSN, VolumeId } from '../core/index.ts';
import { MemoryRemote } from '../remote/index.ts';
import { remoteChecks } from '../remote/remote.contract.ts';
import { countingRemote } from './counting-remote.ts';
import { emptyReadStats } from './volume-reader.ts';

describe('Remote contract: countingRemote over MemoryRemote', () => {
  for (const [name, run] of Object.entries(remoteChecks)) it(name, () => run({ remote: countingRemote(new MemoryRemote(), emptyReadStats()), sync: true }));

  it('counts requests and the bytes each way', async () => {
    const stats = emptyReadStats();
    const remote = countingRemote(new MemoryRemote(), stats);
    const vid = VolumeId.random();
    await remote.putCommit(vid, LSN.FIRST, new Uint8Array(100));
    await remote.getCommit(vid, LSN.FIRST);
    await remote.getLatest(vid);
    expect(stats).toMatchObject({ requests: 3, bytesUploaded: 100, bytesFetched: 100 });
  });
});
