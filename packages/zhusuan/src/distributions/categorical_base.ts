/**
 * The `logits` / `probs` parameterisation that Categorical and
 * OnehotCategorical (categorical.ts) share: its checks, its getters and the
 * base class that holds it. Internal: src/distributions/index.ts re-exports
 * categorical.ts, not this module.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNone, Distribution, toTensor, type DistributionOptions } from './base.js';
import type { CategoricalParams } from './categorical.js';
import { asFloat, oneOf, shapeOf } from './internal.js';

/** The parameter given, `logits` or `probs`, as a tensor. */
export type CategoricalParam = { kind: 'logits' | 'probs'; value: tf.Tensor };

/** Checks the options shared by both classes; returns the parameter and K. */
function parseParams(
  name: string,
  opts: CategoricalParams & { dtype?: string },
): { param: CategoricalParam; nCategories: number; dtype: 'int32' | 'float32' | undefined } {
  const { kind, raw } = oneOf(name, opts, 'logits', 'probs');
  const dtype = opts.dtype;
  if (dtype !== undefined && dtype !== 'int32' && dtype !== 'float32') {
    throw new Error(`${name}: \`dtype\` must be 'int32' or 'float32', got '${dtype}'`);
  }
  // Shape checks on the parameter as given: nothing is converted before they pass.
  const shape = shapeOf(raw);
  if (shape.length < 1) {
    throw new Error(
      `${name}: \`${kind}\` must have rank at least 1 (its last axis holds the K categories), got shape [${shape}]`,
    );
  }
  const nCategories = shape[shape.length - 1];
  if (nCategories < 1) {
    throw new Error(
      `${name}: \`${kind}\` must have at least one category (K ≥ 1), got shape [${shape}]`,
    );
  }
  return { param: { kind, value: toTensor(raw) }, nCategories, dtype };
}

/** Checks `probs` (non-negative, positive sum over the categories); reads data. */
function validateProbs(name: string, param: CategoricalParam): void {
  if (param.kind !== 'probs') return;
  tf.tidy(() => {
    const p = param.value;
    assertNone(
      tf.logicalOr(tf.less(p, 0), tf.logicalNot(tf.isFinite(p))),
      name,
      '`probs` must be finite and non-negative',
    );
    assertNone(
      tf.lessEqual(tf.sum(p, -1), 0),
      name,
      '`probs` must have a positive sum along the last axis',
    );
  });
}

/** Logits from either parameter (log of the unnormalised probs). */
export function logitsOf(param: CategoricalParam): tf.Tensor {
  return param.kind === 'logits' ? param.value : tf.log(asFloat(param.value));
}

/** Probabilities normalised along the last axis. */
function probsOf(param: CategoricalParam): tf.Tensor {
  const v = asFloat(param.value);
  return param.kind === 'probs' ? tf.div(v, tf.sum(v, -1, true)) : tf.softmax(v);
}

/** Options of {@link CategoricalBase}: exactly one of `logits` and `probs`, and the dtype of samples. */
export interface CategoricalBaseOptions extends CategoricalParams, DistributionOptions {
  dtype?: 'int32' | 'float32';
}

/**
 * Base of Categorical and OnehotCategorical: a parameter
 * `logits` or `probs` of shape `[...batchShape, K]`, discrete values, samples
 * not reparameterised. Under `validateArgs`, `probs` must be finite and
 * non-negative with a positive sum along the last axis.
 */
export abstract class CategoricalBase extends Distribution {
  /** The parameter given (`logits` or `probs`). */
  protected readonly param: CategoricalParam;
  /** The number of categories K (the size of the parameter's last axis). */
  readonly nCategories: number;

  /**
   * @param name the family's name, for the spec and error messages.
   * @param defaultDtype the dtype of samples when `opts.dtype` is not given.
   * @param oneHot whether values are one-hot vectors (value shape `[K]`)
   *   rather than category indices (scalars).
   */
  protected constructor(
    name: string,
    opts: CategoricalBaseOptions,
    defaultDtype: 'int32' | 'float32',
    oneHot: boolean,
  ) {
    const { param, nCategories, dtype } = parseParams(name, opts);
    super({
      name,
      dtype: dtype ?? defaultDtype,
      isContinuous: false,
      isReparameterized: false,
      batchShape: param.value.shape.slice(0, -1),
      valueShape: oneHot ? [nCategories] : undefined,
      groupNdims: opts.groupNdims,
      validateArgs: opts.validateArgs,
    });
    this.param = param;
    this.nCategories = nCategories;
    if (this.validateArgs) validateProbs(name, param);
  }

  /** The logits as given, or log(probs) (unnormalised) when `probs` were given. */
  get logits(): tf.Tensor {
    return logitsOf(this.param);
  }

  /** The probabilities, normalised along the last axis (a new tensor). */
  get probs(): tf.Tensor {
    return probsOf(this.param);
  }
}
