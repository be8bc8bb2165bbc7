/**
 * HMC on a Gaussian with known moments (ZhuSuan examples/toy_examples/gaussian.py,
 * its n_x = 10 variant): x ~ N(0, diag(σ²)) with σ_i = 1/(i+1), 1000 chains,
 * the step size (target acceptance 0.9) and a diagonal mass adapted during the
 * first quarter of the iterations, the second half kept.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import type { ExampleDefinition } from './common/run.js';
import { columnMoments, maxAbs } from './common/stats.js';

const N_X = 10;

/** The sampler's settings: ZhuSuan's, and a small size for the tests. */
function settings(quick: boolean) {
  return quick
    ? { nChains: 50, nIters: 60, nLeapfrogs: 5 }
    : { nChains: 1000, nIters: 200, nLeapfrogs: 5 };
}

export const toyGaussian: ExampleDefinition = {
  name: 'toy_gaussian',
  model: `Gaussian, ${N_X}-D, σ_i = 1/(i+1)`,
  inference: 'HMC (5 leapfrogs, adapted step and diagonal mass)',
  dataset: 'none (the target is the model)',
  referenceSource: 'exact: mean 0, σ_i = 1/(i+1)',
  run({ quick, log }) {
    const { nChains, nIters, nLeapfrogs } = settings(quick);
    const stdev = Array.from({ length: N_X }, (_, i) => 1 / (i + 1));
    const std = tf.tensor1d(stdev);
    const model = zs.metaBayesianNet((bn: zs.BayesianNet) => {
      bn.normal('x', tf.zeros([N_X]), { std, nSamples: nChains, groupNdims: 1 });
    });
    const x = tf.variable(tf.zeros([nChains, N_X]));
    const hmc = new zs.HMC({
      stepSize: 1e-3,
      nLeapfrogs,
      adaptStepSize: true,
      adaptMass: true,
      targetAcceptanceRate: 0.9,
    });
    const burnin = nIters / 2;
    const kept: Float32Array[] = [];
    const t0 = performance.now();
    let acceptance = 0;
    for (let i = 0; i < nIters; i++) {
      if (i === burnin / 2) hmc.stopAdaptation();
      const info = hmc.step(model, {}, { x });
      if (i >= burnin) {
        kept.push(x.dataSync() as Float32Array);
        acceptance += info.acceptanceRate / (nIters - burnin);
      }
      if ((i + 1) % 50 === 0) {
        log(
          `iteration ${i + 1}/${nIters}: acceptance ${info.acceptanceRate.toFixed(3)}, step ${info.stepSize.toFixed(4)}`,
        );
      }
    }
    const samplingSeconds = (performance.now() - t0) / 1000;
    hmc.dispose();
    x.dispose();
    std.dispose();
    const all = new Float32Array(kept.length * nChains * N_X);
    kept.forEach((k, i) => all.set(k, i * nChains * N_X));
    const { mean, std: sd } = columnMoments(all, N_X);
    const relStdErr = sd.map((s, i) => (s - stdev[i]) / stdev[i]);
    log(`sample means ${mean.map((m) => m.toFixed(3)).join(' ')}`);
    log(`relative std errors ${relStdErr.map((e) => e.toFixed(3)).join(' ')}`);
    return {
      metrics: {
        max_abs_mean_error: maxAbs(mean),
        max_abs_relative_std_error: maxAbs(relStdErr),
        mean_acceptance: acceptance,
        draws: all.length / N_X,
        sampling_seconds: samplingSeconds,
      },
      reference: { max_abs_mean_error: 0, max_abs_relative_std_error: 0 },
    };
  },
};
