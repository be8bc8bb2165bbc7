/**
 * A small seeded PRNG for the data pipeline: shuffling and dynamic
 * binarisation. It is the library's generator (xoshiro128** seeded by
 * splitmix32, `zs.random.seedWords` / `nextWord`) as a stream of its own;
 * its whole state is four uint32 words, saved in every checkpoint so a
 * resumed run draws exactly what an uninterrupted one would.
 */
import * as zs from 'zhusuan';

/**
 * A native implementation of {@link Rng.bernoulliRows}' draws (the native
 * backend's `bernoulliRows`, the same numbers and state): it returns false
 * when it cannot run, and the loop here runs instead.
 */
export type BernoulliRowsFill = (
  x: Float32Array,
  xDim: number,
  rows: Int32Array | Uint32Array,
  state: Uint32Array,
  out: Float32Array,
) => boolean;

let nativeRows: BernoulliRowsFill | null = null;

/**
 * Installs (or with null removes) the native fill {@link Rng.bernoulliRows}
 * uses for typed-array rows; `loadNative` installs the native backend's.
 */
export function setNativeBernoulliRows(fill: BernoulliRowsFill | null): void {
  nativeRows = fill;
}

export class Rng {
  private s: Uint32Array;

  /** Seeds the generator by running splitmix32 over `seed`. */
  constructor(seed: number) {
    this.s = zs.random.seedWords(seed);
  }

  /** The next uint32. */
  nextUint32(): number {
    return zs.random.nextWord(this.s);
  }

  /** A float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Bernoulli draws: `out[outOffset + i] = next() < p[pOffset + i] ? 1 : 0`
   * for i in [0, n), the same numbers as that loop, with the state held in
   * locals (about 3x faster: a batch of MNIST is 100k draws).
   */
  bernoulli(
    p: ArrayLike<number>,
    pOffset: number,
    n: number,
    out: { [i: number]: number },
    outOffset: number,
  ): void {
    // int32 arithmetic throughout (xor, shifts and Math.imul agree with the
    // uint32 version bit for bit); only the output is read as unsigned.
    let s0 = this.s[0] | 0;
    let s1 = this.s[1] | 0;
    let s2 = this.s[2] | 0;
    let s3 = this.s[3] | 0;
    for (let i = 0; i < n; i++) {
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      // +(a < b), not a ternary: V8 compiles the ternary to a branch, which a
      // pixel's random outcome mispredicts about half the time (~4x slower).
      out[outOffset + i] = +(r * 2.3283064365386963e-10 < p[pOffset + i]);
    }
    this.s[0] = s0;
    this.s[1] = s1;
    this.s[2] = s2;
    this.s[3] = s3;
  }

  /**
   * Dynamic binarisation of the rows `rows` of x [*, xDim] into out [rows,
   * xDim]: {@link bernoulli} over each row in turn, in native code where a
   * fill is installed ({@link setNativeBernoulliRows}) and `rows` is an
   * Int32Array or Uint32Array; the same numbers either way.
   */
  bernoulliRows(x: Float32Array, xDim: number, rows: ArrayLike<number>, out: Float32Array): void {
    if (
      nativeRows !== null &&
      (rows instanceof Int32Array || rows instanceof Uint32Array) &&
      nativeRows(x, xDim, rows, this.s, out)
    ) {
      return;
    }
    for (let r = 0; r < rows.length; r++) this.bernoulli(x, rows[r] * xDim, xDim, out, r * xDim);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles `a` in place (Fisher-Yates). */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** The state, as four uint32 words. */
  getState(): number[] {
    return Array.from(this.s);
  }

  /** Restores a state from {@link getState}. */
  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new Error(`Rng.setState: expected four uint32 words, got ${JSON.stringify(state)}`);
    }
    this.s = Uint32Array.from(state);
  }
}
