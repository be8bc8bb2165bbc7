/**
 * ZhuSuan's functional flows (zhusuan/transform.py): samples and their log q
 * in, transformed samples and updated log q out. ZhuSuan creates the
 * parameters inside the call (a TensorFlow graph is built once); in eager
 * tfjs the first call creates the layers and returns them as `flow`, and
 * later calls (each training step) pass that flow back in. In a variational
 * net, `bn.flow` does the same and feeds the objectives.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertInteger } from '../checks.js';
import { Bijector, Sequential } from './bijector.js';
import { InverseAutoregressiveFlow, type InverseAutoregressiveFlowOptions } from './iaf.js';
import { seedStream } from './internal.js';
import { Reverse } from './permute.js';
import { PlanarFlow, type PlanarFlowOptions } from './planar.js';

/** What the functional flows return. */
export interface FlowOutput {
  /** The transformed samples, the shape of the input samples `[..., D]`. */
  samples: tf.Tensor;
  /** log q of the transformed samples: the input log q minus the log-determinant, `[...]`. */
  logQ: tf.Tensor;
  /** The flow applied (created by this call when it was given a number of steps): dispose it when done. */
  flow: Bijector;
}

/**
 * The last-axis size D of `samples` `[..., D]`, after checking that `logQ`
 * has the shape `[...]`; errors name `where`.
 */
function checkInputs(where: string, samples: tf.Tensor, logQ: tf.Tensor): number {
  if (!(samples instanceof tf.Tensor) || samples.rank < 1) {
    throw new Error(`${where}: \`samples\` must be a tf.Tensor of shape [..., D]`);
  }
  const lead = samples.shape.slice(0, -1);
  if (
    !(logQ instanceof tf.Tensor) ||
    logQ.rank !== lead.length ||
    logQ.shape.some((d, i) => d !== lead[i])
  ) {
    const got = logQ instanceof tf.Tensor ? `[${logQ.shape}]` : String(logQ);
    throw new Error(
      `${where}: \`logQ\` must have the shape of \`samples\` [${samples.shape}] less its last axis, [${lead}], got ${got}`,
    );
  }
  return samples.shape[samples.rank - 1];
}

/** `flow` (or `nIters` layers from `make`) applied to `samples` with log q `logQ`. */
function applyFlow(
  where: string,
  samples: tf.Tensor,
  logQ: tf.Tensor,
  nIters: number | Bijector,
  make: (d: number, seed: () => number) => Bijector[],
  seed: number | undefined,
): FlowOutput {
  const d = checkInputs(where, samples, logQ);
  let flow: Bijector;
  if (nIters instanceof Bijector) {
    flow = nIters;
  } else {
    assertInteger(where, 'nIters', nIters, 'positive');
    const seeds = seedStream(where, seed);
    flow = new Sequential(Array.from({ length: nIters }, () => make(d, seeds)).flat());
  }
  const out = tf.tidy(() => {
    const { y, logDet } = flow.forward(samples);
    return { samples: y, logQ: tf.sub(logQ, logDet) };
  });
  return { ...out, flow };
}

/**
 * Planar normalizing flow along the last axis of `samples` (ZhuSuan's
 * `planar_normalizing_flow`): `nIters` {@link PlanarFlow} steps, created by
 * this call, or a flow from an earlier call.
 * @param samples `[..., D]`, e.g. q's samples.
 * @param logQ `[...]`, log q of `samples`.
 * @param nIters the number of steps, or the `flow` an earlier call returned.
 * @example
 * // ZhuSuan's vae_nf.py; the first step creates the flow, the next ones reuse it.
 * let flow: zs.Bijector | undefined;
 * const step = () => {
 *   const out = zs.planarNormalizingFlow(z, logQz, flow ?? 10, { seed: 1 });
 *   flow = out.flow;
 *   return out; // out.samples, out.logQ
 * };
 */
export function planarNormalizingFlow(
  samples: tf.Tensor,
  logQ: tf.Tensor,
  nIters: number | Bijector,
  opts: PlanarFlowOptions = {},
): FlowOutput {
  return applyFlow(
    'planarNormalizingFlow',
    samples,
    logQ,
    nIters,
    (d, seed) => [new PlanarFlow(d, { ...opts, seed: seed() })],
    opts.seed,
  );
}

/**
 * Inverse autoregressive flow along the last axis of `samples` (ZhuSuan's
 * `inv_autoregressive_flow`): `nIters` {@link InverseAutoregressiveFlow}
 * steps each followed by a reversal of the last axis, as ZhuSuan does,
 * created by this call, or a flow from an earlier call. ZhuSuan's
 * `autoregressive_nn` argument is MADE here: `hiddenSizes: []` (the default)
 * is its `linear_ar`; its `hidden` argument, unused there, is left out.
 * @param samples `[..., D]`.
 * @param logQ `[...]`, log q of `samples`.
 * @param nIters the number of steps, or the `flow` an earlier call returned.
 */
export function invAutoregressiveFlow(
  samples: tf.Tensor,
  logQ: tf.Tensor,
  nIters: number | Bijector,
  opts: InverseAutoregressiveFlowOptions = {},
): FlowOutput {
  return applyFlow(
    'invAutoregressiveFlow',
    samples,
    logQ,
    nIters,
    (d, seed) => [new InverseAutoregressiveFlow(d, { ...opts, seed: seed() }), new Reverse(d)],
    opts.seed,
  );
}
