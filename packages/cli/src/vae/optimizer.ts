/**
 * Adam for the trainer: the native backend's fused Adam when that backend
 * runs, tfjs' own `tf.train.adam` elsewhere. Both expose tfjs' Optimizer API
 * (minimize, getWeights/setWeights for checkpoints, dispose).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadNative } from '../backend.js';

/** A named tensor as tfjs optimizers save their state. */
export type NamedTensor = Awaited<ReturnType<tf.Optimizer['getWeights']>>[number];

/** What the trainer needs of an optimizer. */
export interface AdamLike {
  minimize(f: () => tf.Scalar, returnCost: boolean, varList: tf.Variable[]): tf.Scalar | null;
  getWeights(): Promise<NamedTensor[]>;
  setWeights(weights: NamedTensor[]): Promise<void>;
  /** Changes the learning rate for the following steps. */
  setLearningRate(lr: number): void;
  dispose(): void;
}

let nativeAdam:
  ((lr: number, beta1: number, beta2: number, epsilon: number | null) => tf.Optimizer) | undefined;

/** Resolves the native Adam factory, if the native backend is loaded. */
export async function prepareOptimizers(): Promise<void> {
  const status = await loadNative();
  if (status.available) {
    const native = await import('@zhusuan/tfjs-backend-native');
    nativeAdam = (lr, beta1, beta2, epsilon) => native.adam(lr, beta1, beta2, epsilon);
  }
}

/** Adam's optional settings (tfjs' defaults: β1 0.9, β2 0.999, ε from the backend). */
export interface AdamSettings {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam on the given backend: the native backend's fused update when it runs
 * (after {@link prepareOptimizers}), else `tf.train.adam`, with tfjs' default
 * betas and epsilon unless `settings` gives them.
 */
export function makeAdam(lr: number, backend: string, settings: AdamSettings = {}): AdamLike {
  const { beta1 = 0.9, beta2 = 0.999, epsilon } = settings;
  const opt =
    backend === 'native' && nativeAdam
      ? nativeAdam(lr, beta1, beta2, epsilon ?? null)
      : tf.train.adam(lr, beta1, beta2, epsilon);
  const o = opt as unknown as AdamLike & { learningRate: number };
  return Object.assign(o, {
    setLearningRate(value: number) {
      o.learningRate = value;
    },
  });
}
