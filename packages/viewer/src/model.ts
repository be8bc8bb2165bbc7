/**
 * The trained VAE, rebuilt for viewing from a run's weights: the one VAE
 * definition (`@zhusuan/vae`) over the saved weights, for generating,
 * reconstructing and exploring the latent space. Forward passes only, on
 * whatever tfjs backend is active (the viewer uses `cpu` in the browser).
 * Imports nothing from Node, so the same module runs in the browser and in
 * the CLI's tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import { savedWeightLayers, shapeFromWeights, Vae, type NamedWeight } from '@zhusuan/vae';
import * as zs from 'zhusuan';

export type { NamedWeight } from '@zhusuan/vae';

/** The VAE of one run, for generating, reconstructing and exploring its latent space. */
export class ViewerVae {
  /** Latent dimension d. */
  readonly zDim: number;
  /** Pixels per image. */
  readonly xDim: number;
  private readonly vae: Vae;

  /**
   * @param weights the run's weights by checkpoint name (`gen/h1/kernel`,
   *   `gen/h1/bias`, …); other entries are ignored.
   * @throws Error naming the missing weight or the mismatched shape.
   */
  constructor(weights: NamedWeight[]) {
    const shape = shapeFromWeights(weights, 'ViewerVae');
    this.vae = new Vae(shape, savedWeightLayers(weights, 'ViewerVae'));
    this.zDim = shape.zDim;
    this.xDim = shape.xDim;
  }

  /**
   * Pixel means sigmoid(NN_θ(z)) of `n` fresh draws z ~ p(z), drawn with the
   * library's random stream seeded with `seed`; shape [n, xDim].
   */
  sample(n: number, seed: number): Float32Array {
    zs.random.setSeed(seed);
    return tf.tidy(() => this.vae.sample(n).dataSync() as Float32Array);
  }

  /** E_q[z | x] for images x (values in [0, 1], [n·xDim] row-major); shape [n, zDim]. */
  encode(x: Float32Array): Float32Array {
    const n = this.rows(x, this.xDim, 'encode');
    return tf.tidy(
      () => this.vae.encodeMean(tf.tensor2d(x, [n, this.xDim])).dataSync() as Float32Array,
    );
  }

  /** Pixel means sigmoid(NN_θ(z)) for latents z ([n·zDim] row-major); shape [n, xDim]. */
  decode(z: Float32Array): Float32Array {
    const n = this.rows(z, this.zDim, 'decode');
    return tf.tidy(
      () => tf.sigmoid(this.vae.decode(tf.tensor2d(z, [n, this.zDim]))).dataSync() as Float32Array,
    );
  }

  /** Reconstructions decode(encode(x)). */
  reconstruct(x: Float32Array): Float32Array {
    return this.decode(this.encode(x));
  }

  /** Frees the weights. */
  dispose(): void {
    this.vae.dispose();
  }

  private rows(v: Float32Array, width: number, what: string): number {
    if (v.length === 0 || v.length % width !== 0) {
      throw new Error(
        `ViewerVae.${what}: ${v.length} values is not a whole number of ${width}-vectors`,
      );
    }
    return v.length / width;
  }
}

/**
 * `steps` latents evenly spaced on the segment from `a` to `b` (both ends
 * included), row-major [steps·d].
 */
export function interpolate(a: Float32Array, b: Float32Array, steps: number): Float32Array {
  if (a.length !== b.length) {
    throw new Error(`interpolate: endpoints have ${a.length} and ${b.length} dimensions`);
  }
  if (!Number.isInteger(steps) || steps < 2) {
    throw new Error(`interpolate: steps must be an integer ≥ 2, got ${steps}`);
  }
  const d = a.length;
  const out = new Float32Array(steps * d);
  for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    for (let i = 0; i < d; i++) out[s * d + i] = (1 - t) * a[i] + t * b[i];
  }
  return out;
}

/**
 * A traversal of latent dimension `dim`: copies of `z` with that coordinate
 * set to each of `values`, row-major [values.length·d].
 */
export function traverse(z: Float32Array, dim: number, values: readonly number[]): Float32Array {
  if (!Number.isInteger(dim) || dim < 0 || dim >= z.length) {
    throw new Error(`traverse: dimension ${dim} is outside 0..${z.length - 1}`);
  }
  const d = z.length;
  const out = new Float32Array(values.length * d);
  values.forEach((v, r) => {
    out.set(z, r * d);
    out[r * d + dim] = v;
  });
  return out;
}

/**
 * The variance over images of each coordinate of E_q[z | x] (`means` is
 * [n·d] row-major), and the dimensions ordered from most to least active.
 * Burda et al. (2016) call a dimension active when this variance exceeds
 * 0.01: the rest the decoder ignores.
 */
export function latentActivity(
  means: Float32Array,
  d: number,
): { variance: Float32Array; order: number[]; active: number } {
  const n = means.length / d;
  if (!Number.isInteger(n) || n < 2) {
    throw new Error(`latentActivity: need at least two ${d}-vectors, got ${means.length} values`);
  }
  const variance = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    let mean = 0;
    for (let r = 0; r < n; r++) mean += means[r * d + i];
    mean /= n;
    let ss = 0;
    for (let r = 0; r < n; r++) ss += (means[r * d + i] - mean) ** 2;
    variance[i] = ss / (n - 1);
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((p, q) => variance[q] - variance[p]);
  return { variance, order, active: variance.filter((v) => v > 0.01).length };
}
