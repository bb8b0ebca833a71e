import { describe, expect, it } from 'vitest';
import { parsePageParams } from '../../bench/page/params';
import { BENCH_GROUPS } from '../../bench/schema';

describe('bench.html URL parameters', () => {
  it('defaults to the full suite with TF.js, no autorun', () => {
    expect(parsePageParams('')).toEqual({ quick: false, groups: [...BENCH_GROUPS], tfjs: true, autorun: false, kernels: 'auto' });
  });

  it('reads ?quick&autorun&only=...&tfjs=0', () => {
    expect(parsePageParams('?quick&autorun=1&only=matmul,readback&tfjs=0')).toEqual({
      quick: true,
      groups: ['matmul', 'readback'],
      tfjs: false,
      autorun: true,
      kernels: 'auto',
    });
  });

  it('reads ?kernels=<name> and refuses a malformed name', () => {
    expect(parsePageParams('?kernels=wgmem4x4-8x8-k16').kernels).toBe('wgmem4x4-8x8-k16');
    expect(parsePageParams('?kernels=auto').kernels).toBe('auto');
    expect(() => parsePageParams('?kernels=fastest')).toThrow(/URL parameter kernels: "fastest" is not a matmul kernel name/);
  });

  it('reads ?cases=<label parts>&candidates=<matmul configurations> as lists, and refuses a malformed configuration', () => {
    const params = parsePageParams('?cases=nn%20128x4096,tn%20&candidates=flat16x8-w8,reg16x8-w8');
    expect(params.cases).toEqual(['nn 128x4096', 'tn ']);
    expect(params.candidates).toEqual(['flat16x8-w8', 'reg16x8-w8']);
    expect(() => parsePageParams('?candidates=flat16x8-w8,fastest')).toThrow(/URL parameter candidates: "fastest" is not a matmul kernel name/);
  });

  it('names the parameter and what it accepts when a value is wrong', () => {
    expect(() => parsePageParams('?quick=yes')).toThrow('URL parameter quick=yes: expected nothing, 1/true or 0/false');
    expect(() => parsePageParams('?only=matmul,gemm')).toThrow(/URL parameter only: unknown benchmark group "gemm": expected one of matmul, train/);
    expect(() => parsePageParams('?only=')).toThrow(/URL parameter only: no benchmark group given/);
    expect(() => parsePageParams('?fast')).toThrow(/unknown URL parameter "fast": expected quick, only, tfjs, autorun/);
  });
});
