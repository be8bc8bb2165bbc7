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
 * Tiles `n` grayscale images (values in [0, 1], row-major [n, rows * cols])
 * into a near-square grid.
 */
export function imageGrid(
  images: Float32Array,
  n: number,
  rows: number,
  cols: number,
  opts: GridOptions = {},
): Image {
  if (images.length < n * rows * cols) {
    throw new Error(`imageGrid: ${images.length} values for ${n} images of ${rows}x${cols}`);
  }
  const gc = opts.gridCols ?? Math.ceil(Math.sqrt(n));
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
 * Each original beside its reconstruction: pairs laid out left to right,
 * `pairsPerRow` pairs per grid row (default 10), original on the left.
 */
export function pairGrid(
  originals: Float32Array,
  reconstructions: Float32Array,
  n: number,
  rows: number,
  cols: number,
  pairsPerRow = 10,
): Image {
  const size = rows * cols;
  const interleaved = new Float32Array(2 * n * size);
  for (let k = 0; k < n; k++) {
    interleaved.set(originals.subarray(k * size, (k + 1) * size), 2 * k * size);
    interleaved.set(reconstructions.subarray(k * size, (k + 1) * size), (2 * k + 1) * size);
  }
  return imageGrid(interleaved, 2 * n, rows, cols, { gridCols: 2 * Math.min(pairsPerRow, n) });
}
