/**
 * Adam with a fused native update: one pass over (param, m, v, grad) per
 * variable, in place, instead of tfjs' ~12 kernels per variable. Same
 * hyper-parameters and the same float32 arithmetic, in the same order, as
 * `tf.train.adam`, so results match it (bit for bit on the native backend's
 * kernels). Off the native backend, or for non-float32 variables, it runs
 * tfjs' Adam arithmetic with ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NativeBackend } from './backend.js';

/** A tensor with a name (tfjs' NamedTensor, not exported from tfjs-core's root). */
export interface NamedTensor {
  /** The weight's name: `iter`, `<variable>/m` or `<variable>/v`. */
  name: string;
  /** Its value. */
  tensor: tf.Tensor;
}

interface Slot {
  /** Name of the variable the moments belong to. */
  name: string;
  m: tf.Variable;
  v: tf.Variable;
}

const fround = Math.fround;

/**
 * Drop-in for `tf.train.adam(learningRate, beta1, beta2, epsilon)`.
 *
 * State for checkpoints: {@link getWeights} returns `[iter, <var>/m..., <var>/v...]`
 * like tfjs' AdamOptimizer (the step count as an int32 scalar named `iter`,
 * then the first and second moments in the order variables were first
 * updated); {@link setWeights} restores it, so that training resumes exactly.
 *
 * @example
 * ```ts
 * const opt = new NativeAdamOptimizer(1e-3);
 * opt.minimize(() => loss(), false, vars);
 * ```
 */
export class NativeAdamOptimizer extends tf.Optimizer {
  /** Serialised under tfjs' name, so configs load as Adam elsewhere. */
  static get className(): string {
    return 'Adam';
  }

  /** Learning rate; may be changed between steps. */
  learningRate: number;
  /** Decay of the running mean of the gradients (m). */
  readonly beta1: number;
  /** Decay of the running mean of the squared gradients (v). */
  readonly beta2: number;
  /** Added to √v̂ in the denominator (tfjs' backend epsilon when not given). */
  readonly epsilon: number;
  private slots: Slot[] = [];
  private slotOf = new Map<string, Slot>();
  /** beta^t in float32, multiplied each step exactly as tfjs' accBeta variables. */
  private accBeta1: number;
  private accBeta2: number;

  constructor(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    super();
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon ?? tf.backend().epsilon();
    this.accBeta1 = fround(beta1);
    this.accBeta2 = fround(beta2);
  }

  /** Number of updates applied (Adam's t). */
  get step(): number {
    return this.iterations_ ?? 0;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: Array<[string, tf.Tensor]> = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    const b1 = fround(this.beta1);
    const b2 = fround(this.beta2);
    const omb1 = fround(1 - this.beta1);
    const omb2 = fround(1 - this.beta2);
    const bc1 = fround(1 - this.accBeta1);
    const bc2 = fround(1 - this.accBeta2);
    const eps = fround(this.epsilon);
    const negLr = fround(-this.learningRate);
    const backend = tf.backend();
    const native = backend instanceof NativeBackend ? backend : null;
    for (const [name, gradient] of entries) {
      if (gradient == null) continue;
      const value = tf.engine().registeredVariables[name];
      if (value === undefined) {
        throw new Error(`NativeAdamOptimizer.applyGradients: no variable named '${name}'`);
      }
      const slot = this.slotFor(name, value);
      if (
        native === null ||
        !this.nativeUpdate(native, value, slot, gradient, b1, omb1, b2, omb2, bc1, bc2, eps, negLr)
      ) {
        this.opsUpdate(value, slot, gradient, bc1, bc2, eps);
      }
    }
    this.accBeta1 = fround(this.accBeta1 * b1);
    this.accBeta2 = fround(this.accBeta2 * b2);
    this.incrementIterations();
  }

  override dispose(): void {
    for (const s of this.slots) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots = [];
    this.slotOf.clear();
  }

  /** `[iter, <var>/m..., <var>/v...]`, the layout of tfjs' AdamOptimizer. */
  override async getWeights(): Promise<NamedTensor[]> {
    return [await this.saveIterations()].concat(
      this.slots.map((s) => ({ name: `${s.name}/m`, tensor: s.m })),
      this.slots.map((s) => ({ name: `${s.name}/v`, tensor: s.v })),
    );
  }

  /** Restores state saved by {@link getWeights} (or by tfjs' AdamOptimizer). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    if (rest.length % 2 !== 0) {
      throw new Error(
        `NativeAdamOptimizer.setWeights: expected iter then pairs of m and v, got ${weightValues.length} tensors`,
      );
    }
    this.dispose();
    const half = rest.length / 2;
    for (let i = 0; i < half; i++) {
      const mName = rest[i].name;
      const name = mName.endsWith('/m') ? mName.slice(0, -2) : mName;
      const slot: Slot = {
        name,
        m: tf.tidy(() => rest[i].tensor.clone().variable(false)),
        v: tf.tidy(() => rest[half + i].tensor.clone().variable(false)),
      };
      this.slots.push(slot);
      this.slotOf.set(name, slot);
    }
    // beta^(t+1) computed as the running float32 product the steps would give.
    const t = this.iterations_ ?? 0;
    let a1 = fround(this.beta1);
    let a2 = fround(this.beta2);
    for (let i = 0; i < t; i++) {
      a1 = fround(a1 * fround(this.beta1));
      a2 = fround(a2 * fround(this.beta2));
    }
    this.accBeta1 = a1;
    this.accBeta2 = a2;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config.learningRate, config.beta1, config.beta2, config.epsilon);
  }

  private slotFor(name: string, value: tf.Variable): Slot {
    let slot = this.slotOf.get(name);
    if (slot === undefined) {
      slot = {
        name,
        m: tf.tidy(() => tf.zerosLike(value).variable(false)),
        v: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      this.slots.push(slot);
      this.slotOf.set(name, slot);
    }
    return slot;
  }

  /** The values of `t` ready for an in-place update, or null if not possible. */
  private writable(backend: NativeBackend, t: tf.Tensor): Float32Array | null {
    if (t.dtype !== 'float32' || !backend.data.has(t.dataId)) return null;
    const values = backend.data.get(t.dataId).values;
    if (!(values instanceof Float32Array)) return null;
    if (backend.isPooled(values) && backend.refCount(t.dataId) === 1) return values;
    // Shared data or an array that may be visible outside the backend: write a copy.
    const copy = backend.allocF32(values.length);
    copy.set(values);
    if (backend.refCount(t.dataId) === 1) {
      backend.swapValues(t.dataId, copy);
      return copy;
    }
    return null;
  }

  private nativeUpdate(
    backend: NativeBackend,
    value: tf.Variable,
    slot: Slot,
    gradient: tf.Tensor,
    b1: number,
    omb1: number,
    b2: number,
    omb2: number,
    bc1: number,
    bc2: number,
    eps: number,
    negLr: number,
  ): boolean {
    if (gradient.dtype !== 'float32' || !backend.data.has(gradient.dataId)) return false;
    const g = backend.data.get(gradient.dataId).values;
    if (!(g instanceof Float32Array) || g.length !== value.size) return false;
    const p = this.writable(backend, value);
    const m = this.writable(backend, slot.m);
    const v = this.writable(backend, slot.v);
    if (p === null || m === null || v === null) return false;
    backend.addon.adam(p, m, v, g, b1, omb1, b2, omb2, bc1, bc2, eps, negLr);
    return true;
  }

  /** tfjs' Adam arithmetic with ops (other backends, odd dtypes, shared data). */
  private opsUpdate(
    value: tf.Variable,
    slot: Slot,
    gradient: tf.Tensor,
    bc1: number,
    bc2: number,
    eps: number,
  ): void {
    tf.tidy(() => {
      const m = tf.add(tf.mul(slot.m, this.beta1), tf.mul(gradient, 1 - this.beta1));
      const v = tf.add(tf.mul(slot.v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
      const mHat = tf.div(m, bc1);
      const vHat = tf.div(v, bc2);
      slot.m.assign(m);
      slot.v.assign(v);
      value.assign(
        tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), eps)), -this.learningRate), value),
      );
    });
  }
}

/**
 * Adam for the active backend: {@link NativeAdamOptimizer} on `native`,
 * `tf.train.adam` elsewhere. Same defaults as `tf.train.adam`.
 */
export function adam(
  learningRate = 0.001,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon: number | null = null,
): tf.Optimizer {
  if (tf.getBackend() === 'native') {
    return new NativeAdamOptimizer(learningRate, beta1, beta2, epsilon);
  }
  return tf.train.adam(learningRate, beta1, beta2, epsilon ?? undefined);
}
