// Zoom and pan of the unit map: a view maps grid cells to canvas pixels as pixel = cell · scale + offset. Pure
// functions, so the hit test under the mouse and the zoom limits are tested without a browser.

export interface View {
  /** Canvas pixels per grid cell. */
  scale: number;
  /** Canvas position of the grid's top-left corner. */
  x: number;
  y: number;
}

/** Most canvas pixels per cell (zoomed all the way in). */
export const MAX_SCALE = 64;

/** The whole grid, as large as it fits, centred. */
export function fitView(cols: number, rows: number, canvasWidth: number, canvasHeight: number): View {
  const scale = Math.min(canvasWidth / cols, canvasHeight / rows);
  return { scale, x: (canvasWidth - cols * scale) / 2, y: (canvasHeight - rows * scale) / 2 };
}

/**
 * The view zoomed by `factor` around canvas point (px, py), which stays over the same cell. The scale stays between
 * the fitted view's and MAX_SCALE (or the fitted scale, if that is larger).
 */
export function zoomAt(view: View, factor: number, px: number, py: number, fitted: View): View {
  const max = Math.max(MAX_SCALE, fitted.scale);
  const scale = Math.min(max, Math.max(fitted.scale, view.scale * factor));
  if (scale === fitted.scale) return { ...fitted };
  const k = scale / view.scale;
  return { scale, x: px - (px - view.x) * k, y: py - (py - view.y) * k };
}

export function panBy(view: View, dx: number, dy: number): View {
  return { ...view, x: view.x + dx, y: view.y + dy };
}

/** The grid cell under canvas point (px, py), or null outside the grid or past the last unit. */
export function cellAt(view: View, px: number, py: number, cols: number, rows: number, units: number): number | null {
  const col = Math.floor((px - view.x) / view.scale);
  const row = Math.floor((py - view.y) / view.scale);
  if (col < 0 || row < 0 || col >= cols || row >= rows) return null;
  const cell = row * cols + col;
  return cell < units ? cell : null;
}
