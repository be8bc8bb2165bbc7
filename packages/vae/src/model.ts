/**
 * The homework's VAE (ZhuSuan examples/variational_autoencoders/vae.py),
 * defined once for every place that builds it:
 *
 *   z ~ N(0, I_d),  x_logits = NN_θ(z),  x ~ Bernoulli(sigmoid(x_logits))
 *   q(z|x) = N(μ(x), σ(x)²),  (μ, log σ) = NN_φ(x)
 *
 * Both networks are MLPs with two ReLU hidden layers and linear heads
 * ({@link vaeLayers}). Where the weights come from is the caller's choice, a
 * {@link LayerFactory}: the trainer passes one that makes trainable
 * variables (and the native backend's fused dense layer), the viewer one
 * that reads a run's saved weights ({@link savedWeightLayers}). Imports
 * nothing from Node, so the same definition runs in the browser.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';

/** Shape of the model. */
export interface VaeShape {
  /** Pixels per image (784 for MNIST). */
  xDim: number;
  /** Latent dimension d (40 in the homework). */
  zDim: number;
  /** Width of both hidden layers (500 in the homework). */
  hidden: number;
}

/** A dense layer's activation: ReLU for hidden layers, identity for heads. */
export type Activation = 'relu' | 'linear';

/** One dense layer `y = act(x W + b)` of the VAE, as {@link vaeLayers} lists it. */
export interface LayerSpec {
  /** Checkpoint name, e.g. `gen/h1`; its weights are `<name>/kernel` and `<name>/bias`. */
  name: string;
  inDim: number;
  outDim: number;
  activation: Activation;
}

/**
 * The VAE's layers in checkpoint order: the decoder z → h1 → h2 → x_logits,
 * the encoder x → h1 → h2, and the heads (z_mean, z_logstd).
 */
export function vaeLayers({ xDim, zDim, hidden }: VaeShape): LayerSpec[] {
  const spec = (name: string, inDim: number, outDim: number, activation: Activation) => ({
    name,
    inDim,
    outDim,
    activation,
  });
  return [
    spec('gen/h1', zDim, hidden, 'relu'),
    spec('gen/h2', hidden, hidden, 'relu'),
    spec('gen/x_logits', hidden, xDim, 'linear'),
    spec('q/h1', xDim, hidden, 'relu'),
    spec('q/h2', hidden, hidden, 'relu'),
    spec('q/z_mean', hidden, zDim, 'linear'),
    spec('q/z_logstd', hidden, zDim, 'linear'),
  ];
}

/**
 * A dense layer with its weights. `T` is the weights' tensor type:
 * `tf.Variable` for a trainable model, `tf.Tensor` for loaded weights.
 */
export interface Layer<T extends tf.Tensor = tf.Tensor> {
  readonly spec: LayerSpec;
  /** The kernel W, shape [inDim, outDim]. */
  readonly kernel: T;
  /** The bias b, shape [outDim]. */
  readonly bias: T;
  /** `act(x W + b)` over the last axis of `x`; leading axes are kept. */
  apply(x: tf.Tensor): tf.Tensor;
}

/** Makes the layer for one spec; called once per layer, in {@link vaeLayers} order. */
export type LayerFactory<T extends tf.Tensor = tf.Tensor> = (spec: LayerSpec) => Layer<T>;

/**
 * `act(x W + b)` with tfjs' fused matMul, for x of any rank ≥ 2 (leading
 * axes are flattened and restored).
 */
export function denseApply(
  x: tf.Tensor,
  kernel: tf.Tensor,
  bias: tf.Tensor,
  activation: Activation,
): tf.Tensor {
  const lead = x.shape.slice(0, -1);
  const x2 =
    x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D);
  const y = tf.fused.matMul({ a: x2, b: kernel as tf.Tensor2D, bias, activation });
  return x.rank === 2 ? y : tf.reshape(y, [...lead, bias.shape[0]]);
}

/** One named float32 tensor, as checkpoints and the viewer's weights message hold them. */
export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * The shape of the VAE whose weights these are, read from the decoder's
 * first and last kernels.
 * @throws Error naming a missing kernel.
 */
export function shapeFromWeights(weights: readonly NamedWeight[], who = 'VAE'): VaeShape {
  const kernel = (name: string) => {
    const w = weights.find((v) => v.name === `${name}/kernel`);
    if (w === undefined || w.shape.length !== 2) {
      throw new Error(`${who}: weight '${name}/kernel' missing or not a matrix`);
    }
    return w.shape;
  };
  const [zDim, hidden] = kernel('gen/h1');
  return { zDim, hidden, xDim: kernel('gen/x_logits')[1] };
}

/**
 * A {@link LayerFactory} over saved weights (`gen/h1/kernel`, `gen/h1/bias`,
 * …); entries no layer asks for are ignored. The layers own tensors made
 * from the data, freed by {@link Vae.dispose}.
 * @param who prefix of error messages.
 * @throws Error naming the missing weight or the misshapen layer.
 */
export function savedWeightLayers(weights: readonly NamedWeight[], who = 'VAE'): LayerFactory {
  const byName = new Map(weights.map((w) => [w.name, w]));
  return (spec) => {
    const k = byName.get(`${spec.name}/kernel`);
    const b = byName.get(`${spec.name}/bias`);
    if (k === undefined || b === undefined) {
      throw new Error(
        `${who}: weight '${spec.name}/${k === undefined ? 'kernel' : 'bias'}' missing`,
      );
    }
    if (k.shape.length !== 2 || b.shape.length !== 1 || b.shape[0] !== k.shape[1]) {
      throw new Error(
        `${who}: layer '${spec.name}' has kernel [${k.shape}] and bias [${b.shape}]; expected [in, out] and [out]`,
      );
    }
    if (k.shape[0] !== spec.inDim) {
      throw new Error(
        `${who}: layer '${spec.name}' takes ${k.shape[0]} inputs, expected ${spec.inDim}`,
      );
    }
    if (k.shape[1] !== spec.outDim) {
      throw new Error(
        `${who}: layer '${spec.name}' gives ${k.shape[1]} outputs, expected ${spec.outDim}`,
      );
    }
    const kernel = tf.tensor2d(k.data, k.shape as [number, number]);
    const bias = tf.tensor1d(b.data);
    return {
      spec,
      kernel,
      bias,
      apply: (x) => denseApply(x, kernel, bias, spec.activation),
    };
  };
}

/** The training objectives of {@link Vae.objective}. */
export const OBJECTIVES = ['elbo', 'iwae', 'vimco'] as const;
/** One of {@link OBJECTIVES}. */
export type Objective = (typeof OBJECTIVES)[number];

/** The VAE: generative model p(x, z) and variational posterior q(z | x). */
export class Vae<T extends tf.Tensor = tf.Tensor> {
  /** Every layer, in {@link vaeLayers} (checkpoint) order. */
  readonly layers: Layer<T>[];
  /** The generative model as a meta Bayesian net: re-run with any observation. */
  readonly model: zs.MetaBayesianNet<[number, number]>;
  private readonly decoder: Layer<T>[];
  private readonly encoder: Layer<T>[];
  private readonly zMean: Layer<T>;
  private readonly zLogstd: Layer<T>;

  /**
   * @param shape the model's dimensions.
   * @param layer makes each layer's weights, called in {@link vaeLayers} order.
   */
  constructor(
    readonly shape: VaeShape,
    layer: LayerFactory<T>,
  ) {
    this.layers = [];
    try {
      for (const spec of vaeLayers(shape)) this.layers.push(layer(spec));
    } catch (err) {
      this.dispose();
      throw err;
    }
    this.decoder = this.layers.slice(0, 3);
    this.encoder = this.layers.slice(3, 5);
    [this.zMean, this.zLogstd] = this.layers.slice(5, 7);
    const { zDim } = shape;
    this.model = zs.metaBayesianNet((bn: zs.BayesianNet, n: number, nParticles: number) => {
      const z = bn.normal('z', tf.zeros([n, zDim]), {
        std: 1,
        groupNdims: 1,
        nSamples: nParticles,
      });
      const xLogits = bn.deterministic('x_logits', this.decode(z));
      bn.bernoulli('x', xLogits, { groupNdims: 1 });
    });
  }

  /** Every weight, in checkpoint order (each layer's kernel, then its bias). */
  get weights(): T[] {
    return this.layers.flatMap((l) => [l.kernel, l.bias]);
  }

  /** Checkpoint names of {@link weights}: `gen/h1/kernel`, `gen/h1/bias`, …. */
  get weightNames(): string[] {
    return this.layers.flatMap((l) => [`${l.spec.name}/kernel`, `${l.spec.name}/bias`]);
  }

  /** x_logits = NN_θ(z), for z of shape [..., zDim]. */
  decode(z: tf.Tensor): tf.Tensor {
    return this.decoder.reduce((h, layer) => layer.apply(h), z);
  }

  /** The encoder's last hidden layer for x ([n, xDim]). */
  private hidden(x: tf.Tensor2D): tf.Tensor {
    return this.encoder.reduce((a, layer) => layer.apply(a), x as tf.Tensor);
  }

  /** E_q[z | x] = μ(x), shape [n, zDim]. */
  encodeMean(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.zMean.apply(this.hidden(x)) as tf.Tensor2D);
  }

  /**
   * q(z | x) as a Bayesian net with `nZ` samples of z per x (shape [nZ, n, zDim]).
   * @param opts `isReparameterized` (default true): false gives the same draws
   *   without a gradient path through them, for score-function estimators
   *   (VIMCO), which then need not build the model twice.
   */
  variational(
    x: tf.Tensor2D,
    nZ: number,
    opts: { isReparameterized?: boolean } = {},
  ): zs.BayesianNet {
    const bn = new zs.BayesianNet();
    const h = this.hidden(x);
    bn.normal('z', this.zMean.apply(h), {
      logstd: this.zLogstd.apply(h),
      groupNdims: 1,
      nSamples: nZ,
      isReparameterized: opts.isReparameterized ?? true,
    });
    return bn;
  }

  /** Binds the generative model to a batch of `n` images and `k` particles. */
  private bound(n: number, k: number): (observed: Record<string, tf.Tensor>) => zs.BayesianNet {
    return (observed) => this.model.observe(observed, n, k);
  }

  /**
   * The training objective for a batch x ([n, xDim], values in {0,1}).
   * Returns the surrogate cost to minimise (mean over the batch) and the bound's
   * value (mean over the batch), both scalars. 'elbo' and 'iwae' take the
   * pathwise (SGVB) gradient; 'vimco' the score-function one, with q's
   * samples drawn without a gradient path (the same draws).
   */
  objective(
    x: tf.Tensor2D,
    kind: Objective,
    particles: number,
  ): { cost: tf.Scalar; bound: tf.Scalar } {
    const n = x.shape[0];
    const q = this.variational(x, particles, { isReparameterized: kind !== 'vimco' });
    const model = this.bound(n, particles);
    if (kind === 'elbo') {
      const lb = zs.elbo(model, { x }, { variational: q, axis: 0 });
      // sgvb() is −ELBO in value: the bound is the cost negated (the same
      // number, without computing log p − log q and its means twice).
      const cost = tf.mean<tf.Scalar>(lb.sgvb());
      return { cost, bound: tf.neg(cost) };
    }
    const iw = zs.importanceWeightedObjective(model, { x }, { variational: q, axis: 0 });
    const cost = kind === 'iwae' ? iw.sgvb() : iw.vimco();
    return { cost: tf.mean(cost), bound: tf.mean(iw.tensor) };
  }

  /** ELBO per image with one particle, shape [n]. */
  elbo(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const q = this.variational(x, 1);
      return zs.elbo(this.bound(x.shape[0], 1), { x }, { variational: q, axis: 0 })
        .tensor as tf.Tensor1D;
    });
  }

  /**
   * Importance-sampling estimate of log p(x) with `k` particles drawn from q,
   * shape [n]: log-mean-exp over particles of log p(x, z) - log q(z | x).
   */
  isLoglikelihood(x: tf.Tensor2D, k: number): tf.Tensor1D {
    return tf.tidy(
      () =>
        zs.isLoglikelihood(
          this.bound(x.shape[0], k),
          { x },
          { proposal: this.variational(x, k), axis: 0 },
        ) as tf.Tensor1D,
    );
  }

  /**
   * x_mean = sigmoid(NN_θ(z)) for `n` draws of z from the prior (the
   * library's random stream); shape [n, xDim].
   */
  sample(n: number): tf.Tensor2D {
    return tf.tidy(() => {
      const bn = this.model.observe({}, n, 1);
      return tf.sigmoid(tf.squeeze(bn.get('x_logits'), [0])) as tf.Tensor2D;
    });
  }

  /** Reconstruction means sigmoid(NN_θ(E_q[z])) for x ([n, xDim]). */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.decode(this.zMean.apply(this.hidden(x)))) as tf.Tensor2D);
  }

  /** Frees the weights. */
  dispose(): void {
    for (const l of this.layers) tf.dispose([l.kernel, l.bias]);
  }
}
