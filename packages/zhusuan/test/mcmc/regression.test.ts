/**
 * The case, short: a Bayesian linear regression with an exact
 * Gaussian posterior (3 weights, N = 100), 10 chains started tens of posterior
 * sds away. HMC with windowed mass adaptation and step-size jitter, and
 * NUTS, must recover the posterior mean and covariance within 5 Monte-Carlo
 * standard errors (ESS from the library's diagnostics), with no divergence,
 * and the adapted diagonal mass must estimate 1/marginal variance. The full
 * figure (10 seeds, 300 + 1000 steps) is bench/mcmc-regression.mjs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { HMC } from '../../src/mcmc/hmc.js';
import { NUTS } from '../../src/mcmc/nuts.js';
import { sampleChains } from '../../src/mcmc/driver.js';
import type { HamiltonianKernel } from '../../src/mcmc/kernel.js';
import * as random from '../../src/random.js';
import { useCpu } from '../helpers.js';
import { assertMoments, normals, posteriorErrors, regression } from './fixtures.js';

before(useCpu);

const K = 10;
const WARMUP = 200; // fast 0–74, slow 75–99 and 100–149, fast 150–199

const cases: [string, () => HamiltonianKernel][] = [
  [
    'HMC + windowed mass + jitter',
    () =>
      new HMC({
        nLeapfrogs: 10,
        adaptStepSize: true,
        adaptMass: true,
        nWarmup: WARMUP,
        stepSizeJitter: 0.5,
      }),
  ],
  ['NUTS + windowed mass', () => new NUTS({ adaptMass: true, nWarmup: WARMUP })],
];

for (const [name, make] of cases) {
  test(`linear regression, exact Gaussian posterior: ${name}`, () => {
    const problem = regression(K);
    random.setSeed(7);
    const w = tf.variable(tf.tensor2d(normals(1007, K * 3), [K, 3]));
    const kernel = make();
    const run = sampleChains(kernel, problem.model, problem.observed, { w }, { nSamples: 200 });
    assert.equal(run.nDivergent, 0);
    assertMoments(run.samples.w, problem.mean, problem.cov, name);
    // The diagonal mass estimates 1/Σ_jj (not the precision's diagonal, which is
    // larger where the posterior is correlated): within 25% (it comes from 50
    // iterations × 10 chains of the last slow window).
    const mass = kernel.getMass()!;
    const m = Array.from(mass.w.dataSync());
    m.forEach((mj, j) => {
      const ratio = mj * problem.cov[j][j];
      assert.ok(Math.abs(ratio - 1) < 0.25, `mass[${j}]·Σ_jj ${ratio}`);
    });
    // What the bench reports, on this short run: variance ratios within 25%.
    const err = posteriorErrors(run.samples.w, problem.mean, problem.cov);
    assert.ok(
      Math.abs(err.worstVarianceRatio - 1) < 0.25,
      `variance ratio ${err.worstVarianceRatio}`,
    );
    tf.dispose([run.samples.w, w, mass.w]);
    kernel.dispose();
    problem.dispose();
  });
}
