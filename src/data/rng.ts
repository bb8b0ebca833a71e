// A sequential reader over one Philox4x32-10 stream, for host-side generation (data sets, probe sets).
// Counter = (block lo, block hi, sub-stream, 0) under a key from rngKey(): sub-streams keep the parts of one
// generator (e.g. inputs vs teacher weights) independent, so changing one size does not reshuffle the others.

import { type Counter, type Key, openUnitFloat, philox4x32, unitFloat } from '../spec/philox';

export class PhiloxStream {
  private readonly counter: [number, number, number, number];
  private readonly words = new Uint32Array(4);
  private next = 4;
  private spare: number | undefined;

  constructor(
    private readonly key: Key,
    subStream: number,
  ) {
    this.counter = [0, 0, subStream >>> 0, 0];
  }

  u32(): number {
    if (this.next === 4) {
      philox4x32(this.counter as Counter, this.key, this.words);
      this.counter[0] = (this.counter[0] + 1) >>> 0;
      if (this.counter[0] === 0) this.counter[1] = (this.counter[1] + 1) >>> 0;
      this.next = 0;
    }
    return this.words[this.next++];
  }

  /** Uniform in [0, 1), 24 bits. */
  uniform(): number {
    return unitFloat(this.u32());
  }

  /** Uniform in (0, 1], 24 bits (safe under log). */
  openUniform(): number {
    return openUnitFloat(this.u32());
  }

  /** Uniform integer in [0, n), n <= 2^32, from 53 random bits (relative bias at most n / 2^53). */
  below(n: number): number {
    const hi = this.u32() >>> 5;
    const lo = this.u32() >>> 6;
    return Math.floor(((hi * 67108864 + lo) / 9007199254740992) * n);
  }

  /** Standard normal (Box–Muller; pairs, the second one cached). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.openUniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}
