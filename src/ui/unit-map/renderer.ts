// Draws a unit map: the bitmaps are painted once per new snapshot into an RGBA image of the grid (one pixel per unit,
// through a Uint32Array view: src/report/unit-states.ts paintUnitMap), and every animation frame that needs it the image is drawn onto the
// visible canvas under the zoom/pan view (drawImage: scaled by the browser's compositor path, not by JS).
//
// Measured in headless Chromium 156 on this project's 2-core machine (tests/e2e/render-bench.ts, 1024×1024 layer, new
// random bitmaps every frame, machine shared with other work, load average about 6): this renderer 10.2 ms per frame
// (median; 14.9 ms p90; painting the ImageData 9.4 ms of it); the three packed bitmaps as WebGL2 R32UI textures decoded
// in a fragment shader 60.8 ms (software GL here). Both well under a frame on a GPU machine; this one needs no GL.
import { gridShape, paintPartialUnitMap, paintUnitMap, type UnitBitmaps } from '../../report/unit-states';
import type { View } from './view';

export class UnitMapRenderer {
  readonly cols: number;
  readonly rows: number;
  private readonly image: ImageData;
  private readonly pixels: Uint32Array;
  private readonly source: OffscreenCanvas | HTMLCanvasElement;
  private readonly sourceContext: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

  constructor(readonly units: number) {
    const { cols, rows } = gridShape(units);
    this.cols = cols;
    this.rows = rows;
    this.image = new ImageData(cols, rows);
    this.pixels = new Uint32Array(this.image.data.buffer);
    if (typeof OffscreenCanvas !== 'undefined') {
      this.source = new OffscreenCanvas(cols, rows);
    } else {
      const canvas = document.createElement('canvas');
      canvas.width = cols;
      canvas.height = rows;
      this.source = canvas;
    }
    const context = this.source.getContext('2d') as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
    if (!context) throw new Error('this browser gives no 2D canvas context for the unit map');
    this.sourceContext = context;
  }

  /** Paints a snapshot's bitmaps (cell i shows unit order[i] when an order is given). */
  paint(map: UnitBitmaps, order: Uint32Array | null): void {
    paintUnitMap(this.pixels, map, order);
    this.sourceContext.putImageData(this.image, 0, 0);
  }

  /** Paints a partial step-0 snapshot: units proven not dead alive, the others "not measured yet". */
  paintPartial(proven: Uint32Array): void {
    paintPartialUnitMap(this.pixels, this.units, proven);
    this.sourceContext.putImageData(this.image, 0, 0);
  }

  /** Draws the painted image onto `context` (a canvas of width × height device pixels) under `view`. */
  draw(context: CanvasRenderingContext2D, view: View, width: number, height: number, background: string): void {
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.fillStyle = background;
    context.fillRect(0, 0, width, height);
    // Smooth when the map is shrunk (an average reads better than aliasing), crisp cells when zoomed in.
    context.imageSmoothingEnabled = view.scale < 1;
    context.setTransform(view.scale, 0, 0, view.scale, view.x, view.y);
    context.drawImage(this.source, 0, 0);
    context.setTransform(1, 0, 0, 1, 0, 0);
  }
}
