// @vitest-environment happy-dom
// <du-unit-map> as a component: the header counts follow the colour priority, the order checkbox fires order-change,
// the PNG button waits for a snapshot, and the canvas is labelled with what it shows. (Drawing itself is covered by the
// end-to-end test in Chromium; this DOM has no 2D canvas.)
import { afterEach, describe, expect, it } from 'vitest';
import '../../src/ui/unit-map/unit-map';
import type { DuUnitMap, OrderChangeDetail } from '../../src/ui/unit-map/unit-map';

afterEach(() => {
  document.body.innerHTML = '';
});

async function mount(width: number): Promise<DuUnitMap> {
  const map = document.createElement('du-unit-map');
  map.layer = 2;
  map.width = width;
  document.body.append(map);
  await map.updateComplete;
  return map;
}

const text = (map: DuUnitMap, selector: string) => map.shadowRoot!.querySelector(selector)?.textContent?.trim() ?? null;

describe('du-unit-map', () => {
  it('shows the counts of a snapshot with the map priority (dead > revived > dropped)', async () => {
    const map = await mount(40);
    expect(text(map, '[data-counts]')).toBe('no snapshot yet');
    expect(map.shadowRoot!.querySelector<HTMLButtonElement>('button[title^="Save this map"]')!.disabled).toBe(true);
    // Unit 0 dead and dropped, unit 1 revived and dropped, units 2-3 dropped, unit 33 dead.
    map.show(
      {
        width: 40,
        dead: new Uint32Array([0b0001, 0b10]),
        revived: new Uint32Array([0b0010, 0]),
        dropped: new Uint32Array([0b1111, 0]),
        frozen: new Uint32Array(2),
        nonFinite: new Uint32Array(2),
      },
      120,
    );
    await map.updateComplete;
    expect(text(map, '[data-count="dead"]')).toBe('2');
    expect(text(map, '[data-count="revived"]')).toBe('1');
    expect(text(map, '[data-count="dropped"]')).toBe('2');
    expect(map.shadowRoot!.querySelector('canvas')!.getAttribute('aria-label')).toBe(
      'Unit map of layer 2: 0 non-finite, 0 frozen, 2 dead, 1 revived, 2 dropped this step of 40 units',
    );
    expect(map.shadowRoot!.querySelector<HTMLButtonElement>('button[title^="Save this map"]')!.disabled).toBe(false);
    expect(text(map, '.hint')).toMatch(/^step 120 ·/);
    map.clear();
    await map.updateComplete;
    expect(text(map, '[data-counts]')).toBe('no snapshot yet');
  });

  it('shows a partial step-0 snapshot as "≥ X alive of W (R / N probe rows)" until the snapshot replaces it', async () => {
    const map = await mount(40);
    // Units 0, 1, 3 and 33 proven alive after 48 of 512 probe rows.
    map.showPartial({ width: 40, proven: new Uint32Array([0b1011, 0b10]) }, 48, 512);
    await map.updateComplete;
    expect(text(map, '[data-count="alive"]')).toBe('4');
    expect(text(map, '[data-count="notMeasured"]')).toBe('36');
    expect(text(map, '[data-counts]')!.replace(/\s+/g, ' ')).toBe('≥ 4 alive of 40 · not measured yet 36 (48 / 512 probe rows)');
    expect(map.shadowRoot!.querySelector('[data-counts] .swatch.notMeasured')).not.toBeNull();
    expect(map.shadowRoot!.querySelector('canvas')!.getAttribute('aria-label')).toBe(
      'Unit map of layer 2: step 0 being measured: at least 4 alive of 40 units (48 of 512 probe rows)',
    );
    expect(map.shadowRoot!.querySelector<HTMLButtonElement>('button[title^="Save this map"]')!.disabled).toBe(true);
    expect(text(map, '.hint')).toMatch(/^step 0 still being measured ·/);
    const bitmaps = {
      width: 40,
      dead: new Uint32Array(2),
      revived: new Uint32Array(2),
      dropped: new Uint32Array(2),
      frozen: new Uint32Array(2),
      nonFinite: new Uint32Array(2),
    };
    map.show(bitmaps, 0);
    await map.updateComplete;
    expect(text(map, '[data-count="dead"]')).toBe('0');
    // A late partial never replaces a snapshot.
    map.showPartial({ width: 40, proven: new Uint32Array(2) }, 64, 512);
    await map.updateComplete;
    expect(text(map, '[data-count="dead"]')).toBe('0');
    expect(map.shadowRoot!.querySelector('[data-count="notMeasured"]')).toBeNull();
  });

  it('fires order-change when "order by death step" is toggled', async () => {
    const map = await mount(8);
    const events: OrderChangeDetail[] = [];
    document.body.addEventListener('order-change', (e) => events.push((e as CustomEvent<OrderChangeDetail>).detail));
    const box = map.shadowRoot!.querySelector<HTMLInputElement>('input[type="checkbox"]')!;
    box.checked = true;
    box.dispatchEvent(new Event('change', { bubbles: true }));
    await map.updateComplete;
    expect(events).toEqual([{ layer: 2, byDeath: true }]);
    expect(map.orderByDeath).toBe(true);
    expect(map.hasAttribute('order-by-death')).toBe(true);
  });
});
