/**
 * The library's one seeded random stream. Every sampling op takes a fresh
 * seed from it (tfjs repeats the same numbers when a seed is reused), so one
 * `setSeed` makes a whole program reproducible, and `getState`/`setState`
 * let a checkpoint resume the stream exactly.
 */

/** Serialisable state of the stream. */
export interface RandomState {
  /** Four uint32 words of the xoshiro128** generator. */
  s: [number, number, number, number];
}

let s = new Uint32Array(4);
setSeed(Date.now() >>> 0);

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Seeds the stream.
 * @param seed any integer; equal seeds give equal streams.
 */
export function setSeed(seed: number): void {
  if (!Number.isFinite(seed)) {
    throw new Error(`random.setSeed: seed must be a finite number, got ${seed}`);
  }
  // splitmix32 expands the seed into four well-mixed words.
  let x = Math.trunc(seed) >>> 0;
  s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    s[i] = (z ^ (z >>> 16)) >>> 0;
  }
  if (s[0] === 0 && s[1] === 0 && s[2] === 0 && s[3] === 0) s[0] = 1;
}

/** The next uint32 of the stream (xoshiro128**). */
function nextUint32(): number {
  const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
  const t = (s[1] << 9) >>> 0;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

/**
 * A fresh seed for one tfjs random op (`tf.randomNormal(shape, 0, 1, 'float32', seed)`).
 * @returns an integer in [1, 2^31) (tfjs takes a seed of 0 to mean "unseeded").
 */
export function nextSeed(): number {
  return nextUint32() >>> 1 || 1;
}

/** A copy of the stream's state, JSON-serialisable. */
export function getState(): RandomState {
  return { s: [s[0], s[1], s[2], s[3]] };
}

/** Restores a state returned by {@link getState}. */
export function setState(state: RandomState): void {
  const words = state?.s;
  if (
    !Array.isArray(words) ||
    words.length !== 4 ||
    words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)
  ) {
    throw new Error(`random.setState: expected { s: [four uint32] }, got ${JSON.stringify(state)}`);
  }
  s = Uint32Array.from(words);
}
