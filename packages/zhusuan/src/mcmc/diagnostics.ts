/**
 * Convergence diagnostics of MCMC draws (port of zhusuan/diagnostics.py,
 * extended as numpyro's `diagnostics.py` and Stan): the effective sample
 * size by Geyer's initial monotone sequence estimator over several chains,
 * and the split R-hat. Computed in float64 on the draws read back from the
 * device.
 *
 * ZhuSuan's `effective_sample_size` sums the autocorrelations from lag 0,
 * which counts ρ0 = 1 twice and gives n/3 for independent draws, and stops at
 * the first negative autocorrelation; ours follows Geyer (1992) and Stan
 * (pairs of lags, truncated at the first non-positive pair, made monotone),
 * so independent draws give ≈ n. Its default `burn_in` of 100 is 0 here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertInteger } from '../checks.js';

/** Where the draws and the chains are in a tensor of draws. */
export interface DiagnosticsOptions {
  /** The axis of successive draws. Default 0. */
  sampleAxis?: number;
  /**
   * The axis of independent chains, if any (e.g. 1 for draws of shape
   * `[nSamples, nChains, ...event]`). Default: none (one chain).
   */
  chainAxis?: number;
  /** Leading draws of every chain to discard (ZhuSuan's `burn_in`). Default 0. */
  burnIn?: number;
}

/** The draws of one tensor as `[dims][chains][draws]` in float64, and the shape of the dims. */
interface Draws {
  x: Float64Array[][];
  shape: number[];
}

/** Reads `samples` back and regroups it by dimension, chain and draw. */
function readDraws(
  fn: string,
  samples: tf.Tensor,
  opts: DiagnosticsOptions,
  minDraws: number,
): Draws {
  if (!(samples instanceof tf.Tensor)) {
    throw new Error(`${fn}: \`samples\` must be a tf.Tensor of draws, got ${typeof samples}`);
  }
  const rank = samples.rank;
  const axis = (name: string, a: number): number => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new Error(
        `${fn}: \`${name}\` ${a} is not an axis of samples of shape [${samples.shape.join(',')}]`,
      );
    }
    return a < 0 ? a + rank : a;
  };
  const sAxis = axis('sampleAxis', opts.sampleAxis ?? 0);
  const cAxis = opts.chainAxis === undefined ? null : axis('chainAxis', opts.chainAxis);
  if (cAxis === sAxis) {
    throw new Error(`${fn}: \`chainAxis\` and \`sampleAxis\` are both ${sAxis}; they must differ`);
  }
  const burnIn = opts.burnIn ?? 0;
  assertInteger(fn, 'burnIn', burnIn, 'non-negative');
  const shape = samples.shape;
  const N = shape[sAxis] - burnIn;
  if (N < minDraws) {
    throw new Error(
      `${fn}: needs at least ${minDraws} draws per chain after burn-in, got ${N} ` +
        `(axis ${sAxis} of shape [${shape.join(',')}], burnIn ${burnIn})`,
    );
  }
  const C = cAxis === null ? 1 : shape[cAxis];
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const dimAxes = shape.map((_, i) => i).filter((i) => i !== sAxis && i !== cAxis);
  const dimShape = dimAxes.map((i) => shape[i]);
  const D = dimShape.reduce((a, b) => a * b, 1);
  const data = samples.dataSync();
  const x: Float64Array[][] = [];
  for (let d = 0; d < D; d++) {
    // The offset of dimension d: its multi-index over the remaining axes.
    let rest = d;
    let base = 0;
    for (let k = dimAxes.length - 1; k >= 0; k--) {
      base += (rest % dimShape[k]) * strides[dimAxes[k]];
      rest = Math.floor(rest / dimShape[k]);
    }
    const chains: Float64Array[] = [];
    for (let c = 0; c < C; c++) {
      const off = base + (cAxis === null ? 0 : c * strides[cAxis]);
      const row = new Float64Array(N);
      for (let t = 0; t < N; t++) row[t] = data[off + (t + burnIn) * strides[sAxis]];
      chains.push(row);
    }
    x.push(chains);
  }
  return { x, shape: dimShape };
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

/** Sample variance (divisor n − 1). */
function variance(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) ** 2;
  return s / (a.length - 1);
}

/**
 * W, the mean within-chain variance, and var⁺ = (n−1)/n·W + B/n, Stan's
 * estimate of the target's variance (B/n the variance of the chain means);
 * with one chain, both are the chain's variance with divisor n (numpyro's
 * `_compute_chain_variance_stats`).
 */
function chainVariances(chains: Float64Array[]): { within: number; plus: number } {
  const n = chains[0].length;
  const within = mean(chains.map(variance));
  const plus = (within * (n - 1)) / n;
  if (chains.length === 1) return { within: plus, plus };
  return { within, plus: plus + variance(chains.map(mean)) };
}

/** In-place radix-2 FFT of (re, im), length a power of two; `inverse` without the 1/n. */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/**
 * The autocovariances γ_k = (1/n) Σ_t (x_t − x̄)(x_{t+k} − x̄), k = 0…n−1, of
 * one chain, by FFT with zero padding (O(n log n)).
 */
export function autocovariance(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  let size = 1;
  while (size < 2 * n) size <<= 1;
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  const m = mean(x);
  for (let t = 0; t < n; t++) re[t] = x[t] - m;
  fft(re, im, false);
  for (let k = 0; k < size; k++) {
    re[k] = re[k] * re[k] + im[k] * im[k];
    im[k] = 0;
  }
  fft(re, im, true);
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = re[k] / size / n;
  return out;
}

/** The ESS of one dimension's chains (all of one length). */
function essOfChains(chains: Float64Array[]): number {
  const C = chains.length;
  const n = chains[0].length;
  const { within, plus } = chainVariances(chains);
  if (!(plus > 0)) return NaN; // constant draws
  const gamma = new Float64Array(n);
  for (const x of chains) {
    const g = autocovariance(x);
    for (let k = 0; k < n; k++) gamma[k] += g[k] / C;
  }
  // ρ_k = 1 − (W − mean_c γ_k)/var⁺ (Stan's combined-chain autocorrelation), ρ_0 = 1.
  const rho = (k: number): number => (k === 0 ? 1 : 1 - (within - gamma[k]) / plus);
  // Geyer: pair sums P_m = ρ_2m + ρ_2m+1, kept while positive, made non-increasing.
  let sum = 0;
  let prev = Infinity;
  for (let m = 0; 2 * m + 1 < n; m++) {
    const pair = Math.min(rho(2 * m) + rho(2 * m + 1), prev);
    if (!(pair > 0)) break;
    sum += pair;
    prev = pair;
  }
  // τ = 2ΣP − 1 is below 1 for antithetic draws, and can even be negative
  // (ρ_1 < −0.5, a half-period HMC trajectory): bounded below by
  // 1/log10(n_total) as Stan does, so the ESS is at most n_total·log10(n_total).
  return (C * n) / Math.max(2 * sum - 1, 1 / Math.log10(C * n));
}

/** A tensor of `values` in `shape` (a scalar for `[]`). */
function toTensor(values: number[], shape: number[]): tf.Tensor {
  return tf.tensor(values, shape, 'float32');
}

/**
 * The effective sample size of each dimension of the draws: the number of
 * independent draws that would estimate its mean as precisely, n_total/τ
 * with τ = 1 + 2Σ_k ρ_k, the autocorrelations ρ_k estimated over the chains
 * together (Stan's combined estimator, numpyro's `effective_sample_size`)
 * and summed by Geyer's initial monotone sequence. Antithetic draws can give
 * more than n_total, at most n_total·log10(n_total) (Stan's bound; numpyro's
 * estimate can turn negative there).
 *
 * Shapes: `samples` of any shape; the result has the shape of `samples`
 * without the sample and chain axes (a scalar for a single series). A
 * dimension whose draws are all equal gives NaN.
 * @example
 * // draws [nSamples, nChains, D] from a sampler
 * zs.effectiveSampleSize(draws, { chainAxis: 1 }); // shape [D]
 */
export function effectiveSampleSize(samples: tf.Tensor, opts: DiagnosticsOptions = {}): tf.Tensor {
  const { x, shape } = readDraws('effectiveSampleSize', samples, opts, 4);
  return toTensor(x.map(essOfChains), shape);
}

/**
 * ZhuSuan's form of {@link effectiveSampleSize}: the smallest effective
 * sample size over the dimensions (of draws `[nSamples, D]` in ZhuSuan; any
 * shape here, with the same options), i.e. that of the slowest-mixing one.
 * NaN dimensions (constant draws) are skipped; NaN if all are.
 */
export function minEffectiveSampleSize(samples: tf.Tensor, opts: DiagnosticsOptions = {}): number {
  const { x } = readDraws('minEffectiveSampleSize', samples, opts, 4);
  const ess = x.map(essOfChains).filter((e) => !Number.isNaN(e));
  return ess.length === 0 ? NaN : Math.min(...ess);
}

/**
 * The split R-hat of each dimension (Gelman et al., Bayesian Data Analysis,
 * 3rd ed., §11.4; numpyro's `split_gelman_rubin`): every chain is cut into
 * its first and last ⌊n/2⌋ draws, and R̂ = √(var⁺/W) over those half-chains,
 * W their mean variance and var⁺ = (n−1)/n·W + B/n. Near 1 when the chains
 * agree; above 1.01–1.1 when they sample different regions or still drift
 * (which a single chain shows as a difference between its halves).
 *
 * Shapes: as {@link effectiveSampleSize}; at least 4 draws per chain.
 * @example
 * zs.splitRHat(draws, { chainAxis: 1 }); // shape [D], ≈ 1 when mixed
 */
export function splitRHat(samples: tf.Tensor, opts: DiagnosticsOptions = {}): tf.Tensor {
  const { x, shape } = readDraws('splitRHat', samples, opts, 4);
  const rhat = x.map((chains) => {
    const half = Math.floor(chains[0].length / 2);
    const n = chains[0].length;
    const halves = chains.flatMap((c) => [c.subarray(0, half), c.subarray(n - half)]);
    const { within, plus } = chainVariances(halves);
    return Math.sqrt(plus / within);
  });
  return toTensor(rhat, shape);
}
