import { describe, expect, it } from 'vitest';
import { mulHiU32, philox4x32, unitFloat } from '../../src/reference/philox';
import { rngKey } from '../../src/spec/rng-streams';
import { PHILOX_KAT } from '../philox-vectors';

describe('philox4x32-10 reference', () => {
  it.each(PHILOX_KAT)('matches the Random123 vector for counter $counter', ({ counter, key, expected }) => {
    expect([...philox4x32(counter, key)].map((w) => w.toString(16))).toEqual(expected.map((w) => w.toString(16)));
  });

  it('mulHiU32 equals the exact 64-bit product high word', () => {
    const samples = [0, 1, 0xffff, 0x10000, 0xffffffff, 0xd2511f53, 0xcd9e8d57, 0x12345678, 0x9e3779b9];
    for (const a of samples) {
      for (const b of samples) {
        const exact = Number((BigInt(a) * BigInt(b)) >> 32n);
        expect(mulHiU32(a, b), `${a.toString(16)} * ${b.toString(16)}`).toBe(exact);
      }
    }
  });

  it('unitFloat covers [0, 1) and is exact in f32', () => {
    expect(unitFloat(0)).toBe(0);
    expect(unitFloat(0xffffffff)).toBe(1 - 2 ** -24);
    expect(Math.fround(unitFloat(0xdeadbeef))).toBe(unitFloat(0xdeadbeef));
  });

  it('gives different streams different keys and rejects out-of-range seeds', () => {
    expect(rngKey(7, 'dropout', 2)).not.toEqual(rngKey(7, 'initWeights', 2));
    expect(rngKey(7, 'dropout', 2)).not.toEqual(rngKey(7, 'dropout', 3));
    expect(() => rngKey(-1, 'dropout')).toThrow(/seed/);
    expect(() => rngKey(2 ** 32, 'dropout')).toThrow(/seed/);
    expect(() => rngKey(1, 'dropout', 70000)).toThrow(/layer/);
  });
});
