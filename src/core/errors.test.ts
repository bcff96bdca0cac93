import { describe, expect, it } from 'vitest';
import { assert, corrupt, type ErrorWire, invalidInput, isScionError, ScionError } from './errors.ts';

describe('ScionError', () => {
  it('carries its name, code, message, details and cause', () => {
    const cause = new Error('disk on fire');
    const e = new ScionError('VolumeNotFound', 'Volume v1 not found.', { vid: 'v1' }, { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ScionError');
    expect(e.code).toBe('VolumeNotFound');
    expect(e.message).toBe('Volume v1 not found.');
    expect(e.details).toEqual({ vid: 'v1' });
    expect(e.cause).toBe(cause);
    expect(String(e)).toBe('ScionError: Volume v1 not found.');
  });

  it('from() returns a ScionError unchanged', () => {
    const e = new ScionError('Corrupt', 'bad bytes');
    expect(ScionError.from(e)).toBe(e);
  });

  it('from() wraps a plain Error as Internal, keeping it as the cause', () => {
    const plain = new TypeError('x is undefined');
    const e = ScionError.from(plain);
    expect(isScionError(e, 'Internal')).toBe(true);
    expect(e.message).toBe('x is undefined');
    expect(e.cause).toBe(plain);
  });

  it('from() wraps thrown non-errors as Internal', () => {
    for (const thrown of ['boom', 42, undefined, null, { reason: 'x' }]) {
      const e = ScionError.from(thrown);
      expect(isScionError(e, 'Internal')).toBe(true);
      expect(e.message).toBe(String(thrown));
      expect(e.cause).toBe(thrown);
    }
  });

  it('from() rebuilds an error that kept the ScionError name and code (e.g. made by another realm), keeping its code', () => {
    const foreign = Object.assign(new Error('Tag main not found.'), { name: 'ScionError', code: 'TagNotFound', details: { tag: 'main' } });
    const e = ScionError.from(foreign);
    expect(e).toBeInstanceOf(ScionError);
    expect(e.code).toBe('TagNotFound');
    expect(e.message).toBe('Tag main not found.');
    expect(e.details).toEqual({ tag: 'main' });
    expect(e.cause).toBe(foreign);
  });

  it('round-trips through its wire form, also as JSON', () => {
    for (const e of [new ScionError('Forbidden', 'No.', { vid: 'v1', n: 3, ok: false }), new ScionError('Closed', 'Closed.')]) {
      const wire = e.toWire();
      expect(wire).toEqual({ name: 'ScionError', code: e.code, message: e.message, details: e.details });
      for (const w of [wire, JSON.parse(JSON.stringify(wire)) as ErrorWire]) {
        const back = ScionError.fromWire(w);
        expect(back).toBeInstanceOf(ScionError);
        expect(isScionError(back, e.code)).toBe(true);
        expect(back.message).toBe(e.message);
        expect(back.details).toEqual(e.details);
      }
    }
  });

  it('the wire form survives structured clone whole', () => {
    const wire = new ScionError('UrlExpired', 'The URL expired.', { key: 'a/b' }).toWire();
    expect(structuredClone(wire)).toEqual(wire);
    expect(isScionError(ScionError.fromWire(structuredClone(wire)), 'UrlExpired')).toBe(true);
  });

  it('structured clone turns a ScionError into a plain Error named "Error" without code or details, so isScionError is false', () => {
    // The HTML serialization keeps only standard error names, so comlink/postMessage need the wire form.
    const e = new ScionError('Corrupt', 'bad bytes', { at: 3 });
    const clone = structuredClone(e) as Error & { code?: unknown; details?: unknown };
    expect(clone).toBeInstanceOf(Error);
    expect(clone.message).toBe('bad bytes');
    expect(clone.name).toBe('Error');
    expect(clone.code).toBeUndefined();
    expect(clone.details).toBeUndefined();
    expect(isScionError(clone)).toBe(false);
    expect(isScionError(ScionError.from(clone), 'Internal')).toBe(true);
  });
});

describe('isScionError', () => {
  it('matches any ScionError without a code, and only the given code with one', () => {
    const e = new ScionError('PageNotLocal', 'Page 3 is not local.');
    expect(isScionError(e)).toBe(true);
    expect(isScionError(e, 'PageNotLocal')).toBe(true);
    expect(isScionError(e, 'Corrupt')).toBe(false);
  });

  it('matches by name and code rather than by class', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'ScionError', code: 'Closed' });
    expect(isScionError(lookalike, 'Closed')).toBe(true);
  });

  it('rejects plain errors, errors named ScionError without a code, and non-errors', () => {
    expect(isScionError(new Error('x'))).toBe(false);
    expect(isScionError(Object.assign(new Error('x'), { name: 'ScionError' }))).toBe(false);
    expect(isScionError({ name: 'ScionError', code: 'Closed', message: 'x' })).toBe(false);
    for (const v of [undefined, null, 'ScionError', 42]) expect(isScionError(v)).toBe(false);
  });
});

describe('error helpers', () => {
  it('assert passes on truthy conditions and throws Internal "BUG: …" otherwise', () => {
    assert(true, 'never');
    assert(1, 'never');
    for (const falsy of [false, 0, '', null, undefined]) {
      let thrown: unknown;
      try {
        assert(falsy, 'the sky fell');
      } catch (e) {
        thrown = e;
      }
      expect(isScionError(thrown, 'Internal')).toBe(true);
      expect((thrown as Error).message).toBe('BUG: the sky fell');
    }
  });

  it('invalidInput and corrupt build errors of their code with details', () => {
    const a = invalidInput('Not a page index: 0.', { n: 0 });
    expect(isScionError(a, 'InvalidInput')).toBe(true);
    expect(a.details).toEqual({ n: 0 });
    const b = corrupt('The page set fails its checksum.');
    expect(isScionError(b, 'Corrupt')).toBe(true);
    expect(b.details).toBeUndefined();
  });
});
