/**
 * Test-set evaluation as in ZhuSuan's vae.py: the ELBO with one particle and
 * the importance-sampling estimate of log p(x) with q as proposal and K
 * particles (log-mean-exp over particles, averaged over images). Particles
 * are processed in chunks so memory stays bounded whatever K is; chunks are
 * combined exactly in log space.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import type { EvalResult, Vae } from '@zhusuan/vae';
import { yieldToEvents } from '../signals.js';

/** Options of {@link evaluate}. */
export interface EvalOptions {
  particles: number;
  /** Images per batch (default 100). */
  batchImages?: number;
  /** Rows (particles × images) per chunk (default 20000). */
  chunkRows?: number;
  /** Called after each image batch with the number of images done. */
  onProgress?(done: number, total: number): void;
}

/**
 * Per-image log importance weights for `k` particles, shape [k, n]:
 * log p(x, z) − log q(z | x) with z ~ q(z | x), computed with the library's
 * BayesianNet log densities.
 */
export function logImportanceWeights(vae: Vae, x: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const q = vae.variational(x, k);
    const z = q.get('z');
    const p = vae.model.observe({ x, z }, x.shape[0], k);
    return tf.sub(p.logJoint(), q.logJoint()) as tf.Tensor2D;
  });
}

/**
 * What the evaluation needs of a latent-variable model of binarised images:
 * any model with a proposal, not only the homework {@link Vae} (a
 * convolutional VAE, a flow posterior).
 */
export interface IsModel {
  /** Pixels per image. */
  readonly xDim: number;
  /** The ELBO per image with one particle, shape [n], for x of shape [n, xDim]. */
  elbo(x: tf.Tensor2D): tf.Tensor1D;
  /**
   * Log importance weights log p(x, z) − log q(z | x) for `k` draws of z
   * from the proposal, shape [k, n].
   */
  logImportanceWeights(x: tf.Tensor2D, k: number): tf.Tensor2D;
}

/** The homework VAE as an {@link IsModel}. */
export function vaeIsModel(vae: Vae): IsModel {
  return {
    xDim: vae.shape.xDim,
    elbo: (x) => vae.elbo(x),
    logImportanceWeights: (x, k) => logImportanceWeights(vae, x, k),
  };
}

/** Evaluates `vae` on binarised images `x` ([n, xDim], row-major). */
export function evaluate(vae: Vae, x: Float32Array, n: number, opts: EvalOptions): EvalResult {
  return evaluateModel(vaeIsModel(vae), x, n, opts);
}

/**
 * {@link evaluate} for any {@link IsModel}: the ELBO (1 particle) and the
 * importance-sampling log-likelihood with `opts.particles` particles, with
 * their standard errors, over binarised images `x` ([n, model.xDim]).
 */
export function evaluateModel(
  model: IsModel,
  x: Float32Array,
  n: number,
  opts: EvalOptions,
): EvalResult {
  const steps = evaluationSteps(model, x, n, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * {@link evaluate}, yielding to the event loop after each image batch and
 * stopping there when `signal` is aborted (its reason is returned instead of
 * a result). The same numbers as `evaluate`.
 */
export async function evaluateInterruptible(
  vae: Vae,
  x: Float32Array,
  n: number,
  opts: EvalOptions,
  signal: AbortSignal,
): Promise<EvalResult | { stopped: unknown; done: number }> {
  const steps = evaluationSteps(vaeIsModel(vae), x, n, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await yieldToEvents(); // lets a SIGINT/SIGTERM handler run
    if (signal.aborted) return { stopped: signal.reason, done: r.value };
  }
}

/** The evaluation as a generator: yields the images done after each batch, returns the result. */
function* evaluationSteps(
  model: IsModel,
  x: Float32Array,
  n: number,
  opts: EvalOptions,
): Generator<number, EvalResult> {
  const t0 = performance.now();
  const xDim = model.xDim;
  const K = opts.particles;
  const batchImages = Math.min(opts.batchImages ?? 100, n);
  // At least two chunks when K >= 2: alternate chunks form the two groups of
  // the split-half standard error.
  const chunk = Math.max(
    1,
    Math.min(Math.ceil(K / 2), Math.floor((opts.chunkRows ?? 20000) / batchImages)),
  );
  let elboSum = 0;
  let llSum = 0;
  let llSqSum = 0;
  let mcVarSum = 0;
  let splitVarSum = 0;
  for (let i = 0; i < n; i += batchImages) {
    const m = Math.min(batchImages, n - i);
    const xb = tf.tensor2d(x.subarray(i * xDim, (i + m) * xDim), [m, xDim]);
    elboSum += tf.tidy(() => tf.sum(model.elbo(xb)).dataSync()[0]);
    // Running log-sum-exp of w over each group's chunks and of w² over all,
    // per image (float64).
    const lseA = new Float64Array(m).fill(-Infinity);
    const lseB = new Float64Array(m).fill(-Infinity);
    const lse2 = new Float64Array(m).fill(-Infinity);
    let kA = 0;
    let kB = 0;
    for (let done = 0, c = 0; done < K; done += chunk, c++) {
      const kc = Math.min(chunk, K - done);
      const [a, b] = tf.tidy(() => {
        const lw = model.logImportanceWeights(xb, kc);
        return [zs.logSumExp(lw, 0).dataSync(), zs.logSumExp(tf.mul(lw, 2), 0).dataSync()];
      });
      const lse = c % 2 === 0 ? lseA : lseB;
      if (c % 2 === 0) kA += kc;
      else kB += kc;
      for (let j = 0; j < m; j++) {
        lse[j] = logAddExp(lse[j], a[j]);
        lse2[j] = logAddExp(lse2[j], b[j]);
      }
    }
    xb.dispose();
    const logK = Math.log(K);
    for (let j = 0; j < m; j++) {
      const ll = logAddExp(lseA[j], lseB[j]) - logK;
      llSum += ll;
      llSqSum += ll * ll;
      // mean(w²)/mean(w)² − 1, in log space.
      const relVar = Math.expm1(lse2[j] - logK - 2 * ll);
      mcVarSum += Math.max(relVar, 0) / K;
      if (kB > 0) {
        const d = lseA[j] - Math.log(kA) - (lseB[j] - Math.log(kB));
        splitVarSum += (d * d) / (1 / kA + 1 / kB) / K;
      }
    }
    opts.onProgress?.(i + m, n);
    if (i + m < n) yield i + m;
  }
  const mean = llSum / n;
  const varOverImages = Math.max(llSqSum / n - mean * mean, 0);
  return {
    test_elbo: elboSum / n,
    test_ll: mean,
    test_ll_stderr: Math.sqrt(splitVarSum) / n,
    test_ll_stderr_delta: Math.sqrt(mcVarSum) / n,
    test_ll_sem_over_images: Math.sqrt(varOverImages / Math.max(n - 1, 1)),
    particles: K,
    n_test: n,
    seconds: (performance.now() - t0) / 1000,
  };
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}
