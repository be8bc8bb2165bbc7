/** Turning pixel bytes into model inputs. */

/** Intensities /255 as float32. */
export function toFloat(images: Uint8Array): Float32Array {
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) out[i] = images[i] / 255;
  return out;
}

/** mulberry32: a tiny seeded generator for one-off, fixed-seed draws. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One Bernoulli draw per pixel with probability = intensity, from a fixed
 * seed: how the test set is binarised, once, for every evaluation.
 */
export function binarizeOnce(x: Float32Array, seed: number): Float32Array {
  const u = mulberry32(seed);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = u() < x[i] ? 1 : 0;
  return out;
}

/**
 * A deterministic split of `n` training indices into train and validation
 * parts (a seeded permutation; both parts sorted).
 */
export function splitTrainValid(
  n: number,
  validCount: number,
  seed: number,
): { train: Uint32Array; valid: Uint32Array } {
  if (!Number.isInteger(validCount) || validCount < 0 || validCount >= n) {
    throw new Error(`splitTrainValid: validCount must be in [0, ${n}), got ${validCount}`);
  }
  const u = mulberry32(seed ^ 0x9e3779b9);
  const perm = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return { valid: perm.slice(0, validCount).sort(), train: perm.slice(validCount).sort() };
}

/**
 * A run's training images as float intensities and, when `validation` > 0,
 * its held-out validation images, binarised once with seed + 1: the split
 * `zhusuan train --validation` trains and validates on, and the images
 * `zhusuan eval --split valid` evaluates.
 * @param images the training split's pixel bytes, [n, xDim].
 */
export function trainValidSplit(
  images: Uint8Array,
  n: number,
  xDim: number,
  validation: number,
  seed: number,
): { train: { x: Float32Array; n: number }; valid?: { x: Float32Array; n: number } } {
  const all = toFloat(images);
  if (validation === 0) return { train: { x: all, n } };
  const split = splitTrainValid(n, validation, seed);
  const gather = (idx: ArrayLike<number>) => {
    const out = new Float32Array(idx.length * xDim);
    for (let i = 0; i < idx.length; i++)
      out.set(all.subarray(idx[i] * xDim, (idx[i] + 1) * xDim), i * xDim);
    return out;
  };
  return {
    train: { x: gather(split.train), n: split.train.length },
    valid: { x: binarizeOnce(gather(split.valid), seed + 1), n: split.valid.length },
  };
}
