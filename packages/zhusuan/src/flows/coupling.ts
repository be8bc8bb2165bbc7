/**
 * Coupling layers: NICE's additive coupling (Dinh et al., 2015; port of
 * ZhuSuan-PyTorch's `MaskCoupling` and `get_coupling_mask` in
 * `invertible/coupling.py`) and RealNVP's affine coupling (Dinh et al.,
 * 2017). A 0/1 mask splits the last axis: the dimensions with mask 1 pass
 * unchanged and feed a network whose outputs move the others, so the
 * Jacobian is triangular and the inverse is as cheap as the forward pass.
 * The network's last layer starts at zero: a new layer is the identity.
 */
import * as tf from '@tensorflow/tfjs-core';
import { seedWords, uniform53 } from '../random.js';
import { Bijector, type ForwardResult, type InverseResult } from './bijector.js';
import {
  checkActivation,
  checkDim,
  checkSizes,
  mlp,
  seedStream,
  zeroLogDet,
  type Activation,
  type Mlp,
} from './internal.js';

/** How {@link couplingMasks} splits the dimensions. */
export type CouplingSplit = 'OddEven' | 'Half' | 'RandomHalf';

/**
 * `nMasks` coupling masks of length `dim`, alternating (each the complement
 * of the one before), as ZhuSuan-PyTorch's `get_coupling_mask`: 'OddEven'
 * starts from 0, 1, 0, 1, …; 'Half' from ⌊dim/2⌋ zeros then ones;
 * 'RandomHalf' from ⌊dim/2⌋ ones at random places (from `seed`, or the
 * library's stream), where the port draws independent bits.
 * @example zs.couplingMasks(4, 2) // [[0, 1, 0, 1], [1, 0, 1, 0]]
 */
export function couplingMasks(
  dim: number,
  nMasks: number,
  split: CouplingSplit = 'OddEven',
  seed?: number,
): number[][] {
  checkDim('couplingMasks', dim);
  if (!Number.isInteger(nMasks) || nMasks < 1) {
    throw new Error(`couplingMasks: \`nMasks\` must be a positive integer, got ${nMasks}`);
  }
  let first: number[];
  if (split === 'OddEven') {
    first = Array.from({ length: dim }, (_, i) => i % 2);
  } else if (split === 'Half') {
    first = Array.from({ length: dim }, (_, i) => (i < Math.floor(dim / 2) ? 0 : 1));
  } else if (split === 'RandomHalf') {
    // A seeded Fisher–Yates shuffle; the first ⌊dim/2⌋ indices get a 1.
    const words = seedWords(seedStream('couplingMasks', seed)());
    const idx = Array.from({ length: dim }, (_, i) => i);
    for (let i = dim - 1; i > 0; i--) {
      const j = Math.floor(uniform53(words) * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    first = new Array<number>(dim).fill(0);
    for (const i of idx.slice(0, Math.floor(dim / 2))) first[i] = 1;
  } else {
    throw new Error(
      `couplingMasks: \`split\` must be 'OddEven', 'Half' or 'RandomHalf', got '${split}'`,
    );
  }
  return Array.from({ length: nMasks }, (_, k) => first.map((m) => (k % 2 === 0 ? m : 1 - m)));
}

/** Options of the coupling layers. */
export interface CouplingOptions {
  /**
   * 0/1 per dimension: 1 passes unchanged and conditions, 0 is transformed.
   * Default `couplingMasks(dim, 1)[0]` (0, 1, 0, 1, …).
   */
  mask?: number[];
  /** Hidden layer sizes of the conditioning network. Default `[64]`. */
  hiddenSizes?: number[];
  /** Its activation. Default 'relu'. */
  activation?: Activation;
  /** Seed of its initial weights; default: one drawn from `zs.random`. */
  seed?: number;
}

/** What the two coupling layers share: the mask and the conditioning network. */
abstract class Coupling extends Bijector {
  /** The mask, 1 where the input passes unchanged. */
  readonly mask: readonly number[];
  protected readonly keep: tf.Tensor;
  protected readonly change: tf.Tensor;
  protected readonly net: Mlp;

  protected constructor(name: string, dim: number, nOutPerDim: number, opts: CouplingOptions) {
    super(name, dim);
    const mask = opts.mask ?? couplingMasks(dim, 1)[0];
    if (!Array.isArray(mask) || mask.length !== dim || mask.some((m) => m !== 0 && m !== 1)) {
      throw new Error(`${name}: \`mask\` must be an array of ${dim} zeros and ones (dim)`);
    }
    const hidden = opts.hiddenSizes ?? [64];
    checkSizes(name, 'hiddenSizes', hidden);
    const activation = opts.activation ?? 'relu';
    checkActivation(name, activation);
    this.mask = [...mask];
    this.net = mlp(dim, hidden, nOutPerDim * dim, activation, seedStream(name, opts.seed), true);
    this.keep = tf.tensor1d(mask);
    this.change = tf.tensor1d(mask.map((m) => 1 - m));
  }

  get variables(): tf.Variable[] {
    return this.net.variables;
  }

  /** The conditioning network's outputs at the unchanged part of `x`. */
  protected condition(x: tf.Tensor): tf.Tensor {
    return this.net.apply(tf.mul(x, this.keep));
  }

  protected _dispose(): void {
    this.net.dispose();
    tf.dispose([this.keep, this.change]);
  }
}

/**
 * NICE's additive coupling: y = x + (1 − mask) ⊙ t(mask ⊙ x), with t a
 * multi-layer perceptron; volume-preserving (log |det| = 0).
 * @example new zs.AdditiveCoupling(784, { mask: zs.couplingMasks(784, 4)[i], hiddenSizes: [1000, 1000] })
 */
export class AdditiveCoupling extends Coupling {
  constructor(dim: number, opts: CouplingOptions = {}) {
    super('AdditiveCoupling', dim, 1, opts);
  }

  protected _forward(x: tf.Tensor): ForwardResult {
    return { y: tf.add(x, tf.mul(this.condition(x), this.change)), logDet: zeroLogDet(x) };
  }

  protected _inverse(y: tf.Tensor): InverseResult {
    return { x: tf.sub(y, tf.mul(this.condition(y), this.change)), logDet: zeroLogDet(y) };
  }
}

/** Options of {@link AffineCoupling}. */
export interface AffineCouplingOptions extends CouplingOptions {
  /**
   * Bound B on the log-scale: s = B·tanh(r/B) for the network's raw output
   * r, so no step scales a dimension by more than e^B. Default 3.
   */
  logScaleBound?: number;
}

/**
 * RealNVP's affine coupling: with (t, r) = net(mask ⊙ x) and the bounded
 * log-scale s = B·tanh(r/B), y = x ⊙ exp((1 − mask) ⊙ s) + (1 − mask) ⊙ t,
 * log |det| = Σ (1 − mask) ⊙ s.
 * @example new zs.AffineCoupling(2, { mask: [1, 0], hiddenSizes: [32], seed: 1 })
 */
export class AffineCoupling extends Coupling {
  /** B in the bounded log-scale s = B·tanh(r/B). */
  readonly logScaleBound: number;

  constructor(dim: number, opts: AffineCouplingOptions = {}) {
    const bound = opts.logScaleBound ?? 3;
    if (!(bound > 0 && Number.isFinite(bound))) {
      throw new Error(
        `AffineCoupling: \`logScaleBound\` must be a finite positive number, got ${bound}`,
      );
    }
    super('AffineCoupling', dim, 2, opts);
    this.logScaleBound = bound;
  }

  /** Shift and log-scale at `x`, zero on the unchanged dimensions. */
  private shiftAndLogScale(x: tf.Tensor): { t: tf.Tensor; s: tf.Tensor } {
    const [t, r] = tf.split(this.condition(x), 2, -1);
    const b = this.logScaleBound;
    return {
      t: tf.mul(t, this.change),
      s: tf.mul(tf.mul(tf.tanh(tf.div(r, b)), b), this.change),
    };
  }

  protected _forward(x: tf.Tensor): ForwardResult {
    const { t, s } = this.shiftAndLogScale(x);
    return { y: tf.add(tf.mul(x, tf.exp(s)), t), logDet: tf.sum(s, -1) };
  }

  protected _inverse(y: tf.Tensor): InverseResult {
    const { t, s } = this.shiftAndLogScale(y);
    return { x: tf.mul(tf.sub(y, t), tf.exp(tf.neg(s))), logDet: tf.neg(tf.sum(s, -1)) };
  }
}
