/**
 * Every example at its --quick size, as a user runs it (`npm run example --
 * NAME --quick`, here into a temp directory), and the README's table against
 * the committed results files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseResult, readResults } from '../src/common/result.js';
import { RESULTS_DIR } from '../src/common/run.js';
import { EXAMPLES } from '../src/index.js';
import { README, regeneratedReadme } from '../src/table.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

/**
 * The quick runs use tfjs' `cpu` backend, except where its JavaScript kernels
 * make the quick size take minutes: pmf_hmc's gradient is gather-bound, and
 * the cpu backend's UnsortedSegmentSum makes one pass per segment (over 100 s
 * for the quick size, against ~5 s on `native`, which CI always builds).
 */
const QUICK_BACKEND: Record<string, string> = { pmf_hmc: 'native' };

function runQuick(name: string, ...extra: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zs-example-'));
  const backend = QUICK_BACKEND[name] ?? 'cpu';
  const r = spawnSync(
    process.execPath,
    [CLI, name, '--quick', '--backend', backend, '--out-dir', dir, ...extra],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, `${name}: ${r.stderr}`);
  const file = path.join(dir, `${name}.json`);
  return { dir, result: parseResult(fs.readFileSync(file, 'utf8'), file) };
}

/**
 * Statistical bounds at the quick size, stated per example: what the quick
 * run must reach (fixed seed 1, the backend of QUICK_BACKEND).
 */
const QUICK_CHECKS: Record<string, (m: Record<string, number>) => void> = {
  // 50 chains × 30 kept iterations after 30 of warm-up, correlated draws:
  // the largest standard deviation is 1, so a mean error over 0.25 (≈ 10 iid
  // standard errors) or a std 30 % off means the sampler is wrong, not
  // unlucky. NUTS mixes better: 0.15 and 20 %, and no divergences here.
  toy_gaussian: (m) => {
    assert.ok(m.hmc_max_abs_mean_error < 0.25, `HMC mean error ${m.hmc_max_abs_mean_error}`);
    assert.ok(
      m.hmc_max_abs_relative_std_error < 0.3,
      `HMC std ${m.hmc_max_abs_relative_std_error}`,
    );
    assert.ok(m.hmc_mean_acceptance > 0.5, `acceptance ${m.hmc_mean_acceptance}`);
    assert.ok(m.nuts_max_abs_mean_error < 0.15, `NUTS mean error ${m.nuts_max_abs_mean_error}`);
    assert.ok(
      m.nuts_max_abs_relative_std_error < 0.2,
      `NUTS std ${m.nuts_max_abs_relative_std_error}`,
    );
    assert.equal(m.nuts_divergent, 0);
  },
  // VI runs its full 1000 Adam steps even at the quick size: the fit must
  // reach the closed-form optimum (the bound within 0.01 nats, the scales
  // within 5 %). HMC (50 chains × 100 kept) must get z2's exact marginal
  // roughly right; the funnel's neck is hard for it, so 15 % on the std.
  toy2d_intractable: (m) => {
    assert.ok(Math.abs(m.vi_z1_mean) < 0.1 && Math.abs(m.vi_z2_mean) < 0.1, 'VI means');
    assert.ok(Math.abs(m.vi_z1_std / 0.6755 - 1) < 0.05, `s1 ${m.vi_z1_std}`);
    assert.ok(Math.abs(m.vi_z2_std / 0.6264 - 1) < 0.05, `s2 ${m.vi_z2_std}`);
    assert.ok(m.vi_elbo < -0.7679 + 1e-9 && m.vi_elbo > -0.7779, `ELBO ${m.vi_elbo}`);
    assert.ok(Math.abs(m.hmc_z2_std / 1.35 - 1) < 0.15, `HMC z2 std ${m.hmc_z2_std}`);
    assert.ok(m.hmc_z2_ks < 0.1, `KS ${m.hmc_z2_ks}`);
  },
  // 10 chains × 200 kept draws (HMC both ways, NUTS): the mean within 0.5
  // posterior sd, the variances within a factor 1.5, the covariances within
  // 0.3 on the correlation scale. SGLD (200 thinned draws a chain, bias
  // O(η)): a factor 1.6 and 0.4. VI after 600 noisy Adam steps: mean within
  // 0.4 sd, variances within a factor 1.6 of the mean-field optimum.
  bayesian_linear_regression: (m) => {
    for (const s of ['hmc', 'hmc_windowed', 'nuts']) {
      assert.ok(m[`${s}_mean_error_sd`] < 0.5, `${s} mean ${m[`${s}_mean_error_sd`]}`);
      assert.ok(m[`${s}_variance_ratio`] < 1.5, `${s} variance ${m[`${s}_variance_ratio`]}`);
      assert.ok(m[`${s}_covariance_error`] < 0.3, `${s} covariance ${m[`${s}_covariance_error`]}`);
    }
    assert.ok(m.sgld_mean_error_sd < 0.5, `SGLD mean ${m.sgld_mean_error_sd}`);
    assert.ok(m.sgld_variance_ratio < 1.6, `SGLD variance ${m.sgld_variance_ratio}`);
    assert.ok(m.sgld_covariance_error < 0.4, `SGLD covariance ${m.sgld_covariance_error}`);
    assert.ok(m.vi_mean_error_sd < 0.4, `VI mean ${m.vi_mean_error_sd}`);
    assert.ok(m.vi_variance_ratio < 1.6, `VI variance ${m.vi_variance_ratio}`);
  },
  // One split, 5 epochs: far from converged, but learning: predicting the
  // training mean gives an RMSE of about 9 (the targets' spread), and the
  // converged VI network about 4.
  bnn_vi: (m) => {
    assert.equal(m.splits, 1);
    assert.ok(m.test_rmse < 6.5, `RMSE ${m.test_rmse}`);
    assert.ok(m.test_ll > -3.8, `test LL ${m.test_ll}`);
  },
  // One split, 5 epochs from weights uniform on [−2, 2] (test RMSE about 9.6
  // there): both samplers must already have moved the predictions toward the
  // data, SGHMC (momentum) by 0.4 at least, SGLD (smaller steps) by 0.1.
  bnn_sgmcmc: (m) => {
    assert.ok(m.sghmc_test_rmse < m.sghmc_untrained_test_rmse - 0.4, `SGHMC ${m.sghmc_test_rmse}`);
    assert.ok(m.sgld_test_rmse < m.sgld_untrained_test_rmse - 0.1, `SGLD ${m.sgld_test_rmse}`);
    assert.ok(Number.isFinite(m.sghmc_test_ll) && Number.isFinite(m.sgld_test_ll));
  },
  // One split, 20 inducing points, 200 full-batch Adam steps (the full run:
  // 100 and 2000): predicting the training mean gives RMSE ≈ 9.6 and NLL ≈
  // 3.7 on this split; the quick fit reaches about 3.6 and 3.3.
  svgp: (m) => {
    assert.equal(m.splits, 1);
    assert.ok(m.test_rmse < 0.5 * m.mean_predictor_test_rmse, `RMSE ${m.test_rmse}`);
    assert.ok(m.test_nll < m.mean_predictor_test_nll - 0.2, `NLL ${m.test_nll}`);
    assert.ok(Number.isFinite(m.test_nll_joint_mc), `joint NLL ${m.test_nll_joint_mc}`);
  },
  // 5 topics over 200 words, one batch of 100 documents, 6 epochs; AIS on
  // 10 held-out documents (5 chains, 50 temperatures). Already a topic
  // model: held-out words likelier than under the training unigram (by
  // 0.12 nats at seed 1; 0.05 asked), the matched topics' cosine well above
  // the all-pairs mean (0.90 vs 0.40), and HMC near its 0.6 target.
  lntm_mcem: (m) => {
    assert.ok(
      m.heldout_ll_per_word > m.unigram_heldout_ll_per_word + 0.05,
      `held-out LL ${m.heldout_ll_per_word}, unigram ${m.unigram_heldout_ll_per_word}`,
    );
    assert.ok(
      m.topic_cosine > m.topic_cosine_chance + 0.3,
      `cosine ${m.topic_cosine}, chance ${m.topic_cosine_chance}`,
    );
    assert.ok(m.topic_hellinger < 0.6, `Hellinger ${m.topic_hellinger}`);
    for (const k of ['e_step_acceptance', 'ais_acceptance']) {
      assert.ok(m[k] > 0.3 && m[k] < 0.9, `${k} ${m[k]}`);
    }
  },
  // 8 Adam steps (64 images, batches of 16) of nf = 2 tf.layers networks
  // from their initialisation: the validation ELBO (100 images, 1 particle;
  // its standard error is about 3 nats) must rise by 8 nats at least (it
  // rises by ~19). The IS estimate (K = 20) is at least the ELBO up to its
  // noise; the MLP baseline trains too.
  vae_conv: (m) => {
    assert.ok(
      m.valid_elbo > m.untrained_valid_elbo + 8,
      `ELBO ${m.untrained_valid_elbo} → ${m.valid_elbo}`,
    );
    assert.ok(m.test_ll > m.test_elbo - 1, `IS LL ${m.test_ll} < ELBO ${m.test_elbo}`);
    assert.ok(m.mlp_valid_elbo > m.untrained_valid_elbo + 8, `MLP ELBO ${m.mlp_valid_elbo}`);
    assert.ok(Number.isFinite(m.test_ll_stderr) && m.test_ll_stderr >= 0);
  },
  // Four posteriors on the same nets (hidden 100), 8 steps each: every
  // validation ELBO rises from about −556 by 30 nats at least (it rises by
  // ~66); the IS log-likelihood (K = 100) exceeds each model's ELBO (by ~20
  // here); after so few steps the flows change log p(x) by a few nats at
  // most (an IS estimate with a wrong log q would not agree).
  vae_nf: (m) => {
    for (const p of ['vae_', 'planar10_', '', 'iaf_']) {
      const elbo = m[`${p}valid_elbo`];
      assert.ok(elbo > m[`${p}untrained_valid_elbo`] + 30, `${p}ELBO → ${elbo}`);
      assert.ok(m[`${p}test_ll`] > m[`${p}test_elbo`], `${p}IS LL below the ELBO`);
      assert.ok(Number.isFinite(m[`${p}test_ll_stderr`]) && m[`${p}test_ll_stderr`] >= 0);
    }
    for (const g of ['gain_over_vae', 'planar10_gain_over_vae', 'iaf_gain_over_vae']) {
      assert.ok(Math.abs(m[g]) < 10, `${g} ${m[g]}`);
    }
  },
  // 12 steps of the K = 50 bound (128 images, hidden 100): the validation
  // ELBO rises from about −556 by 50 nats at least (it rises by ~140); the
  // IS log-likelihood (K = 100) exceeds the ELBO (by ~40 here).
  iwae: (m) => {
    assert.ok(
      m.valid_elbo > m.untrained_valid_elbo + 50,
      `ELBO ${m.untrained_valid_elbo} → ${m.valid_elbo}`,
    );
    assert.ok(m.test_ll > m.test_elbo, `IS LL ${m.test_ll} < ELBO ${m.test_elbo}`);
    assert.ok(m.train_bound > m.untrained_valid_elbo, `train bound ${m.train_bound}`);
    assert.ok(Number.isFinite(m.gain_over_iwae_k5));
  },
  // 100 chains rarely cross between the modes, so the mass of each is set by
  // where the chains started (uniform on [−5, 5]): its binomial standard error
  // is 0.05, the mean's 4 × 0.05 = 0.2; 0.6 is three of them. Within a mode
  // the chains mix: the std within 10 %, and the KS distance under 0.15.
  gaussian_mixture_sgnht: (m) => {
    assert.ok(Math.abs(m.mean - 1) < 0.6, `mean ${m.mean}`);
    assert.ok(Math.abs(m.std / 2.0616 - 1) < 0.1, `std ${m.std}`);
    assert.ok(m.ks_statistic < 0.15, `KS ${m.ks_statistic}`);
    assert.ok(m.min_ess > 0 && m.split_rhat >= 1, `ESS ${m.min_ess}, R-hat ${m.split_rhat}`);
  },
  // 60 users × 40 items, half the pairs observed, 8 chains × 75 kept: the
  // posterior-mean prediction must beat the global mean by 2.5× (it cuts the
  // error fourfold at this size, seed 1: 0.071 vs 0.329) and the kept draws'
  // split R-hat must stay below 1.3 (1.15 at seed 1; chains stuck apart give ≫ 1.5).
  pmf_hmc: (m) => {
    assert.ok(
      m.test_rmse < 0.4 * m.global_mean_rmse,
      `RMSE ${m.test_rmse} vs ${m.global_mean_rmse}`,
    );
    assert.ok(m.acceptance > 0.5, `acceptance ${m.acceptance}`);
    assert.ok(m.max_split_rhat < 1.3, `split R-hat ${m.max_split_rhat}`);
  },
  // 340 images, 3 epochs of REINFORCE with nets of 100 units: the untrained
  // model's validation ELBO is about −545 (784 log 2 ≈ 543 plus a small KL);
  // 30 noisy steps reach about −227, so a 150-nat gain is a clear margin. The
  // test IS estimate (50 particles, 60 images) must lie above the test ELBO:
  // its expectation does, by about 10 nats here.
  bernoulli_latent_vae: (m) => {
    assert.ok(m.valid_elbo > m.untrained_valid_elbo + 150, `ELBO ${m.valid_elbo}`);
    assert.ok(m.test_ll_minus_elbo > 0, `IS LL − ELBO ${m.test_ll_minus_elbo}`);
    assert.equal(m.n_test, 60);
  },
  // 240 images, 2 epochs of 10 batches with K = 5, layers of 50: the
  // validation bound rises from about −555 to about −400; 80 nats is half of
  // that. The test IS estimate with 50 samples lies above the 5-sample bound
  // in expectation.
  sbn_vimco: (m) => {
    assert.ok(m.valid_bound > m.untrained_valid_bound + 80, `bound ${m.valid_bound}`);
    assert.ok(m.test_ll_minus_bound > 0, `IS LL − bound ${m.test_ll_minus_bound}`);
  },
  sbn_rws: (m) => {
    assert.ok(m.valid_bound > m.untrained_valid_bound + 80, `bound ${m.valid_bound}`);
    assert.ok(m.test_ll_minus_bound > 0, `IS LL − bound ${m.test_ll_minus_bound}`);
  },
  // 100 labels, 30 steps: chance is 90 % error; the classifier must already
  // be far better (about 40 % here; 70 % bounds it with room for the seed).
  vae_ssl: (m) => {
    assert.equal(m.labels, 100);
    assert.ok(m.test_error_percent < 70, `test error ${m.test_error_percent} %`);
  },
  // 60 Adam steps from the identity flow: the validation log-likelihood
  // rises by about 57 nats (mostly the scaling tightening the logistic prior onto
  // [0, 1]); 30 is a clear margin.
  nice_mnist: (m) => {
    assert.ok(m.valid_ll > m.untrained_valid_ll + 30, `validation LL ${m.valid_ll}`);
    assert.ok(Math.abs(m.test_ll - m.valid_ll) < 30, `test LL ${m.test_ll}`);
    const bpd = (784 * Math.log(256) - m.test_ll) / (784 * Math.LN2);
    assert.ok(Math.abs(m.test_bits_per_dim - bpd) < 1e-9, `bits/dim ${m.test_bits_per_dim}`);
  },
};

for (const def of EXAMPLES) {
  test(`example ${def.name} --quick runs and writes its results file`, () => {
    const { result } = runQuick(def.name);
    assert.equal(result.example, def.name);
    assert.equal(result.quick, true);
    assert.equal(result.backend, QUICK_BACKEND[def.name] ?? 'cpu');
    assert.match(result.command, new RegExp(`^npm run example -- ${def.name} --quick`));
    assert.ok(Object.keys(result.reference).length > 0, 'no reference figures');
    for (const k of Object.keys(result.reference)) {
      assert.ok(k in result.metrics, `reference '${k}' has no measured counterpart`);
    }
    const check = QUICK_CHECKS[def.name];
    assert.ok(check !== undefined, `no quick-size check for ${def.name}`);
    check(result.metrics);
  });
}

test('examples reject bad flags and unknown names with exit 2', () => {
  const bad = spawnSync(process.execPath, [CLI, 'toy_gaussian', '--seeed', '3'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /seeed/);
  const seed = spawnSync(process.execPath, [CLI, 'toy_gaussian', '--seed', '0x3'], {
    encoding: 'utf8',
  });
  assert.equal(seed.status, 2);
  assert.match(seed.stderr, /--seed: expected an integer/);
  const none = spawnSync(process.execPath, [CLI, 'nope'], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(
    none.stderr,
    new RegExp(`no example 'nope'; examples: ${EXAMPLES.map((e) => e.name).join(', ')}\\n`),
  );
});

test('examples/README.md carries the table made from examples/results', () => {
  const results = readResults(RESULTS_DIR);
  for (const r of results) {
    assert.equal(r.quick, false, `${r.example}: a committed result must be a full run`);
    assert.ok(
      EXAMPLES.some((e) => e.name === r.example),
      `${r.example}.json has no example`,
    );
  }
  assert.equal(
    fs.readFileSync(README, 'utf8'),
    regeneratedReadme(),
    'run `npm run examples:table`',
  );
});
