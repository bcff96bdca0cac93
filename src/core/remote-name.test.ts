import { describe, expect, it } from 'vitest';
import { isScionError } from './errors.ts';
import { RemoteKey } from './remote-keys.ts';
import { RemoteName, SharedName } from './remote-name.ts';
import { VolumeId } from './volume-id.ts';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return isScionError(e) ? e.code : String(e);
  }
  return 'no error';
};

describe('shared names', () => {
  it('round-trips a name object and its key', () => {
    const name = SharedName.parse('team.notes_2026-12');
    const vid = VolumeId.random();
    expect(RemoteName.decode(RemoteName.encode({ name, vid }), name)).toEqual({ name, vid });
    expect(RemoteKey.parse(RemoteKey.name(name))).toEqual({ kind: 'name', name });
  });

  it('refuses names that are not one safe key segment', () => {
    for (const bad of ['', '.', '..', '.hidden', '-x', 'a/b', 'a b', 'x'.repeat(129), 'é']) expect(codeOf(() => SharedName.parse(bad)), bad).toBe('InvalidInput');
    expect(codeOf(() => RemoteKey.parse('names/..'))).toBe('InvalidInput');
  });

  it('an object of another name, a damaged one or garbage is Corrupt', () => {
    const [a, b] = [SharedName.parse('a'), SharedName.parse('b')];
    const bytes = RemoteName.encode({ name: a, vid: VolumeId.random() });
    expect(codeOf(() => RemoteName.decode(bytes, b))).toBe('Corrupt');
    for (let i = 0; i < bytes.length; i++) {
      const damaged = bytes.slice();
      damaged[i] = (damaged[i] as number) ^ 0x40;
      expect(codeOf(() => RemoteName.decode(damaged, a))).toBe('Corrupt');
    }
    expect(codeOf(() => RemoteName.decode(new Uint8Array(3), a))).toBe('Corrupt');
  });
});
