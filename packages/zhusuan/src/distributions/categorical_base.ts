/**
 * The `logits` / `probs` parameterisation over K categories that
 * Categorical, OnehotCategorical (categorical.ts), Multinomial and
 * UnnormalizedMultinomial (multinomial.ts) share: its checks, its getters
 * and the base class that holds it. Internal: src/index.ts
 * re-exports the families, not this module.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNone } from '../checks.js';
import { logSumExp } from '../utils.js';
import { Distribution, type DistributionOptions } from './base.js';
import type { CategoricalParams } from './categorical.js';
import {
  asFloat,
  categoryCount,
  discreteSpec,
  oneOf,
  sampleDtype,
  shapeOf,
  toTensor,
  type Alternative,
} from './internal.js';

/** The parameter given, `logits` or `probs`, as a tensor. */
export type CategoricalParam = Alternative<'logits' | 'probs'>;

/** Logits from either parameter (log of the unnormalised probs). */
export function logitsOf(param: CategoricalParam): tf.Tensor {
  return param.kind === 'logits' ? param.value : tf.log(asFloat(param.value));
}

/** Probabilities normalised along the last axis. */
function probsOf(param: CategoricalParam): tf.Tensor {
  const v = asFloat(param.value);
  return param.kind === 'probs' ? tf.div(v, tf.sum(v, -1, true)) : tf.softmax(v);
}

/**
 * log p_k along the last axis: normalised (log-softmax of logits, or
 * log(probs / Σ probs)), or with `normalize` false the parameter taken as
 * normalised already (logits as they are, or log probs).
 */
export function logProbsOf(param: CategoricalParam, normalize = true): tf.Tensor {
  const v = asFloat(param.value);
  if (param.kind === 'logits') return normalize ? tf.sub(v, logSumExp(v, -1, true)) : v;
  return normalize ? tf.sub(tf.log(v), tf.log(tf.sum(v, -1, true))) : tf.log(v);
}

/** Options of {@link CategoricalBase}: exactly one of `logits` and `probs`, and the dtype of samples. */
export interface CategoricalBaseOptions extends CategoricalParams, DistributionOptions {
  dtype?: 'int32' | 'float32';
}

/** How a family shapes {@link CategoricalBase}. */
export interface CategoricalConfig {
  /** The dtype of samples when `opts.dtype` is not given. */
  defaultDtype: 'int32' | 'float32';
  /** Values are vectors over the K categories (value shape `[K]`) rather than category indices. */
  vector: boolean;
  /**
   * The batch shape from the parameter's (its shape less the last axis),
   * for a family with more parameters (Multinomial's `nTrials`); from
   * shapes only, before anything is converted. Default: the parameter's.
   */
  batchShape?: (paramBatch: number[], kind: 'logits' | 'probs', shape: number[]) => number[];
  /** Under `validateArgs`, also reject NaN and +∞ logits. Default false. */
  finiteLogits?: boolean;
}

/**
 * Base of the families parameterised by `logits` or `probs` of shape
 * `[..., K]`: discrete values, samples not reparameterised. Under
 * `validateArgs`, `probs` must be finite and non-negative with a positive
 * sum along the last axis (and with `finiteLogits`, `logits` must hold no
 * NaN and no +∞). Exported for the declarations of its subclasses; not meant
 * to be extended elsewhere.
 */
export abstract class CategoricalBase extends Distribution {
  /** The parameter given (`logits` or `probs`). */
  protected readonly param: CategoricalParam;
  /** The number of categories K (the size of the parameter's last axis). */
  readonly nCategories: number;

  /** @param name the family's name, for the spec and error messages. */
  protected constructor(name: string, opts: CategoricalBaseOptions, config: CategoricalConfig) {
    const { kind, raw } = oneOf(name, opts, 'logits', 'probs');
    const dtype = sampleDtype(name, opts.dtype, config.defaultDtype);
    const shape = shapeOf(raw);
    const k = categoryCount(name, kind, shape);
    const paramBatch = shape.slice(0, -1);
    const batchShape = config.batchShape?.(paramBatch, kind, shape) ?? paramBatch;
    super(discreteSpec(name, batchShape, dtype, opts, config.vector ? [k] : undefined));
    if (this.validateArgs) assertCategoryParam(name, kind, raw, config.finiteLogits ?? false);
    this.param = { kind, value: toTensor(raw) };
    this.nCategories = k;
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

/** The `validateArgs` checks of {@link CategoricalBase}'s parameter; reads data. */
function assertCategoryParam(
  name: string,
  kind: 'logits' | 'probs',
  raw: tf.Tensor | number,
  finiteLogits: boolean,
): void {
  if (kind === 'logits') {
    if (finiteLogits) {
      assertNone(
        () => tf.logicalOr(tf.isNaN(raw), tf.equal(raw, Infinity)),
        name,
        '`logits` must hold no NaN and no +∞',
      );
    }
    return;
  }
  assertNone(
    () => tf.logicalOr(tf.less(raw, 0), tf.logicalNot(tf.isFinite(raw))),
    name,
    '`probs` must be finite and non-negative',
  );
  assertNone(
    () => tf.lessEqual(tf.sum(raw, -1), 0),
    name,
    '`probs` must have a positive sum along the last axis',
  );
}
