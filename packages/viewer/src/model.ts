/**
 * The trained VAE, rebuilt for viewing from a run's weights: the generative
 * model p(z) p(x | z) as a zhusuan Bayesian net, and the mean of q(z | x).
 * Forward passes only, on whatever tfjs backend is active (the viewer uses
 * `cpu` in the browser). Imports nothing from Node, so the same module runs
 * in the browser and in the CLI's tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';

/** One named float32 tensor, as `zhusuan serve` sends the checkpoint's weights. */
export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * The layers of the run's VAE, by checkpoint name: the decoder
 * z → h1 → h2 → x_logits and the encoder x → h1 → h2 → (z_mean, z_logstd).
 * Hidden layers are ReLU, output layers linear (the trainer's model).
 */
export const DECODER_LAYERS = ['gen/h1', 'gen/h2', 'gen/x_logits'] as const;
/** The encoder's hidden layers; see {@link DECODER_LAYERS}. */
export const ENCODER_LAYERS = ['q/h1', 'q/h2'] as const;
/** The encoder's mean head. */
export const Z_MEAN_LAYER = 'q/z_mean';

interface Layer {
  w: tf.Tensor2D;
  b: tf.Tensor1D;
  relu: boolean;
}

/** The VAE of one run, for generating, reconstructing and exploring its latent space. */
export class ViewerVae {
  /** Latent dimension d. */
  readonly zDim: number;
  /** Pixels per image. */
  readonly xDim: number;
  private readonly decoder: Layer[];
  private readonly encoder: Layer[];
  private readonly model: zs.MetaBayesianNet<[number]>;

  /**
   * @param weights the run's weights by checkpoint name (`gen/h1/kernel`,
   *   `gen/h1/bias`, …); other entries are ignored.
   * @throws Error naming the missing weight or the mismatched shape.
   */
  constructor(weights: NamedWeight[]) {
    const byName = new Map(weights.map((w) => [w.name, w]));
    const layer = (name: string, relu: boolean, inDim?: number): Layer => {
      const k = byName.get(`${name}/kernel`);
      const b = byName.get(`${name}/bias`);
      if (k === undefined || b === undefined) {
        throw new Error(
          `ViewerVae: weight '${name}/${k === undefined ? 'kernel' : 'bias'}' missing`,
        );
      }
      if (k.shape.length !== 2 || b.shape.length !== 1 || b.shape[0] !== k.shape[1]) {
        throw new Error(
          `ViewerVae: layer '${name}' has kernel [${k.shape}] and bias [${b.shape}]; expected [in, out] and [out]`,
        );
      }
      if (inDim !== undefined && k.shape[0] !== inDim) {
        throw new Error(`ViewerVae: layer '${name}' takes ${k.shape[0]} inputs, expected ${inDim}`);
      }
      return {
        w: tf.tensor2d(k.data, k.shape as [number, number]),
        b: tf.tensor1d(b.data),
        relu,
      };
    };
    // Each layer takes the previous one's width; hidden layers are ReLU, heads linear.
    const chain = (names: readonly string[], inDim?: number) => {
      const out: Layer[] = [];
      for (const [i, name] of names.entries()) {
        out.push(layer(name, i < names.length - 1, out.at(-1)?.w.shape[1] ?? inDim));
      }
      return out;
    };
    this.decoder = chain(DECODER_LAYERS);
    this.zDim = this.decoder[0].w.shape[0];
    this.xDim = this.decoder[this.decoder.length - 1].w.shape[1];
    this.encoder = chain([...ENCODER_LAYERS, Z_MEAN_LAYER], this.xDim);
    const encoded = this.encoder[this.encoder.length - 1].w.shape[1];
    if (encoded !== this.zDim) {
      throw new Error(
        `ViewerVae: encoder gives ${encoded} latent dimensions, decoder takes ${this.zDim}`,
      );
    }
    const zDim = this.zDim;
    this.model = zs.metaBayesianNet((bn: zs.BayesianNet, n: number) => {
      const z = bn.normal('z', tf.zeros([n, zDim]), { std: 1, groupNdims: 1 });
      const logits = bn.deterministic('x_logits', this.decodeLogits(z));
      bn.bernoulli('x', logits, { groupNdims: 1 });
    });
  }

  private static mlp(layers: Layer[], x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    for (const l of layers) {
      h = tf.fused.matMul({
        a: h,
        b: l.w,
        bias: l.b,
        activation: l.relu ? 'relu' : 'linear',
      }) as tf.Tensor2D;
    }
    return h;
  }

  private decodeLogits(z: tf.Tensor): tf.Tensor2D {
    return ViewerVae.mlp(this.decoder, z as tf.Tensor2D);
  }

  /**
   * Pixel means sigmoid(NN_θ(z)) of `n` fresh draws z ~ p(z), drawn with the
   * library's random stream seeded with `seed`; shape [n, xDim].
   */
  sample(n: number, seed: number): Float32Array {
    zs.random.setSeed(seed);
    return tf.tidy(() => {
      const bn = this.model.observe({}, n);
      return tf.sigmoid(bn.get('x_logits')).dataSync() as Float32Array;
    });
  }

  /** E_q[z | x] for images x (values in [0, 1], [n·xDim] row-major); shape [n, zDim]. */
  encode(x: Float32Array): Float32Array {
    const n = this.rows(x, this.xDim, 'encode');
    return tf.tidy(
      () => ViewerVae.mlp(this.encoder, tf.tensor2d(x, [n, this.xDim])).dataSync() as Float32Array,
    );
  }

  /** Pixel means sigmoid(NN_θ(z)) for latents z ([n·zDim] row-major); shape [n, xDim]. */
  decode(z: Float32Array): Float32Array {
    const n = this.rows(z, this.zDim, 'decode');
    return tf.tidy(
      () =>
        tf.sigmoid(this.decodeLogits(tf.tensor2d(z, [n, this.zDim]))).dataSync() as Float32Array,
    );
  }

  /** Reconstructions decode(encode(x)). */
  reconstruct(x: Float32Array): Float32Array {
    return this.decode(this.encode(x));
  }

  /** Frees the weights. */
  dispose(): void {
    for (const l of [...this.decoder, ...this.encoder]) tf.dispose([l.w, l.b]);
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
