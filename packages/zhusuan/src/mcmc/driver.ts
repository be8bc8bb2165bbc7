/**
 * The MCMC driver (numpyro's `MCMC.run` over a kernel): warm-up steps, then
 * kept steps whose states are collected, for any kernel with HMC's `step`
 * ({@link HMC}, {@link NUTS}). Each step is one kernel call; the draws are
 * read back after every kept step and stacked once at the end, so no tensor
 * accumulates on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Observed } from '../framework/bn.js';
import { assertInteger } from '../checks.js';
import type { HamiltonianKernel, HmcInfo, LatentVariables } from './kernel.js';
import type { McmcTarget } from './target.js';

/** Options of {@link sampleChains}. */
export interface SampleChainsOptions {
  /** Kept steps: the number of draws per chain. */
  nSamples: number;
  /**
   * Warm-up steps before them (discarded; the kernel adapts during them).
   * Default: the kernel's `nWarmup`, or 0. When the kernel has none, its
   * adaptation is stopped after these steps.
   */
  nWarmup?: number;
}

/** What {@link sampleChains} returns. */
export interface ChainsResult<I extends HmcInfo = HmcInfo> {
  /** Per latent: the kept draws, shape `[nSamples, ...chains, ...event]`. */
  samples: Record<string, tf.Tensor>;
  /** The info of every kept step. */
  info: I[];
  /** The info of every warm-up step. */
  warmupInfo: I[];
  /** Divergent transitions among the kept steps, summed over the chains. */
  nDivergent: number;
  /** Wall-clock seconds of the whole run, warm-up included. */
  seconds: number;
}

/**
 * Runs `kernel` on the chains in `latent` for `nWarmup` warm-up and
 * `nSamples` kept steps and returns the kept draws with the step infos. The
 * variables in `latent` hold the last state afterwards.
 * @example
 * const z = tf.variable(tf.zeros([10, 3]));          // 10 chains
 * const nuts = new zs.NUTS({ nWarmup: 500, adaptMass: true });
 * const run = zs.sampleChains(nuts, model, { y }, { z }, { nSamples: 1000 });
 * zs.effectiveSampleSize(run.samples.z, { chainAxis: 1 }); // shape [3]
 * tf.dispose(Object.values(run.samples));
 * nuts.dispose();
 */
export function sampleChains<I extends HmcInfo>(
  kernel: HamiltonianKernel<I>,
  target: McmcTarget,
  observed: Observed,
  latent: LatentVariables,
  opts: SampleChainsOptions,
): ChainsResult<I> {
  const { nSamples } = opts;
  assertInteger('sampleChains', 'nSamples', nSamples, 'positive');
  const nWarmup = opts.nWarmup ?? kernel.nWarmup ?? 0;
  assertInteger('sampleChains', 'nWarmup', nWarmup, 'non-negative');
  if (kernel.nWarmup !== null && nWarmup !== kernel.nWarmup) {
    throw new Error(
      `sampleChains: \`nWarmup\` ${nWarmup} differs from the kernel's nWarmup ` +
        `${kernel.nWarmup}; leave it out to use the kernel's`,
    );
  }
  const start = Date.now();
  const warmupInfo: I[] = [];
  for (let i = 0; i < nWarmup; i++) warmupInfo.push(kernel.step(target, observed, latent));
  kernel.stopAdaptation(); // kept steps never adapt
  const names = Object.keys(latent).sort();
  const draws = names.map((n) => new Float32Array(nSamples * latent[n].size));
  const info: I[] = [];
  let nDivergent = 0;
  for (let t = 0; t < nSamples; t++) {
    const step = kernel.step(target, observed, latent);
    info.push(step);
    nDivergent += step.divergent.filter((d) => d).length;
    names.forEach((n, i) => draws[i].set(latent[n].dataSync(), t * latent[n].size));
  }
  const samples: Record<string, tf.Tensor> = {};
  names.forEach((n, i) => (samples[n] = tf.tensor(draws[i], [nSamples, ...latent[n].shape])));
  return { samples, info, warmupInfo, nDivergent, seconds: (Date.now() - start) / 1000 };
}
