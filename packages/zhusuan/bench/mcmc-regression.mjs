#!/usr/bin/env node
// HMC and NUTS on a Bayesian linear regression whose posterior is an exact
// Gaussian (3 weights, N = 100 points, unit-normal prior, noise sd 0.5),
// over several seeds: the worst posterior variance ratio and the worst
// covariance error against the exact posterior, the smallest effective
// sample size per second, split R-hat and divergences. The figure of
// docs/library.md's "MCMC" section:
//   npm run build && node packages/zhusuan/bench/mcmc-regression.mjs [--seeds 10] [--json]
//     [--chains 10] [--warmup 300] [--samples 1000] [--only PREFIX]
// Not a test: it takes minutes (NUTS is the slow part). The library's test
// test/mcmc/regression.test.ts runs a short version of the same check.
import * as tf from '@tensorflow/tfjs';
import * as zs from '../dist/src/index.js';
import { normals, posteriorErrors, regression } from '../dist/test/mcmc/fixtures.js';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) {
    process.stderr.write(`mcmc-regression: ${name} needs a positive integer, got ${args[i + 1]}\n`);
    process.exit(2);
  }
  return v;
};
const nSeeds = flag('--seeds', 10);
const nChains = flag('--chains', 10);
const nWarmup = flag('--warmup', 300);
const nSamples = flag('--samples', 1000);
const json = args.includes('--json');
// --only PREFIX runs the samplers whose names start with PREFIX.
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;

await tf.setBackend('cpu');

// The problem, its exact posterior and the error measures are defined once,
// for this script and the test, in test/mcmc/fixtures.ts.
const problem = regression(nChains);

const CONFIGS = {
  // What the issue ran: a fixed trajectory length, no mass adaptation.
  'HMC, 10 leapfrogs (fixed length)': () =>
    new zs.HMC({ nLeapfrogs: 10, adaptStepSize: true, nWarmup }),
  'HMC, 10 leapfrogs + windowed mass': () =>
    new zs.HMC({ nLeapfrogs: 10, adaptStepSize: true, adaptMass: true, nWarmup }),
  'HMC, 10 leapfrogs + windowed mass + jitter 0.5': () =>
    new zs.HMC({
      nLeapfrogs: 10,
      adaptStepSize: true,
      adaptMass: true,
      nWarmup,
      stepSizeJitter: 0.5,
    }),
  'NUTS + windowed mass': () => new zs.NUTS({ adaptMass: true, nWarmup }),
};

function runOnce(make, seed) {
  zs.random.setSeed(seed);
  // Chains start at prior draws, tens of posterior sds from the mode: a real warm-up transient.
  const w = tf.variable(tf.tensor2d(normals(seed + 1000, nChains * 3), [nChains, 3]));
  const kernel = make();
  const cpu0 = process.cpuUsage();
  const run = zs.sampleChains(kernel, problem.model, problem.observed, { w }, { nSamples });
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const draws = run.samples.w;
  const err = posteriorErrors(draws, problem.mean, problem.cov);
  const essMin = zs.minEffectiveSampleSize(draws, { chainAxis: 1 });
  const mass = kernel.getMass();
  const massW = mass === null ? null : Array.from(mass.w.dataSync());
  if (mass !== null) mass.w.dispose();
  const out = {
    seed,
    ...err,
    essMin,
    essPerSecond: essMin / run.seconds,
    essPerCpuSecond: essMin / cpuSeconds,
    rhatMax: Math.max(...zs.splitRHat(draws, { chainAxis: 1 }).dataSync()),
    divergent: run.nDivergent,
    stepSize: kernel.stepSize,
    leapfrogsPerStep:
      run.info.reduce((s, i) => s + i.nLeapfrogs.reduce((a, b) => a + b, 0), 0) /
      (nSamples * nChains),
    // The adapted diagonal mass against 1/Σ_jj (what a diagonal mass estimates) and Λ_jj.
    massTimesVariance: massW?.map((m, j) => m * problem.cov[j][j]) ?? null,
    massOverPrecision: massW?.map((m, j) => m / problem.precision[j][j]) ?? null,
    seconds: run.seconds,
    cpuSeconds,
  };
  tf.dispose([draws, w]);
  kernel.dispose();
  return out;
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results = [];
for (const [name, make] of Object.entries(CONFIGS)) {
  if (only !== null && !name.startsWith(only)) continue;
  const runs = [];
  for (let s = 1; s <= nSeeds; s++) {
    runs.push(runOnce(make, s));
    if (!json)
      process.stderr.write(`${name}, seed ${s}: ${JSON.stringify(runs[runs.length - 1])}\n`);
  }
  const worst = runs.reduce((a, b) =>
    Math.abs(Math.log(b.worstVarianceRatio)) > Math.abs(Math.log(a.worstVarianceRatio)) ? b : a,
  );
  results.push({
    config: name,
    worstVarianceRatio: worst.worstVarianceRatio,
    worstCovError: Math.max(...runs.map((r) => r.worstCovError)),
    medianEssPerSecond: median(runs.map((r) => r.essPerSecond)),
    medianEssPerCpuSecond: median(runs.map((r) => r.essPerCpuSecond)),
    medianEssMin: median(runs.map((r) => r.essMin)),
    rhatMax: Math.max(...runs.map((r) => r.rhatMax)),
    divergent: runs.reduce((s, r) => s + r.divergent, 0),
    medianLeapfrogsPerStep: median(runs.map((r) => r.leapfrogsPerStep)),
    runs,
  });
}
const setup = { nSeeds, nChains, nWarmup, nSamples, backend: tf.getBackend() };
if (json) {
  process.stdout.write(`${JSON.stringify({ setup, posteriorCov: problem.cov, results })}\n`);
} else {
  process.stdout.write(
    `${nSeeds} seeds × ${nChains} chains, ${nWarmup} warm-up + ${nSamples} kept, backend ${setup.backend}\n` +
      '| sampler | worst variance ratio | worst cov. error | median min ESS | median ESS/s (CPU s) | max R-hat | divergences | leapfrogs/step |\n' +
      '|---|---|---|---|---|---|---|---|\n',
  );
  for (const r of results) {
    process.stdout.write(
      `| ${r.config} | ${r.worstVarianceRatio.toFixed(2)} | ${r.worstCovError.toFixed(3)} | ` +
        `${r.medianEssMin.toFixed(0)} | ${r.medianEssPerSecond.toFixed(0)} (${r.medianEssPerCpuSecond.toFixed(0)}) | ` +
        `${r.rhatMax.toFixed(3)} | ` +
        `${r.divergent} | ${r.medianLeapfrogsPerStep.toFixed(1)} |\n`,
    );
  }
}
