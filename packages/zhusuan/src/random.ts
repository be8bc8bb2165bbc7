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

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * The four uint32 state words of a xoshiro128** generator for `seed`,
 * expanded by splitmix32 (never all zero). The library's stream starts from
 * these; an application that wants a stream of its own (a data pipeline's
 * shuffling, say) can keep one and advance it with {@link nextWord}.
 * @param seed any number; it is truncated to a uint32 first.
 */
export function seedWords(seed: number): Uint32Array {
  let x = Math.trunc(seed) >>> 0;
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    words[i] = (z ^ (z >>> 16)) >>> 0;
  }
  if (words.every((w) => w === 0)) words[0] = 1;
  return words;
}

/** Advances the xoshiro128** state `s` (four uint32 words) in place; returns its next uint32. */
export function nextWord(s: Uint32Array): number {
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
 * A uniform double in [0, 1) with 53 random bits, from the next two words of
 * the xoshiro128** state `s` (advanced in place): the library's samplers
 * written in JavaScript (Poisson, Binomial, Multinomial) draw from it.
 * @example
 * const s = zs.random.seedWords(7);
 * zs.random.uniform53(s); // the same number for the same seed
 */
export function uniform53(s: Uint32Array): number {
  return ((nextWord(s) >>> 5) * 67108864 + (nextWord(s) >>> 6)) / 9007199254740992;
}

let s = seedWords(Date.now() >>> 0);

/**
 * Seeds the stream.
 * @param seed any integer; equal seeds give equal streams.
 */
export function setSeed(seed: number): void {
  if (!Number.isFinite(seed)) {
    throw new Error(`random.setSeed: seed must be a finite number, got ${seed}`);
  }
  s = seedWords(seed);
}

/**
 * A fresh seed for one tfjs random op (`tf.randomNormal(shape, 0, 1, 'float32', seed)`).
 * @returns an integer in [1, 2^31) (tfjs takes a seed of 0 to mean "unseeded").
 */
export function nextSeed(): number {
  return nextWord(s) >>> 1 || 1;
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
