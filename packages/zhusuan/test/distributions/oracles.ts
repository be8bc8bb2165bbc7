/**
 * Float64 oracles and statistical checks shared by the distribution tests:
 * broadcasting in plain arrays, log densities summed over `groupNdims`
 * axes, finite differences, and moment, Kolmogorov–Smirnov and chi-square
 * checks of samples. General helpers (assertClose, lgamma64, read, …) are in
 * ../helpers.ts.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../src/distributions/base.js';
import { OPTIONAL_KERNELS } from '../../src/kernels.js';
import { setSeed } from '../../src/random.js';
import { assertClose, meanStd, noLeak, read, readGrads, rng, uniform } from '../helpers.js';

// ---- shapes and broadcasting ------------------------------------------------

/** Number of elements of a tensor of shape `s` (1 for a scalar). */
export const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);

/** The broadcast shape of `shapes` (numpy rules; assumes they broadcast). */
export function broadcastShape(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => {
    let d = 1;
    for (const s of shapes) {
      const di = s[s.length - rank + i] ?? 1;
      if (di !== 1) d = di;
    }
    return d;
  });
}

/**
 * Flat (row-major) offset, in an array of shape `inShape`, of the element
 * that lands at flat index `flat` when it is broadcast to `outShape`.
 */
export function offsetIn(outShape: number[], inShape: number[], flat: number): number {
  let off = 0;
  let stride = 1;
  let rest = flat;
  for (let i = outShape.length - 1; i >= 0; i--) {
    const idx = rest % outShape[i];
    rest = Math.floor(rest / outShape[i]);
    const j = i - (outShape.length - inShape.length);
    if (j >= 0) {
      if (inShape[j] !== 1) off += idx * stride;
      stride *= inShape[j];
    }
  }
  return off;
}

/** A tensor's values (flat, row-major) and shape, as plain numbers. */
export interface Arr {
  data: number[];
  shape: number[];
}

/** `t` read back as an {@link Arr} (the tensor is kept). */
export const arr = (t: tf.Tensor): Arr => ({ data: Array.from(t.dataSync()), shape: t.shape });

/** `src` broadcast to `out`, flat (row-major). */
export function gather(src: Arr, out: number[]): number[] {
  return Array.from({ length: size(out) }, (_, i) => src.data[offsetIn(out, src.shape, i)]);
}

/** Sums the last `g` axes of `v` (flat, of `shape`), in order, starting from 0. */
export function sumLast64(v: number[], shape: number[], g: number): number[] {
  const inner = size(shape.slice(shape.length - g));
  return Array.from({ length: v.length / inner }, (_, i) =>
    v.slice(i * inner, (i + 1) * inner).reduce((s, x) => s + x, 0),
  );
}

/**
 * Float64 oracle of a univariate log density: `f` elementwise over the
 * broadcast of `args` (its arguments in that order, e.g. `[given, loc,
 * scale]`), then summed over the last `groupNdims` axes.
 */
export function oracle(args: Arr[], groupNdims: number, f: (...v: number[]) => number): number[] {
  const shape = broadcastShape(...args.map((a) => a.shape));
  const cols = args.map((a) => gather(a, shape));
  const lp = cols[0].map((_, i) => f(...cols.map((c) => c[i])));
  return sumLast64(lp, shape, groupNdims);
}

// ---- gradients and tolerances -----------------------------------------------

/**
 * The central difference (f(…, v + h, …) − f(…, v − h, …)) / 2h of `f` at
 * `point` in its argument `k`, in float64 with the fixed step `h`.
 */
export function centralDiff(
  f: (...v: number[]) => number,
  point: number[],
  k: number,
  h: number,
): number {
  const p = [...point];
  const q = [...point];
  p[k] += h;
  q[k] -= h;
  return (f(...p) - f(...q)) / (2 * h);
}

/**
 * Central differences of `f` with respect to each element of `x.data`, in
 * float64, with step 1e-6·max(1, |x|).
 */
export function finiteDiff(x: Arr, f: (x: Arr) => number): number[] {
  const g = (...data: number[]): number => f({ ...x, data });
  return x.data.map((v, i) => centralDiff(g, x.data, i, 1e-6 * Math.max(1, Math.abs(v))));
}

/**
 * The gradients of Σ w·lp(...inputs) with respect to each input, by
 * autodiff ({@link readGrads}: no tensor leaked) and by float64
 * {@link finiteDiff} of the oracle `lp64` of the same values (`lp64(...)[i]`
 * standing for `lp(...)` at flat index i, as `w` is indexed).
 */
export function gradientsVsFiniteDiff(
  lp: (...inputs: tf.Tensor[]) => tf.Tensor,
  lp64: (...inputs: Arr[]) => number[],
  inputs: tf.Tensor[],
  w: tf.Tensor,
): { got: number[][]; want: number[][] } {
  const got = readGrads((...xs: tf.Tensor[]) => tf.sum(tf.mul(lp(...xs), w)), inputs);
  const wArr = arr(w);
  const objective = (xs: Arr[]): number => lp64(...xs).reduce((s, v, i) => s + v * wArr.data[i], 0);
  const at = inputs.map(arr);
  const want = at.map((xk, k) =>
    finiteDiff(xk, (x) => objective(at.map((a, j) => (j === k ? x : a)))),
  );
  return { got, want };
}

/**
 * Asserts |actual − want| ≤ rtol·scale + atol elementwise, where `scale` is
 * the sum of the absolute terms of each value (what float32 rounding is
 * relative to when the terms cancel).
 */
export function assertCloseToScale(
  actual: ArrayLike<number>,
  want: number[],
  scale: number[],
  rtol: number,
  atol: number,
  what: string,
): void {
  const tol = scale.map((s) => rtol * s + atol);
  Array.from(actual).forEach((v, i) =>
    assert.ok(Math.abs(v - want[i]) <= tol[i], `${what}[${i}]: ${v} vs ${want[i]}`),
  );
}

// ---- samples: moments, Kolmogorov–Smirnov, chi-square -----------------------

/** Column `j` of an `[n, m]` sample (flat, row-major). */
export function column(s: ArrayLike<number>, m: number, j: number): number[] {
  return Array.from({ length: s.length / m }, (_, i) => s[i * m + j]);
}

/**
 * Asserts that the sample mean and variance of `s` lie within 5 standard
 * errors of those of a law with raw moments `raw` = [E X, E X², E X³, E X⁴]
 * (the variance's standard error from the fourth central moment): a correct
 * sampler fails with probability ~1e-6 per check, for a fixed seed never.
 */
export function assertMoments(s: ArrayLike<number>, raw: number[], what: string): void {
  const [m1, m2, m3, m4] = raw;
  const variance = m2 - m1 * m1;
  const mu4 = m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 ** 4;
  const n = s.length;
  const { mean, std } = meanStd(s);
  const seMean = Math.sqrt(variance / n);
  const seVar = Math.sqrt((mu4 - variance * variance) / n);
  assert.ok(Math.abs(mean - m1) < 5 * seMean, `${what}: mean ${mean} vs ${m1} (se ${seMean})`);
  assert.ok(
    Math.abs(std * std - variance) < 5 * seVar,
    `${what}: variance ${std * std} vs ${variance} (se ${seVar})`,
  );
}

/** E[X^k], k = 1..4, of Gamma(a, rate b): Π_{r<k} (a + r)/b. */
export function gammaRawMoments(a: number, b: number): number[] {
  return [1, 2, 3, 4].map((k) => {
    let m = 1;
    for (let r = 0; r < k; r++) m *= (a + r) / b;
    return m;
  });
}

/** E[X^k], k = 1..4, of Beta(a, b): Π_{r<k} (a + r)/(a + b + r). */
export function betaRawMoments(a: number, b: number): number[] {
  return [1, 2, 3, 4].map((k) => {
    let m = 1;
    for (let r = 0; r < k; r++) m *= (a + r) / (a + b + r);
    return m;
  });
}

/**
 * Asserts that the Kolmogorov–Smirnov statistic of `samples` against `cdf`
 * is below 1.95/√n, the critical value at level 0.001 (≈ 0.0138 for
 * n = 20000): a sampler whose CDF is off by 1.5% anywhere fails.
 */
export function assertKs(
  samples: ArrayLike<number>,
  cdf: (x: number) => number,
  what: string,
): void {
  const xs = Array.from(samples).sort((p, q) => p - q);
  const n = xs.length;
  let dMax = 0;
  xs.forEach((x, i) => {
    const F = cdf(x);
    dMax = Math.max(dMax, (i + 1) / n - F, F - i / n);
  });
  assert.ok(dMax < 1.95 / Math.sqrt(n), `${what}: KS statistic ${dMax}`);
}

/**
 * The upper 1e-3 quantile of the chi-square law with `df` degrees of
 * freedom, by the Wilson–Hilferty approximation (relative error < 1% for
 * df ≥ 2, well inside the margin a fixed seed has to spare).
 */
export function chiSquareCritical(df: number): number {
  const z = 3.0902; // upper 1e-3 quantile of N(0, 1)
  const h = 2 / (9 * df);
  return df * (1 - h + z * Math.sqrt(h)) ** 3;
}

/**
 * Pearson's chi-square statistic of `counts` (index = value) against the
 * pmf `pmf(k)` of a law on {0, 1, 2, …}, pooling the values of expected
 * count below 5 (both tails, and every value beyond the counts) into one
 * bin, with its degrees of freedom and {@link chiSquareCritical}.
 */
export function chiSquare(
  counts: number[],
  pmf: (k: number) => number,
): { stat: number; critical: number; df: number } {
  const n = counts.reduce((a, b) => a + b, 0);
  let stat = 0;
  let bins = 0;
  let poolO = 0;
  let poolE = n;
  for (let k = 0; k < counts.length; k++) {
    const e = n * pmf(k);
    if (e >= 5) {
      stat += (counts[k] - e) ** 2 / e;
      bins++;
      poolE -= e;
    } else {
      poolO += counts[k];
    }
  }
  if (poolE > 1e-9 * n) {
    stat += (poolO - poolE) ** 2 / poolE;
    bins++;
  }
  const df = bins - 1;
  return { stat, critical: chiSquareCritical(df), df };
}

// ---- sampling and tensor hygiene ---------------------------------------------

/**
 * Asserts that `d.sample(n)` has shape `[n, ...batch]` for n = 1 and 4 and
 * `batch` without `n`, leaking no tensor.
 */
export function assertSampleShapes(d: Distribution, batch: number[]): void {
  for (const [n, shape] of [
    [undefined, batch],
    [1, [1, ...batch]],
    [4, [4, ...batch]],
  ] as const) {
    const got = noLeak('sample', () => {
      const s = d.sample(n);
      s.dispose();
      return s.shape;
    });
    assert.deepEqual(got, shape);
  }
}

/**
 * Asserts that two runs of `d.sample(3)` twice from seed 42 agree draw for
 * draw, and that the two draws of a run differ.
 */
export function assertReproducible(d: Distribution): void {
  setSeed(42);
  const a = d.sample(3).dataSync();
  const b = d.sample(3).dataSync();
  setSeed(42);
  assert.deepEqual(d.sample(3).dataSync(), a);
  assert.deepEqual(d.sample(3).dataSync(), b);
  assert.notDeepEqual(a, b);
}

/**
 * Asserts that none of these leaves a tensor behind: `d.sample()`,
 * `d.sample(4)`, `d.logProb(x)`, `d.prob(x)`, `dv.logProb(x)` (`dv`
 * validating its arguments), `dv.logProb(outside)` (which must throw), and
 * `badConstructor()` (which must throw).
 */
export function assertLeakFree(
  d: Distribution,
  dv: Distribution,
  x: tf.Tensor,
  outside: tf.Tensor,
  badConstructor: () => unknown,
): void {
  noLeak('sample()', () => d.sample().dispose());
  noLeak('sample(n)', () => d.sample(4).dispose());
  noLeak('logProb', () => d.logProb(x).dispose());
  noLeak('prob', () => d.prob(x).dispose());
  noLeak('validated logProb', () => dv.logProb(x).dispose());
  noLeak('rejected logProb', () => assert.throws(() => dv.logProb(outside)));
  noLeak('constructor check', () => assert.throws(badConstructor));
}

// ---- stand-in kernels -------------------------------------------------------

/**
 * Runs `fn` with a stand-in for the optional uniform kernel on the active
 * backend (cpu in Node; webgl or cpu in the browser suite) that returns `values` (cycled) instead of random uniforms, and
 * unregisters it afterwards.
 */
export function withStandInUniform(values: number[], fn: () => void): void {
  const backendName = tf.getBackend();
  tf.registerKernel({
    kernelName: OPTIONAL_KERNELS.randomUniform,
    backendName,
    kernelFunc: ({ attrs, backend }) => {
      const shape = (attrs as unknown as { shape: number[] }).shape;
      const v = Float32Array.from({ length: size(shape) }, (_, i) => values[i % values.length]);
      return (
        backend as unknown as {
          makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo;
        }
      ).makeTensorInfo(shape, 'float32', v);
    },
  });
  try {
    fn();
  } finally {
    tf.unregisterKernel(OPTIONAL_KERNELS.randomUniform, backendName);
  }
}

// ---- the two-parameter (alpha, beta) families ------------------------------

/** Parameter/value shapes for the (alpha, beta) families: broadcasting and groupNdims. */
export const ALPHA_BETA_CASES: {
  alpha: number[];
  beta: number[];
  given: number[];
  groupNdims: number;
}[] = [
  { alpha: [5], beta: [5], given: [5], groupNdims: 0 },
  { alpha: [3, 4], beta: [4], given: [3, 4], groupNdims: 1 },
  { alpha: [3, 1], beta: [1, 4], given: [2, 3, 4], groupNdims: 2 },
  { alpha: [], beta: [], given: [6], groupNdims: 0 },
  { alpha: [2, 3], beta: [], given: [7, 2, 3], groupNdims: 1 },
  { alpha: [], beta: [4], given: [2, 1], groupNdims: 1 },
];

/**
 * logProb and prob of an (alpha, beta) family against its float64 density
 * `pdf(x, alpha, beta)` over {@link ALPHA_BETA_CASES}: parameters and values
 * drawn uniformly from the given ranges (seeded), the batch, value and result
 * shapes checked, logProb within 2e-5 relative plus 1e-4 absolute (float32
 * terms of size ~10, lgamma within ~3e-6 absolute, sums of up to 12 terms)
 * and prob within 1e-4 relative plus 1e-7 absolute.
 */
export function assertAlphaBetaLogProbTable(opts: {
  name: string;
  make: (p: { alpha: tf.Tensor; beta: tf.Tensor; groupNdims: number }) => Distribution;
  pdf: (x: number, a: number, b: number) => number;
  seed: number;
  beta: [number, number];
  given: [number, number];
}): void {
  const r = rng(opts.seed);
  for (const c of ALPHA_BETA_CASES) {
    const alpha = tf.tensor(uniform(r, size(c.alpha), 0.2, 6), c.alpha);
    const beta = tf.tensor(uniform(r, size(c.beta), ...opts.beta), c.beta);
    const given = tf.tensor(uniform(r, size(c.given), ...opts.given), c.given);
    const d = opts.make({ alpha, beta, groupNdims: c.groupNdims });
    assert.deepEqual(d.batchShape, broadcastShape(c.alpha, c.beta));
    assert.deepEqual(d.valueShape, []);
    const want = oracle([given, alpha, beta].map(arr), c.groupNdims, opts.pdf);
    const got = noLeak('logProb', () => read(d.logProb(given)));
    const full = broadcastShape(c.alpha, c.beta, c.given);
    assert.deepEqual(got.shape, full.slice(0, full.length - c.groupNdims));
    assertClose(got.data, want, 2e-5, 1e-4, `${opts.name} ${JSON.stringify(c)}`);
    assertClose(d.prob(given).dataSync(), want.map(Math.exp), 1e-4, 1e-7, 'prob');
  }
}

// ---- the (loc, scale) families -----------------------------------------------

/** Parameter/value shapes for the (loc, scale) families: broadcasting and groupNdims. */
export const LOC_SCALE_CASES: {
  loc: number[];
  scale: number[];
  given: number[];
  groupNdims: number;
}[] = [
  { loc: [5], scale: [5], given: [5], groupNdims: 0 },
  { loc: [3, 4], scale: [4], given: [3, 4], groupNdims: 1 },
  { loc: [3, 1], scale: [1, 4], given: [2, 3, 4], groupNdims: 2 },
  { loc: [], scale: [], given: [6], groupNdims: 0 },
  { loc: [2, 3], scale: [2, 3], given: [7, 2, 3], groupNdims: 1 },
  { loc: [4], scale: [], given: [2, 1], groupNdims: 1 },
];

/**
 * logProb and prob of a (loc, scale) family against its float64 log density
 * `logPdf(x, loc, scale)` over {@link LOC_SCALE_CASES}: loc uniform in
 * [−2, 2], scale in [0.3, 2] and values in `given` (seeded), the batch shape
 * checked, logProb within 1e-5 relative plus 1e-4 absolute (float32 against
 * float64, sums of up to 12 terms), prob within 1e-4 relative plus 1e-7
 * absolute; logProb leaks no tensor.
 */
export function assertLocScaleLogProbTable(opts: {
  name: string;
  make: (p: { loc: tf.Tensor; scale: tf.Tensor; groupNdims: number }) => Distribution;
  logPdf: (x: number, loc: number, scale: number) => number;
  seed: number;
  given: [number, number];
}): void {
  const r = rng(opts.seed);
  for (const c of LOC_SCALE_CASES) {
    const loc = tf.tensor(uniform(r, size(c.loc), -2, 2), c.loc);
    const scale = tf.tensor(uniform(r, size(c.scale), 0.3, 2), c.scale);
    const given = tf.tensor(uniform(r, size(c.given), ...opts.given), c.given);
    const d = opts.make({ loc, scale, groupNdims: c.groupNdims });
    assert.deepEqual(d.batchShape, broadcastShape(c.loc, c.scale));
    const expected = oracle([given, loc, scale].map(arr), c.groupNdims, opts.logPdf);
    const lp = noLeak('logProb', () => read(d.logProb(given)).data);
    assertClose(lp, expected, 1e-5, 1e-4, `${opts.name} ${JSON.stringify(c)}`);
    const p = noLeak('prob', () => read(d.prob(given)).data);
    assertClose(p, expected.map(Math.exp), 1e-4, 1e-7, 'prob');
  }
}
