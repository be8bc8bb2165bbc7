/**
 * A VAE-like training step in plain tfjs ops, used by the tests (the same
 * losses and gradients on every backend) (the benchmarks time the CLI's real trainer: `zhusuan bench`). Same op
 * structure as the CLI's model: an MLP encoder x -> (mean, logstd) of a
 * Gaussian z, the reparameterised sample z = mean + exp(logstd) * eps, an MLP
 * decoder z -> Bernoulli logits, and the negative single-sample ELBO
 *   loss = -mean_b [ sum_d (x*logits - softplus(logits)) + log N(z; 0, 1) - log N(z; mean, std) ].
 */
import * as tf from '@tensorflow/tfjs-core';
import { dense } from '../src/dense.js';

/** Sizes of the model (defaults: the MNIST VAE, 784-500-500-40). */
export interface VaeConfig {
  xDim: number;
  hidden: number;
  zDim: number;
  batch: number;
  /**
   * 'plain': matMul + add + relu; 'fused': tf.fused.matMul with bias and relu
   * (tfjs unfuses relu layers while recording gradients); 'native': this
   * package's dense() (one kernel forward, <= 3 backward on native).
   */
  dense: 'plain' | 'fused' | 'native';
}

export const DEFAULT_VAE: VaeConfig = {
  xDim: 784,
  hidden: 500,
  zDim: 40,
  batch: 128,
  dense: 'plain',
};

interface Dense {
  w: tf.Variable;
  b: tf.Variable;
}

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Makes sure tfjs' gradient functions are registered. tfjs-core's Node bundle
 * registers none; the `@tensorflow/tfjs` bundle registers all of them (into
 * the same, hoisted tfjs-core). Needed before `minimize` on a fresh engine.
 */
export async function ensureGradients(): Promise<void> {
  if (tf.getGradient(tf.Neg) !== undefined) return;
  await import('@tensorflow/tfjs');
  if (tf.getGradient(tf.Neg) === undefined) {
    throw new Error(
      'ensureGradients: @tensorflow/tfjs did not register gradients into this tfjs-core',
    );
  }
}

/** A small deterministic generator (mulberry32) for weights and data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The model: variables plus the loss as a function of a batch and noise. */
export class VaeModel {
  readonly config: VaeConfig;
  private readonly layers: Record<string, Dense> = {};

  /** Glorot-uniform weights and zero biases from `seed`, identical on every backend. */
  constructor(config: Partial<VaeConfig> = {}, seed = 1, namePrefix = 'vae') {
    this.config = { ...DEFAULT_VAE, ...config };
    const { xDim, hidden, zDim } = this.config;
    const rand = mulberry32(seed);
    const dense = (name: string, nIn: number, nOut: number): Dense => {
      const limit = Math.sqrt(6 / (nIn + nOut));
      const w = new Float32Array(nIn * nOut);
      for (let i = 0; i < w.length; i++) w[i] = (2 * rand() - 1) * limit;
      return {
        w: tf.variable(tf.tensor2d(w, [nIn, nOut]), true, `${namePrefix}/${name}/w`),
        b: tf.variable(tf.zeros([nOut]), true, `${namePrefix}/${name}/b`),
      };
    };
    this.layers.enc1 = dense('enc1', xDim, hidden);
    this.layers.enc2 = dense('enc2', hidden, hidden);
    this.layers.mean = dense('z_mean', hidden, zDim);
    this.layers.logstd = dense('z_logstd', hidden, zDim);
    this.layers.dec1 = dense('dec1', zDim, hidden);
    this.layers.dec2 = dense('dec2', hidden, hidden);
    this.layers.out = dense('x_logits', hidden, xDim);
  }

  /** Trainable variables, in a fixed order. */
  get variables(): tf.Variable[] {
    return Object.values(this.layers).flatMap((l) => [l.w, l.b]);
  }

  private dense(x: tf.Tensor2D, l: Dense, relu: boolean): tf.Tensor2D {
    if (this.config.dense === 'native') {
      return dense(x, l.w, l.b, relu ? 'relu' : 'linear') as tf.Tensor2D;
    }
    if (this.config.dense === 'fused') {
      return tf.fused.matMul({
        a: x,
        b: l.w as tf.Tensor2D,
        bias: l.b,
        activation: relu ? 'relu' : 'linear',
      }) as tf.Tensor2D;
    }
    const y = tf.add(tf.matMul(x, l.w as tf.Tensor2D), l.b) as tf.Tensor2D;
    return relu ? tf.relu(y) : y;
  }

  /** Negative ELBO averaged over the batch; `eps` is standard normal noise [batch, zDim]. */
  loss(x: tf.Tensor2D, eps: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const L = this.layers;
      const h1 = this.dense(x, L.enc1, true);
      const h2 = this.dense(h1, L.enc2, true);
      const mean = this.dense(h2, L.mean, false);
      const logstd = this.dense(h2, L.logstd, false);
      const z = tf.add(mean, tf.mul(tf.exp(logstd), eps));
      const d1 = this.dense(z as tf.Tensor2D, L.dec1, true);
      const d2 = this.dense(d1, L.dec2, true);
      const logits = this.dense(d2, L.out, false);
      const logPx = tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)), -1);
      const logPz = tf.sum(tf.sub(tf.mul(tf.square(z), -0.5), 0.5 * LOG_2PI), -1);
      const precision = tf.exp(tf.mul(logstd, -2));
      const logQz = tf.sum(
        tf.sub(
          tf.sub(tf.mul(tf.mul(precision, tf.square(tf.sub(z, mean))), -0.5), logstd),
          0.5 * LOG_2PI,
        ),
        -1,
      );
      return tf.neg(tf.mean(tf.sub(tf.add(logPx, logPz), logQz))) as tf.Scalar;
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/** Deterministic binary "images" [n, xDim] (pixels on with probability ~0.13, like MNIST). */
export function syntheticBatch(n: number, xDim: number, seed: number): tf.Tensor2D {
  const rand = mulberry32(seed);
  const v = new Float32Array(n * xDim);
  for (let i = 0; i < v.length; i++) v[i] = rand() < 0.13 ? 1 : 0;
  return tf.tensor2d(v, [n, xDim]);
}

/** Standard normal noise [n, d] from `seed` (Box-Muller on mulberry32), backend independent. */
export function normalNoise(n: number, d: number, seed: number): tf.Tensor2D {
  const rand = mulberry32(seed);
  const v = new Float32Array(n * d);
  for (let i = 0; i < v.length; i += 2) {
    const u1 = Math.max(rand(), 1e-12);
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1));
    v[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < v.length) v[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return tf.tensor2d(v, [n, d]);
}

/** One Adam step on a batch; returns the loss before the update. */
export function trainStep(
  model: VaeModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor2D,
  eps: tf.Tensor2D,
): number {
  const loss = optimizer.minimize(() => model.loss(x, eps), true, model.variables) as tf.Scalar;
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}
