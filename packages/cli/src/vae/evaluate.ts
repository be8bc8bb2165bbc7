/**
 * Test-set evaluation as in ZhuSuan's vae.py: the ELBO with one particle and
 * the importance-sampling estimate of log p(x) with q as proposal and K
 * particles (log-mean-exp over particles, averaged over images). Particles
 * are processed in chunks so memory stays bounded whatever K is; chunks are
 * combined exactly in log space.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import type { Vae } from './model.js';

/** Evaluation results; field names are the `eval --json` contract. */
export interface EvalResult {
  test_elbo: number;
  /** IS log-likelihood, nats, averaged over images. */
  test_ll: number;
  /**
   * Monte-Carlo standard error of `test_ll`: delta-method variance of each
   * image's log-mean-exp estimate, var ≈ (mean(w²)/mean(w)² − 1)/K, summed
   * over images, square-rooted, divided by the image count.
   */
  test_ll_stderr: number;
  /** Standard deviation of the per-image IS-LL across images, divided by sqrt(n). */
  test_ll_sem_over_images: number;
  particles: number;
  n_test: number;
  seconds: number;
}

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

/** Evaluates `vae` on binarised images `x` ([n, xDim], row-major). */
export function evaluate(vae: Vae, x: Float32Array, n: number, opts: EvalOptions): EvalResult {
  const t0 = performance.now();
  const xDim = vae.shape.xDim;
  const K = opts.particles;
  const batchImages = Math.min(opts.batchImages ?? 100, n);
  const chunk = Math.max(1, Math.min(K, Math.floor((opts.chunkRows ?? 20000) / batchImages)));
  let elboSum = 0;
  let llSum = 0;
  let llSqSum = 0;
  let mcVarSum = 0;
  for (let i = 0; i < n; i += batchImages) {
    const m = Math.min(batchImages, n - i);
    const xb = tf.tensor2d(x.subarray(i * xDim, (i + m) * xDim), [m, xDim]);
    elboSum += tf.tidy(() => tf.sum(vae.elbo(xb)).dataSync()[0]);
    // Running log-sum-exp of w and of w² over particle chunks, per image (float64).
    const lse1 = new Float64Array(m).fill(-Infinity);
    const lse2 = new Float64Array(m).fill(-Infinity);
    for (let done = 0; done < K; done += chunk) {
      const kc = Math.min(chunk, K - done);
      const [a, b] = tf.tidy(() => {
        const lw = logImportanceWeights(vae, xb, kc);
        return [zs.logSumExp(lw, 0).dataSync(), zs.logSumExp(tf.mul(lw, 2), 0).dataSync()];
      });
      for (let j = 0; j < m; j++) {
        lse1[j] = logAddExp(lse1[j], a[j]);
        lse2[j] = logAddExp(lse2[j], b[j]);
      }
    }
    xb.dispose();
    const logK = Math.log(K);
    for (let j = 0; j < m; j++) {
      const ll = lse1[j] - logK;
      llSum += ll;
      llSqSum += ll * ll;
      // mean(w²)/mean(w)² − 1, in log space.
      const relVar = Math.expm1(lse2[j] - logK - 2 * ll);
      mcVarSum += Math.max(relVar, 0) / K;
    }
    opts.onProgress?.(i + m, n);
  }
  const mean = llSum / n;
  const varOverImages = Math.max(llSqSum / n - mean * mean, 0);
  return {
    test_elbo: elboSum / n,
    test_ll: mean,
    test_ll_stderr: Math.sqrt(mcVarSum) / n,
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
