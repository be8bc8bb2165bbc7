/**
 * What the flows are built from: seeded parameter initialisation, dense
 * layers (masked for MADE) and small multi-layer perceptrons owning their
 * `tf.Variable`s, and the checks of the layers' options. Internal:
 * src/index.ts does not re-export this module.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertInteger } from '../checks.js';
import { seededNormal, seededUniform } from '../kernels.js';
import { nextSeed, nextWord, seedWords } from '../random.js';

/**
 * The seeds of one layer's random initialisers: a private xoshiro128**
 * stream started from `seed`, or from a seed drawn from the library's stream
 * (`zs.random`) when `seed` is undefined. Equal seeds give equal layers, and
 * a layer built without one still follows `zs.random.setSeed`.
 */
export function seedStream(where: string, seed: number | undefined): () => number {
  if (seed !== undefined && !Number.isFinite(seed)) {
    throw new Error(`${where}: \`seed\` must be a finite number, got ${seed}`);
  }
  const words = seedWords(seed ?? nextSeed());
  return () => nextWord(words) >>> 1 || 1;
}

/** Throws unless `dim` (the size of the last axis a flow acts on) is a positive integer. */
export function checkDim(where: string, dim: number): void {
  assertInteger(where, 'dim', dim, 'positive');
}

/** Throws unless `sizes` is an array of positive integers (`name` e.g. 'hiddenSizes'). */
export function checkSizes(where: string, name: string, sizes: readonly number[]): void {
  if (!Array.isArray(sizes)) {
    throw new Error(`${where}: \`${name}\` must be an array of positive integers, got ${sizes}`);
  }
  for (const s of sizes) assertInteger(where, `${name}[i]`, s, 'positive');
}

/** Throws unless `perm` (the argument `name`) holds each of 0, …, perm.length − 1 once. */
export function checkPermutation(where: string, name: string, perm: readonly number[]): void {
  const seen = new Set<number>();
  for (const p of perm) {
    if (!Number.isInteger(p) || p < 0 || p >= perm.length || seen.has(p)) {
      throw new Error(
        `${where}: \`${name}\` must hold each of 0, …, ${perm.length - 1} once, got [${perm}]`,
      );
    }
    seen.add(p);
  }
}

/** A trainable variable holding `init`, which it takes over. */
export function variable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init, true);
  init.dispose();
  return v;
}

/** Activations of the hidden layers. */
export type Activation = 'relu' | 'tanh';

/** The activation `name` applied to `x`. */
export function activate(name: Activation, x: tf.Tensor): tf.Tensor {
  return name === 'relu' ? tf.relu(x) : tf.tanh(x);
}

/** Throws unless `name` is an {@link Activation}. */
export function checkActivation(where: string, name: string): void {
  if (name !== 'relu' && name !== 'tanh') {
    throw new Error(`${where}: \`activation\` must be 'relu' or 'tanh', got '${name}'`);
  }
}

/**
 * A dense layer `x·(W ⊙ mask) + b` on the last axis of `x` (any leading
 * axes). W is Glorot-uniform (scaled by `gain`; 0 gives zeros), b zero; a
 * mask (0/1, shape [in, out]) makes it MADE's masked layer.
 */
export class Dense {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  private readonly mask: tf.Tensor | null;

  constructor(
    readonly nIn: number,
    readonly nOut: number,
    seed: () => number,
    opts: { mask?: number[][]; gain?: number; bias?: number[] } = {},
  ) {
    const gain = opts.gain ?? 1;
    const limit = gain * Math.sqrt(6 / (nIn + nOut));
    this.w = variable(
      gain === 0 ? tf.zeros([nIn, nOut]) : seededUniform([nIn, nOut], seed(), -limit, limit),
    );
    this.b = variable(opts.bias === undefined ? tf.zeros([nOut]) : tf.tensor1d(opts.bias));
    this.mask = opts.mask === undefined ? null : tf.tensor2d(opts.mask, [nIn, nOut]);
  }

  apply(x: tf.Tensor): tf.Tensor {
    const w = this.mask === null ? this.w : tf.mul(this.w, this.mask);
    const lead = x.shape.slice(0, -1);
    const y = tf.add(tf.matMul(tf.reshape(x, [-1, this.nIn]), w), this.b);
    return tf.reshape(y, [...lead, this.nOut]);
  }

  get variables(): tf.Variable[] {
    return [this.w, this.b];
  }

  dispose(): void {
    this.w.dispose();
    this.b.dispose();
    this.mask?.dispose();
  }
}

/** Dense layers with an activation between them and none after the last. */
export class Mlp {
  constructor(
    private readonly layers: Dense[],
    private readonly activation: Activation,
  ) {}

  apply(x: tf.Tensor): tf.Tensor {
    let h = x;
    this.layers.forEach((layer, i) => {
      h = layer.apply(i === 0 ? h : activate(this.activation, h));
    });
    return h;
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables);
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}

/**
 * A multi-layer perceptron `nIn → hiddenSizes… → nOut`. The last layer
 * starts at zero when `zeroLast` (a coupling layer then starts as the
 * identity).
 */
export function mlp(
  nIn: number,
  hiddenSizes: readonly number[],
  nOut: number,
  activation: Activation,
  seed: () => number,
  zeroLast: boolean,
): Mlp {
  const sizes = [nIn, ...hiddenSizes, nOut];
  const layers = sizes
    .slice(1)
    .map(
      (n, i) => new Dense(sizes[i], n, seed, { gain: zeroLast && i === sizes.length - 2 ? 0 : 1 }),
    );
  return new Mlp(layers, activation);
}

/** Normal(0, std²) initial values of `shape` from the layer's seed stream. */
export function normalInit(shape: number[], std: number, seed: () => number): tf.Tensor {
  return seededNormal(shape, seed(), 0, std);
}

/** Zeros of `x`'s shape less its last axis: the log-determinant of a volume-preserving step. */
export function zeroLogDet(x: tf.Tensor): tf.Tensor {
  return tf.zeros(x.shape.slice(0, -1));
}
