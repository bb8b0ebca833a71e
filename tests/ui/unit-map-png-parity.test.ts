// @vitest-environment happy-dom
// The page's "PNG" button and the CLI's maps/L<l>/step-<s>.png give the same bytes for the same snapshot: the
// <du-unit-map> element's png() against the file the CLI's unit map writer puts in a run folder.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeUnitMaps } from '../../src/cli/outputs/unit-maps';
import { runPaths, unitMapFile } from '../../src/cli/run-dir';
import { PRECEDENCE, type UnitBitmaps } from '../../src/report/unit-states';
import '../../src/ui/unit-map/unit-map';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Bitmaps of `width` units, each state's bits from a small LCG (stray bits past the width included). */
function randomBitmaps(width: number, seed: number): UnitBitmaps {
  let x = seed >>> 0;
  const next = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
  const words = Math.ceil(width / 32);
  const map: Record<string, unknown> = { width };
  // Sparse dead and revived, dense dropped: every precedence case occurs in a layer of a few hundred units.
  for (const s of PRECEDENCE) map[s] = Uint32Array.from({ length: words }, () => (s === 'dropped' ? next() : next() & next() & next()));
  return map as UnitBitmaps;
}

describe('unit map PNG: page and CLI', () => {
  it('are byte-identical for the same snapshot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deadunits-png-parity-'));
    dirs.push(dir);
    const paths = runPaths(dir);
    const layers = [1, 7, 64, 70, 333, 4096].map((width, i) => randomBitmaps(width, i + 1));
    const step = 120;
    await writeUnitMaps(paths, { step, layers }, 'png');

    for (const [i, layer] of layers.entries()) {
      const map = document.createElement('du-unit-map');
      map.layer = i + 1;
      map.width = layer.width;
      document.body.append(map);
      await map.updateComplete;
      map.show(layer, step);
      const page = map.png();
      const cli = new Uint8Array(await readFile(join(dir, unitMapFile(i + 1, step, 'png'))));
      expect(page, `layer of ${layer.width} units`).not.toBeNull();
      expect(page!.length, `layer of ${layer.width} units: PNG sizes`).toBe(cli.length);
      const first = page!.findIndex((b, k) => b !== cli[k]);
      expect(first, `layer of ${layer.width} units: first differing byte`).toBe(-1);
      map.remove();
    }
  });
});
