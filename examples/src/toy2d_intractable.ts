/**
 * A 2-D posterior with no closed form for its normaliser's shape, fitted by
 * mean-field VI and sampled by HMC (ZhuSuan
 * examples/toy_examples/toy2d_intractable.py):
 *
 *   z2 ~ N(0, 1.35²),  z1 | z2 ~ N(0, exp(z2)²)     (Neal's funnel, in 2-D)
 *
 * VI: q(z1) q(z2) Gaussian, started at mean −2, log-std −5, Adam (lr 0.1),
 * 1000 iterations of the SGVB gradient with 500 particles, as ZhuSuan. Its
 * optimum has a closed form (derived in the README): m1 = m2 = 0,
 * s2² = 1/(1/1.35² + 2), s1² = exp(−2 s2²), and ELBO* = −s2²/(2·1.35²) − s2²
 * + log s2 − log 1.35 + ½ = −0.7680 (KL(q*‖p) = 0.7680, p being normalised).
 * HMC: 200 chains, adapted step, against z2's exact marginal N(0, 1.35²).
 * A PNG shows the true density, the fitted q and a histogram of the HMC
 * samples side by side (z1 across, z2 down from 2 to −4; square-root scale).
 */
import * as tf from '@tensorflow/tfjs-core';
import { imageGrid, makeAdam, upscale } from '@zhusuan/cli';
import * as zs from 'zhusuan';
import type { ExampleDefinition } from './common/run.js';
import { columnMoments, ksStatistic, normalCdf } from './common/stats.js';

const SIGMA = 1.35;

/**
 * The mean-field ELBO in closed form, at q(z1) = N(m1, s1²), q(z2) = N(m2, s2²):
 * E log p(z2) + E log p(z1 | z2) + H(q), with E[e^(−2 z2)] = e^(−2 m2 + 2 s2²).
 */
export function elboAt(m1: number, m2: number, s1: number, s2: number): number {
  const halfLog2Pi = 0.5 * Math.log(2 * Math.PI);
  const logPz2 = -halfLog2Pi - Math.log(SIGMA) - (m2 ** 2 + s2 ** 2) / (2 * SIGMA ** 2);
  const logPz1 = -halfLog2Pi - m2 - 0.5 * (m1 ** 2 + s1 ** 2) * Math.exp(-2 * m2 + 2 * s2 ** 2);
  const entropy = Math.log(s1) + Math.log(s2) + Math.log(2 * Math.PI) + 1;
  return logPz2 + logPz1 + entropy;
}

/** The closed-form optimum of the mean-field ELBO (see the file comment). */
export function optimum(): { m1: number; m2: number; s1: number; s2: number; elbo: number } {
  const s2sq = 1 / (1 / SIGMA ** 2 + 2);
  const s1sq = Math.exp(-2 * s2sq);
  const elbo = -s2sq / (2 * SIGMA ** 2) - s2sq + 0.5 * Math.log(s2sq) - Math.log(SIGMA) + 0.5;
  return { m1: 0, m2: 0, s1: Math.sqrt(s1sq), s2: Math.sqrt(s2sq), elbo };
}

/** p(z1, z2) at a point, normalised. */
function density(z1: number, z2: number): number {
  const lp =
    -0.5 * (z2 / SIGMA) ** 2 -
    Math.log(SIGMA) -
    z2 -
    0.5 * (z1 * Math.exp(-z2)) ** 2 -
    Math.log(2 * Math.PI);
  return Math.exp(lp);
}

/** The funnel as a meta net of `n` independent draws (nodes 'z1', 'z2', each [n]). */
export const funnel = zs.metaBayesianNet((bn: zs.BayesianNet, n: number) => {
  const z2 = bn.normal('z2', 0, { std: SIGMA, nSamples: n });
  bn.normal('z1', 0, { logstd: z2 });
});

/** Particles of the SGVB gradient (ZhuSuan's). */
export const VI_PARTICLES = 500;

/**
 * Mean-field VI of the funnel as ZhuSuan runs it: q(z1) q(z2) Gaussian,
 * started at mean −2, log-std −5; `step()` is one Adam (lr 0.1) step on the
 * SGVB gradient with {@link VI_PARTICLES} particles.
 */
export function meanFieldVi(): {
  v: Record<'z1Mean' | 'z1Logstd' | 'z2Mean' | 'z2Logstd', tf.Variable>;
  step(): void;
  dispose(): void;
} {
  const v = tf.tidy(() => ({
    z1Mean: tf.variable(tf.scalar(-2)),
    z1Logstd: tf.variable(tf.scalar(-5)),
    z2Mean: tf.variable(tf.scalar(-2)),
    z2Logstd: tf.variable(tf.scalar(-5)),
  }));
  const variational = (n: number) => {
    const bn = new zs.BayesianNet();
    bn.normal('z1', v.z1Mean, { logstd: v.z1Logstd, nSamples: n });
    bn.normal('z2', v.z2Mean, { logstd: v.z2Logstd, nSamples: n });
    return bn;
  };
  const lowerBound = (n: number) =>
    zs.elbo((obs) => funnel.observe(obs, n), {}, { variational: variational(n), axis: 0 });
  const optimizer = makeAdam(0.1, tf.getBackend());
  const vars = Object.values(v);
  return {
    v,
    step: () =>
      optimizer.minimize(() => tf.mean(lowerBound(VI_PARTICLES).sgvb()) as tf.Scalar, false, vars),
    dispose: () => {
      optimizer.dispose();
      tf.dispose(vars);
    },
  };
}

/** A panel of the picture: `f` on the grid z1 ∈ [−2, 2] (columns) × z2 ∈ [2, −4] (rows, top down). */
const ROWS = 120;
const COLS = 80;
function panel(f: (z1: number, z2: number) => number): Float32Array {
  const out = new Float32Array(ROWS * COLS);
  for (let r = 0; r < ROWS; r++) {
    for (let c = 0; c < COLS; c++) {
      out[r * COLS + c] = f(-2 + (4 * (c + 0.5)) / COLS, 2 - (6 * (r + 0.5)) / ROWS);
    }
  }
  return brighten(out);
}

/** Values scaled to a maximum of 1, then square-rooted so that the faint parts show. */
function brighten(v: Float32Array): Float32Array {
  const max = v.reduce((a, b) => Math.max(a, b), 0);
  return v.map((x) => (max > 0 ? Math.sqrt(x / max) : 0));
}

export const toy2dIntractable: ExampleDefinition = {
  name: 'toy2d_intractable',
  model: 'z2 ~ N(0, 1.35²), z1 | z2 ~ N(0, e^(2 z2))',
  inference: 'mean-field VI (SGVB, Adam); HMC, 200 chains',
  dataset: 'none (the target is the model)',
  referenceSource: 'exact: the mean-field optimum in closed form; z2 ~ N(0, 1.35²)',
  run({ quick, log, writeImage }) {
    // Mean-field VI.
    const iters = 1000;
    const vi = meanFieldVi();
    for (let t = 0; t < iters; t++) {
      vi.step();
      if ((t + 1) % 250 === 0) log(`VI iteration ${t + 1}/${iters}`);
    }
    const v = vi.v;
    const fit = {
      m1: v.z1Mean.dataSync()[0],
      m2: v.z2Mean.dataSync()[0],
      s1: Math.exp(v.z1Logstd.dataSync()[0]),
      s2: Math.exp(v.z2Logstd.dataSync()[0]),
    };
    // The fitted q's bound exactly (a Monte-Carlo average is too noisy here:
    // z1² e^(−2 z2) has a heavy tail under q).
    const elbo = elboAt(fit.m1, fit.m2, fit.s1, fit.s2);
    vi.dispose();
    const opt = optimum();
    log(
      `VI: m1 ${fit.m1.toFixed(3)} m2 ${fit.m2.toFixed(3)} s1 ${fit.s1.toFixed(3)} s2 ${fit.s2.toFixed(3)} ` +
        `ELBO ${elbo.toFixed(4)} (optimum s1 ${opt.s1.toFixed(4)} s2 ${opt.s2.toFixed(4)} ELBO ${opt.elbo.toFixed(4)})`,
    );

    // HMC on the same model.
    const nChains = quick ? 50 : 200;
    const nIters = quick ? 200 : 2000;
    const burnin = nIters / 2;
    const z = { z1: tf.variable(tf.zeros([nChains])), z2: tf.variable(tf.zeros([nChains])) };
    const hmc = new zs.HMC({ stepSize: 0.1, nLeapfrogs: 10, adaptStepSize: true });
    const kept: number[][] = [];
    let acceptance = 0;
    for (let i = 0; i < nIters; i++) {
      if (i === burnin) hmc.stopAdaptation();
      const info = hmc.step((obs) => funnel.observe(obs, nChains), {}, z);
      if (i >= burnin) {
        const a = z.z1.dataSync();
        const b = z.z2.dataSync();
        for (let c = 0; c < nChains; c++) kept.push([a[c], b[c]]);
        acceptance += info.acceptanceRate / (nIters - burnin);
      }
    }
    hmc.dispose();
    z.z1.dispose();
    z.z2.dispose();
    const z2s = kept.map((p) => p[1]);
    const { mean, std } = columnMoments(z2s, 1);
    const ks = ksStatistic(z2s, (x) => normalCdf(x / SIGMA));
    log(
      `HMC: z2 mean ${mean[0].toFixed(3)} std ${std[0].toFixed(3)} (exact 0, ${SIGMA}); KS ${ks.toFixed(4)}`,
    );

    // True density | fitted q | HMC histogram.
    const gauss = (x: number, m: number, s: number) => Math.exp(-0.5 * ((x - m) / s) ** 2) / s;
    const hist = new Float32Array(ROWS * COLS);
    for (const [a, b] of kept) {
      const c = Math.floor(((a + 2) / 4) * COLS);
      const r = Math.floor(((2 - b) / 6) * ROWS);
      if (c >= 0 && c < COLS && r >= 0 && r < ROWS) hist[r * COLS + c]++;
    }
    const panels = new Float32Array(3 * ROWS * COLS);
    panels.set(panel(density), 0);
    panels.set(
      panel((a, b) => gauss(a, fit.m1, fit.s1) * gauss(b, fit.m2, fit.s2)),
      ROWS * COLS,
    );
    panels.set(brighten(hist), 2 * ROWS * COLS);
    writeImage(
      'densities',
      upscale(imageGrid(panels, 3, ROWS, COLS, { gridCols: 3, padding: 4 }), 2),
    );

    return {
      metrics: {
        vi_z1_mean: fit.m1,
        vi_z2_mean: fit.m2,
        vi_z1_std: fit.s1,
        vi_z2_std: fit.s2,
        vi_elbo: elbo,
        hmc_z2_mean: mean[0],
        hmc_z2_std: std[0],
        hmc_z2_ks: ks,
        hmc_acceptance: acceptance,
      },
      reference: {
        vi_z1_mean: opt.m1,
        vi_z2_mean: opt.m2,
        vi_z1_std: opt.s1,
        vi_z2_std: opt.s2,
        vi_elbo: opt.elbo,
        hmc_z2_mean: 0,
        hmc_z2_std: SIGMA,
      },
    };
  },
};
