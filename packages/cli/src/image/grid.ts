/** Tiling images into grids for PNG output. */
import type { Image } from './png.js';

/** Layout options of {@link imageGrid}. */
export interface GridOptions {
  /** Images per row (default: ceil(sqrt(n))). */
  gridCols?: number;
  /** Pixels between images and around the border (default 2). */
  padding?: number;
  /** Gray level of the padding, 0-255 (default 128). */
  background?: number;
}

function toByte(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v * 255)));
}

/**
 * Tiles `n` grayscale images (values in [0, 1], clamped; row-major
 * [n, rows * cols]) into a grid, left to right then top to bottom:
 * `gridCols` images per row (default ceil(sqrt(n)), near-square), `padding`
 * pixels of `background` between images and around the border. So the grid
 * is `gridCols * cols + (gridCols + 1) * padding` pixels wide.
 */
export function imageGrid(
  images: Float32Array,
  n: number,
  rows = 28,
  cols = 28,
  opts: GridOptions = {},
): Image {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`imageGrid: n must be a positive integer, got ${n}`);
  if (images.length < n * rows * cols) {
    throw new Error(`imageGrid: ${images.length} values for ${n} images of ${rows}x${cols}`);
  }
  const gc = Math.min(n, opts.gridCols ?? Math.ceil(Math.sqrt(n)));
  if (!Number.isInteger(gc) || gc < 1) throw new Error(`imageGrid: bad gridCols ${opts.gridCols}`);
  const gr = Math.ceil(n / gc);
  const pad = opts.padding ?? 2;
  const width = gc * cols + (gc + 1) * pad;
  const height = gr * rows + (gr + 1) * pad;
  const data = new Uint8Array(width * height).fill(opts.background ?? 128);
  for (let k = 0; k < n; k++) {
    const x0 = pad + (k % gc) * (cols + pad);
    const y0 = pad + Math.floor(k / gc) * (rows + pad);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        data[(y0 + r) * width + x0 + c] = toByte(images[k * rows * cols + r * cols + c]);
      }
    }
  }
  return { width, height, channels: 1, data };
}

/**
 * Each original beside its reconstruction, as side-by-side pairs: the grid's
 * columns alternate original, reconstruction, original, ... with
 * `pairsPerRow` pairs per grid row (default 10), so image k's original is at
 * grid column 2(k mod pairsPerRow) and its reconstruction just right of it.
 */
export function pairGrid(
  originals: Float32Array,
  reconstructions: Float32Array,
  n: number,
  rows = 28,
  cols = 28,
  pairsPerRow = 10,
): Image {
  const size = rows * cols;
  if (originals.length < n * size || reconstructions.length < n * size) {
    throw new Error(
      `pairGrid: ${originals.length} and ${reconstructions.length} values for ${n} pairs of ${rows}x${cols}`,
    );
  }
  const interleaved = new Float32Array(2 * n * size);
  for (let k = 0; k < n; k++) {
    interleaved.set(originals.subarray(k * size, (k + 1) * size), 2 * k * size);
    interleaved.set(reconstructions.subarray(k * size, (k + 1) * size), (2 * k + 1) * size);
  }
  return imageGrid(interleaved, 2 * n, rows, cols, { gridCols: 2 * Math.min(pairsPerRow, n) });
}
