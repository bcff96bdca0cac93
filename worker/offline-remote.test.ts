import { describe, expect, it } from 'vitest';
import { isScionError, LSN, VolumeId } from '../src/core/index.ts';
import { MemoryRemote } from '../src/remote/index.ts';
import { remoteChecks } from '../src/remote/remote.contract.ts';
import { OfflineRemote } from './offline-remote.ts';

describe('Remote contract: OfflineRemote (online) over MemoryRemote', () => {
  for (const [name, run] of Object.entries(remoteChecks)) it(name, () => run({ remote: new OfflineRemote(new MemoryRemote()), sync: true }));

  it('switched off, a call fails with RemoteUnavailable and reaches nothing', async () => {
    const inner = new MemoryRemote();
    const refused: string[] = [];
    const remote = new OfflineRemote(inner, (e) => refused.push(`${e.method} ${e.key}`));
    const vid = VolumeId.random();
    remote.offline = true;
    const e = await remote.putCommit(vid, LSN.FIRST, new Uint8Array(1)).catch((err: unknown) => err);
    expect(isScionError(e, 'RemoteUnavailable')).toBe(true);
    expect(inner.objects.size).toBe(0);
    expect(refused).toEqual([`PUT volumes/${vid}/log/${LSN.format(LSN.FIRST)}`]);
  });
});
