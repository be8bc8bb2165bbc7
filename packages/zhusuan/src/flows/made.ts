/**
 * MADE, the masked autoencoder for distribution estimation (Germain et al.,
 * 2015; port of ZhuSuan-PyTorch's `invertible/made.py`, with ZhuSuan's
 * `linear_ar` as the case without hidden layers): a multi-layer perceptron
 * whose weights are masked so that output i depends only on the inputs
 * before i in a chosen order. The autoregressive network of
 * {@link InverseAutoregressiveFlow}.
 *
 * Degrees (their section 4): input i has degree k + 1 where `order[k] = i`;
 * the hidden units of every layer cycle through the degrees 1, …, D − 1
 * (deterministic, like the port's 'sequential' order); a hidden unit sees the
 * units of degree ≤ its own below it, and output i sees those of degree
 * strictly below input i's. With D = 1 the outputs are their biases.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkActivation,
  checkDim,
  checkPermutation,
  checkSizes,
  Dense,
  Mlp,
  seedStream,
  type Activation,
} from './internal.js';

/** Options of {@link MADE}. */
export interface MadeOptions {
  /** Sizes of the hidden layers. Default `[]`: a linear autoregressive map (ZhuSuan's `linear_ar`). */
  hiddenSizes?: number[];
  /** Outputs per dimension (e.g. 2 for an IAF step's m and s). Default 2. */
  nParams?: number;
  /** The autoregressive order: `order[k]` is the k-th dimension. Default 0, 1, …, dim − 1. */
  order?: number[];
  /** Activation of the hidden layers. Default 'relu'. */
  activation?: Activation;
  /**
   * Initial bias of each output block (`nParams` numbers), default zeros:
   * the output layer's weights start at zero, so the outputs start at these.
   */
  outputBias?: number[];
  /** Seed of the hidden layers' initial weights (Glorot uniform); default: one drawn from `zs.random`. */
  seed?: number;
}

/** mask[j][k] = 1 when `ok(degree of unit k above, degree of unit j below)`. */
function degreeMask(
  below: number[],
  above: number[],
  ok: (up: number, down: number) => boolean,
): number[][] {
  return below.map((d) => above.map((u) => (ok(u, d) ? 1 : 0)));
}

/**
 * A MADE network on the last axis: `apply(x)` with x `[..., dim]` returns
 * `nParams` tensors `[..., dim]`, element i of each a function of the
 * elements of x before i in `order` only.
 * @example
 * const made = new zs.MADE(3, { hiddenSizes: [16], seed: 1 });
 * const [m, s] = made.apply(x); // ∂m_i/∂x_j = 0 unless j < i
 */
export class MADE {
  /** The size of the input (and of each output group). */
  readonly dim: number;
  /** Outputs per input dimension. */
  readonly nParams: number;
  /** The autoregressive order: output i depends only on inputs before i in it. */
  readonly order: readonly number[];
  private readonly net: Mlp;
  private disposed = false;

  constructor(dim: number, opts: MadeOptions = {}) {
    checkDim('MADE', dim);
    const hidden = opts.hiddenSizes ?? [];
    checkSizes('MADE', 'hiddenSizes', hidden);
    const nParams = opts.nParams ?? 2;
    if (!Number.isInteger(nParams) || nParams < 1) {
      throw new Error(`MADE: \`nParams\` must be a positive integer, got ${nParams}`);
    }
    const order = opts.order ?? Array.from({ length: dim }, (_, i) => i);
    if (!Array.isArray(order) || order.length !== dim) {
      throw new Error(`MADE: \`order\` must be an array of ${dim} indices (dim), got ${order}`);
    }
    checkPermutation('MADE', 'order', order);
    const activation = opts.activation ?? 'relu';
    checkActivation('MADE', activation);
    const outputBias = opts.outputBias ?? new Array<number>(nParams).fill(0);
    if (outputBias.length !== nParams) {
      throw new Error(`MADE: \`outputBias\` must hold ${nParams} numbers (nParams)`);
    }
    this.dim = dim;
    this.nParams = nParams;
    this.order = [...order];

    const inDegrees = new Array<number>(dim);
    order.forEach((i, k) => (inDegrees[i] = k + 1));
    const seed = seedStream('MADE', opts.seed);
    const layers: Dense[] = [];
    let below = inDegrees;
    for (const size of hidden) {
      const degrees = Array.from({ length: size }, (_, k) => (k % Math.max(1, dim - 1)) + 1);
      const mask = degreeMask(below, degrees, (up, down) => up >= down);
      layers.push(new Dense(below.length, size, seed, { mask }));
      below = degrees;
    }
    const outMask = degreeMask(below, inDegrees, (up, down) => up > down);
    layers.push(
      new Dense(below.length, nParams * dim, seed, {
        gain: 0,
        mask: outMask.map((row) => new Array<number[]>(nParams).fill(row).flat()),
        bias: outputBias.flatMap((b) => new Array<number>(dim).fill(b)),
      }),
    );
    this.net = new Mlp(layers, activation);
  }

  /**
   * The `nParams` outputs for `x` `[..., dim]`, each `[..., dim]`.
   */
  apply(x: tf.Tensor): tf.Tensor[] {
    if (this.disposed) throw new Error('MADE.apply: the network was disposed');
    if (!(x instanceof tf.Tensor) || x.rank < 1 || x.shape[x.rank - 1] !== this.dim) {
      const shape = x instanceof tf.Tensor ? `[${x.shape}]` : String(x);
      throw new Error(`MADE.apply: the last axis of \`x\` ${shape} must have size ${this.dim}`);
    }
    return tf.tidy(() => tf.split(this.net.apply(x), this.nParams, -1));
  }

  /** The network's trainable variables. */
  get variables(): tf.Variable[] {
    return this.net.variables;
  }

  /** Frees the variables and masks. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.net.dispose();
  }
}
