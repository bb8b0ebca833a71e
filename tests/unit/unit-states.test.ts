// The unit-state table: the documented .npy codes, a precedence that covers every bitmap state once, and colours that
// stay apart for readers with a colour-vision deficiency (simulated with Machado, Oliveira & Fernandes 2009).
import { describe, expect, it } from 'vitest';
import {
  countBits,
  EMPTY_COLOR,
  NOT_MEASURED,
  paintPartialUnitMap,
  pixelOf,
  PRECEDENCE,
  rgbOf,
  STATE_COLORS,
  STATE_NAMES,
  UnitCode,
  UNIT_STATES,
} from '../../src/report/unit-states';

/** Machado et al. (2009) simulation matrices at severity 1.0, applied to linear RGB. */
const DEFICIENCIES: Record<string, number[][]> = {
  protanopia: [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998],
  ],
  deuteranopia: [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.01182, 0.04294, 0.968881],
  ],
  tritanopia: [
    [1.255528, -0.076749, -0.178779],
    [-0.078411, 0.930809, 0.147602],
    [0.004733, 0.691367, 0.3039],
  ],
  none: [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ],
};

const toLinear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);

/** CIELAB (D65) of a linear-RGB colour. */
function lab([r, g, b]: number[]): [number, number, number] {
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (t * 24389) / 27 / 116 + 16 / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

function seenAs(hex: string, m: number[][]): [number, number, number] {
  const linear = rgbOf(hex).map((c) => toLinear(c / 255));
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  return lab(m.map((row) => clamp(row[0] * linear[0] + row[1] * linear[1] + row[2] * linear[2])));
}

describe('unit states', () => {
  it('keep the documented .npy codes, equal to their row in the table', () => {
    // 0-3 as first documented; frozen and non-finite came after them (issue 12), never renumbering the others.
    expect(UnitCode).toEqual({ alive: 0, dead: 1, dropped: 2, revived: 3, frozen: 4, nonFinite: 5 });
    UNIT_STATES.forEach((s, i) => expect(s.code, s.name).toBe(i));
    expect(new Set(STATE_NAMES).size).toBe(STATE_NAMES.length);
  });

  it('rank every state but alive exactly once: non-finite, then frozen, then dead first of the rest', () => {
    expect([...PRECEDENCE].sort()).toEqual(STATE_NAMES.filter((s) => s !== 'alive').sort());
    expect(PRECEDENCE).toEqual(['nonFinite', 'frozen', 'dead', 'revived', 'dropped']);
  });

  /** The closest pair among `colours` under any of the simulated visions. */
  function closest(colours: { name: string; hex: string }[], pairs: (i: number, j: number) => boolean): { distance: number; what: string } {
    let worst = { distance: Infinity, what: '' };
    for (const [vision, m] of Object.entries(DEFICIENCIES)) {
      for (let i = 0; i < colours.length; i++) {
        for (let j = i + 1; j < colours.length; j++) {
          if (!pairs(i, j)) continue;
          const a = seenAs(colours[i].hex, m);
          const b = seenAs(colours[j].hex, m);
          const distance = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
          if (distance < worst.distance) worst = { distance, what: `${colours[i].name} vs ${colours[j].name} (${vision})` };
        }
      }
    }
    return worst;
  }

  it('stay apart under protanopia, deuteranopia and tritanopia: states by ΔE 25, the empty cells by ΔE 10', () => {
    const colours = [...UNIT_STATES.map((s) => ({ name: s.name, hex: s.colour })), { name: 'empty', hex: EMPTY_COLOR }];
    const empty = colours.length - 1;
    const states = closest(colours, (i, j) => j !== empty);
    expect(states.distance, `closest pair: ${states.what}`).toBeGreaterThanOrEqual(25);
    // Empty cells only mark where the grid ends (after the last unit): a lighter contrast is enough.
    const padding = closest(colours, (i, j) => j === empty);
    expect(padding.distance, `closest pair: ${padding.what}`).toBeGreaterThanOrEqual(10);
  });

  it('keep "not measured yet" (a partial step-0 snapshot) apart from every state by ΔE 25 and from empty cells by ΔE 10, with no .npy code', () => {
    const colours = [
      ...UNIT_STATES.map((s) => ({ name: s.name, hex: s.colour })),
      { name: 'empty', hex: EMPTY_COLOR },
      { name: NOT_MEASURED.name, hex: NOT_MEASURED.colour },
    ];
    const pending = colours.length - 1;
    const empty = colours.length - 2;
    const states = closest(colours, (i, j) => j === pending && i !== empty);
    expect(states.distance, `closest pair: ${states.what}`).toBeGreaterThanOrEqual(25);
    const padding = closest(colours, (i, j) => i === empty && j === pending);
    expect(padding.distance, `closest pair: ${padding.what}`).toBeGreaterThanOrEqual(10);
    expect(STATE_NAMES).not.toContain(NOT_MEASURED.name);
  });

  it('paint a partial step-0 snapshot: proven units alive, the others "not measured yet", past the last unit empty', () => {
    const width = 37;
    const proven = new Uint32Array([0b1011, 0b10000]); // units 0, 1, 3 and 36
    const pixels = new Uint32Array(7 * 7);
    paintPartialUnitMap(pixels, width, proven);
    const alive = [0, 1, 3, 36];
    for (let u = 0; u < width; u++) expect(pixels[u], `unit ${u}`).toBe(pixelOf(alive.includes(u) ? STATE_COLORS.alive : NOT_MEASURED.colour));
    for (let c = width; c < pixels.length; c++) expect(pixels[c], `cell ${c}`).toBe(pixelOf(EMPTY_COLOR));
    expect(countBits(proven, width)).toBe(4);
    // Bits past the width are not units.
    expect(countBits(new Uint32Array([0, 0xffffffff]), width)).toBe(5);
    expect(() => paintPartialUnitMap(pixels, width, new Uint32Array(1))).toThrow(/needs 2 words; it holds 1/);
  });
});
