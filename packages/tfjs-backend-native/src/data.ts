/** Native helpers for a training loop's data pipeline. */
import { getAddon } from './addon.js';

/**
 * Dynamic binarisation of image rows in native code: `out[r·xDim + i]` = 1
 * if u < `x[rows[r]·xDim + i]` else 0, where u is the next word of the
 * xoshiro128** `state` (zhusuan's `random.seedWords` / `random.nextWord`
 * generator: four uint32 words, advanced in place) times 2^-32, drawn row
 * after row. The same numbers, and the same state after, as that loop in
 * JavaScript, in about half its time (0.09 against 0.17 ms for a batch of
 * 128 MNIST images, `scripts/binarize-bench.mjs`). Returns false, doing
 * nothing, when the addon is not available.
 * @throws naming the row when a row index is outside x.
 * @example
 * ```ts
 * const s = zs.random.seedWords(1);
 * bernoulliRows(images, 784, Int32Array.of(3, 5), s, out); // out: [2, 784]
 * ```
 */
export function bernoulliRows(
  x: Float32Array,
  xDim: number,
  rows: Int32Array | Uint32Array,
  state: Uint32Array,
  out: Float32Array,
): boolean {
  const addon = getAddon();
  if (addon === null) return false;
  addon.bernoulliRows(x, xDim, rows, state, out);
  return true;
}
