/**
 * The homework's VAE (ZhuSuan examples/variational_autoencoders/vae.py),
 * written with the library's BayesianNet:
 *
 *   z ~ N(0, I_d),  x_logits = NN_theta(z),  x ~ Bernoulli(sigmoid(x_logits))
 *   q(z|x) = N(mu(x), sigma(x)^2),  (mu, log sigma) = NN_phi(x)
 *
 * Both networks are MLPs with two ReLU hidden layers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NATIVE_BACKEND, dense as nativeDense } from '@zhusuan/tfjs-backend-native';
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

/** One fully connected layer `y = act(x W + b)`; leading axes of x are flattened. */
export class Dense {
  readonly w: tf.Variable;
  readonly b: tf.Variable;

  constructor(
    readonly name: string,
    inDim: number,
    outDim: number,
    readonly activation: 'relu' | 'linear',
    seed: number,
  ) {
    // Glorot-uniform weights, zero bias: tf.layers.dense's defaults, as in vae.py.
    const limit = Math.sqrt(6 / (inDim + outDim));
    this.w = tf.variable(
      tf.randomUniform([inDim, outDim], -limit, limit, 'float32', seed),
      true,
      uniqueName(`${name}/kernel`),
    );
    this.b = tf.variable(tf.zeros([outDim]), true, uniqueName(`${name}/bias`));
  }

  apply(x: tf.Tensor): tf.Tensor {
    // On the native backend one kernel forward and at most three backward (tfjs
    // unfuses a fused matMul's activation while recording gradients).
    if (tf.getBackend() === NATIVE_BACKEND) return nativeDense(x, this.w, this.b, this.activation);
    const lead = x.shape.slice(0, -1);
    const x2 =
      x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D);
    const y = tf.fused.matMul({
      a: x2,
      b: this.w as tf.Tensor2D,
      bias: this.b,
      activation: this.activation,
    });
    return x.rank === 2 ? y : tf.reshape(y, [...lead, this.b.shape[0]]);
  }
}

let nameCounter = 0;
/** tfjs variable names are global to the engine; keep each model's names distinct. */
function uniqueName(name: string): string {
  return `vae${nameCounter}/${name}`;
}

/** The VAE: generative model p(x, z) and variational posterior q(z | x). */
export class Vae {
  readonly decoder: Dense[];
  readonly encoder: Dense[];
  readonly zMean: Dense;
  readonly zLogstd: Dense;
  /** The generative model as a meta Bayesian net: re-run with any observation. */
  readonly model: zs.MetaBayesianNet<[number, number]>;

  constructor(
    readonly shape: VaeShape,
    seed: number,
  ) {
    nameCounter++;
    const { xDim, zDim, hidden } = shape;
    let s = seed;
    const next = () => (s = (s * 1103515245 + 12345) % 2147483647);
    this.decoder = [
      new Dense('gen/h1', zDim, hidden, 'relu', next()),
      new Dense('gen/h2', hidden, hidden, 'relu', next()),
      new Dense('gen/x_logits', hidden, xDim, 'linear', next()),
    ];
    this.encoder = [
      new Dense('q/h1', xDim, hidden, 'relu', next()),
      new Dense('q/h2', hidden, hidden, 'relu', next()),
    ];
    this.zMean = new Dense('q/z_mean', hidden, zDim, 'linear', next());
    this.zLogstd = new Dense('q/z_logstd', hidden, zDim, 'linear', next());

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

  /** All trainable variables, in a fixed order (the checkpoint's order). */
  get variables(): tf.Variable[] {
    return [...this.decoder, ...this.encoder, this.zMean, this.zLogstd].flatMap((l) => [l.w, l.b]);
  }

  /** Stable, model-relative names of {@link variables}, for checkpoints. */
  get variableNames(): string[] {
    return [...this.decoder, ...this.encoder, this.zMean, this.zLogstd].flatMap((l) => [
      `${l.name}/kernel`,
      `${l.name}/bias`,
    ]);
  }

  /** x_logits = NN_theta(z), for z of shape [..., zDim]. */
  decode(z: tf.Tensor): tf.Tensor {
    return this.decoder.reduce((h, layer) => layer.apply(h), z);
  }

  /** q(z | x) as a Bayesian net with `nZ` samples of z per x (shape [nZ, n, zDim]). */
  variational(x: tf.Tensor2D, nZ: number): zs.BayesianNet {
    const bn = new zs.BayesianNet();
    const h = this.encoder.reduce((a, layer) => layer.apply(a), x as tf.Tensor);
    bn.normal('z', this.zMean.apply(h), {
      logstd: this.zLogstd.apply(h),
      groupNdims: 1,
      nSamples: nZ,
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
   * value (mean over the batch), both scalars.
   */
  objective(
    x: tf.Tensor2D,
    kind: 'elbo' | 'iwae' | 'vimco',
    particles: number,
  ): { cost: tf.Scalar; bound: tf.Scalar } {
    const n = x.shape[0];
    const q = this.variational(x, particles);
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
    const q = this.variational(x, 1);
    return zs.elbo(this.bound(x.shape[0], 1), { x }, { variational: q, axis: 0 })
      .tensor as tf.Tensor1D;
  }

  /**
   * Importance-sampling estimate of log p(x) with `k` particles drawn from q,
   * shape [n]: log-mean-exp over particles of log p(x, z) - log q(z | x).
   */
  isLoglikelihood(x: tf.Tensor2D, k: number): tf.Tensor1D {
    const q = this.variational(x, k);
    return zs.isLoglikelihood(
      this.bound(x.shape[0], k),
      { x },
      { proposal: q, axis: 0 },
    ) as tf.Tensor1D;
  }

  /** x_mean = sigmoid(NN_theta(z)) for `n` draws of z from the prior; shape [n, xDim]. */
  sample(n: number): tf.Tensor2D {
    return tf.tidy(() => {
      const bn = this.model.observe({}, n, 1);
      return tf.sigmoid(tf.squeeze(bn.get('x_logits'), [0])) as tf.Tensor2D;
    });
  }

  /** Reconstruction means sigmoid(NN_theta(E_q[z])) for x ([n, xDim]). */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.encoder.reduce((a, layer) => layer.apply(a), x as tf.Tensor);
      return tf.sigmoid(this.decode(this.zMean.apply(h))) as tf.Tensor2D;
    });
  }

  /** Frees the variables. */
  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
