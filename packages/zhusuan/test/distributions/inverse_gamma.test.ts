import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { InverseGamma } from '../../src/distributions/inverse_gamma.js';
import * as random from '../../src/random.js';
import { assertClose, assertNoGradientPath, lgamma64, rng, uniform, useCpu } from '../helpers.js';
import {
  assertLeakFree,
  assertReproducible,
  gradientsVsFiniteDiff,
  assertKs,
  assertMoments,
  column,
  gammaRawMoments,
  oracle,
  assertAlphaBetaLogProbTable,
} from './oracles.js';

before(useCpu);

// ---- float64 oracles ----------------------------------------------------

function invGammaLogPdf(x: number, a: number, b: number): number {
  return a * Math.log(b) - lgamma64(a) - (a + 1) * Math.log(x) - b / x;
}

// ---- tests -------------------------------------------------------------------

test('InverseGamma.logProb matches the float64 density (broadcasting, groupNdims)', () => {
  assertAlphaBetaLogProbTable({
    name: 'InverseGamma',
    make: (p) => new InverseGamma(p),
    pdf: invGammaLogPdf,
    seed: 21,
    beta: [0.3, 3],
    given: [0.1, 6],
  });
});

test('InverseGamma.logProb is −∞ off the support, NaN only for NaN, with finite gradients', () => {
  const alpha = tf.tensor([0.5, 1, 2, 3]);
  const beta = tf.scalar(1.5);
  const x = tf.tensor([0, -1, Infinity, NaN]);
  const lp = new InverseGamma({ alpha, beta }).logProb(x).arraySync() as number[];
  assert.deepEqual(lp.slice(0, 3), [-Infinity, -Infinity, -Infinity]);
  assert.ok(Number.isNaN(lp[3]));
  const [ga, gb, gx] = tf.grads((a: tf.Tensor, b: tf.Tensor, v: tf.Tensor) =>
    tf.sum(new InverseGamma({ alpha: a, beta: b }).logProb(v)),
  )([alpha.slice(0, 3), beta, x.slice(0, 3)]);
  assert.deepEqual(Array.from(ga.dataSync()), [0, 0, 0]);
  assert.deepEqual(Array.from(gb.dataSync()), [0]);
  assert.deepEqual(Array.from(gx.dataSync()), [0, 0, 0]);
});

test('InverseGamma.logProb gradients w.r.t. alpha, beta and the value match float64 finite differences', () => {
  const r = rng(22);
  const alpha = tf.tensor(uniform(r, 3, 0.3, 5), [3, 1]);
  const beta = tf.tensor(uniform(r, 4, 0.4, 3), [4]);
  const given = tf.tensor(uniform(r, 24, 0.2, 5), [2, 3, 4]);
  const w = tf.tensor(uniform(r, 6, 0.5, 1.5), [2, 3]);
  const { got, want } = gradientsVsFiniteDiff(
    (a, b, x) => new InverseGamma({ alpha: a, beta: b, groupNdims: 1 }).logProb(x),
    (a, b, x) => oracle([x, a, b], 1, invGammaLogPdf),
    [alpha, beta, given],
    w,
  );
  // float32 autodiff (digamma through lgamma, relative ~1e-4) against
  // float64 differences (error ~1e-9): 1e-3 relative, 1e-3 absolute.
  ['alpha', 'beta', 'given'].forEach((name, i) =>
    assertClose(got[i], want[i], 1e-3, 1e-3, `d/d${name}`),
  );
});

test('InverseGamma.sample shapes; not reparameterised; samples carry no gradient', () => {
  const d = new InverseGamma({ alpha: tf.ones([3, 1]), beta: tf.ones([4]) });
  assert.equal(d.isReparameterized, false);
  assert.deepEqual(d.sample().shape, [3, 4]);
  assert.deepEqual(d.sample(1).shape, [1, 3, 4]);
  assert.deepEqual(d.sample(5).shape, [5, 3, 4]);
  assert.deepEqual(new InverseGamma({ alpha: 2, beta: 1 }).sample().shape, []);
  assert.throws(() => d.sample(2.5), /InverseGamma\.sample: `nSamples` must be a positive integer/);
  assertNoGradientPath(
    (a, b) => tf.sum(new InverseGamma({ alpha: a, beta: b }).sample(3)),
    [tf.tensor([0.5, 2]), tf.tensor([1, 3])],
    'InverseGamma sample',
  );
});

test('InverseGamma samples have the closed-form moments (seeded, 5 standard errors)', () => {
  random.setSeed(23);
  const alphas = [6, 9, 0.5, 2];
  const betas = [2, 0.5, 1.5, 3];
  const n = 20000;
  const s = new InverseGamma({ alpha: tf.tensor(alphas), beta: tf.tensor(betas) })
    .sample(n)
    .dataSync();
  alphas.forEach((a, j) => {
    const b = betas[j];
    const col = column(s, alphas.length, j);
    if (a > 4) {
      // E[X^k] = β^k / ((α − 1)⋯(α − k)), finite for k < α.
      const raw = [1, 2, 3, 4].map((k) => {
        let m = 1;
        for (let r = 1; r <= k; r++) m *= b / (a - r);
        return m;
      });
      assertMoments(col, raw, `InverseGamma(${a}, ${b})`);
    } else {
      // X has no variance for α ≤ 2; 1/X ~ Gamma(α, rate β) has all moments.
      assertMoments(
        col.map((x) => 1 / x),
        gammaRawMoments(a, b),
        `1 / InverseGamma(${a}, ${b})`,
      );
    }
  });
});

test('InverseGamma(1, β) samples follow the CDF exp(−β/x) (Kolmogorov–Smirnov)', () => {
  random.setSeed(24);
  const betas = [1, 0.2, 4];
  const n = 20000;
  const s = new InverseGamma({ alpha: 1, beta: tf.tensor(betas) }).sample(n).dataSync();
  betas.forEach((b, j) =>
    assertKs(column(s, betas.length, j), (x) => Math.exp(-b / x), `InverseGamma(1, ${b})`),
  );
});

test('InverseGamma samples stay finite in float32 for a tiny alpha', () => {
  random.setSeed(25);
  const d = new InverseGamma({ alpha: tf.tensor([0.01, 0.5]), beta: tf.tensor([1, 1e-30]) });
  const s = d.sample(2000);
  const v = s.dataSync();
  // Most Gamma(0.01) draws underflow, so 1/G would be +∞: returned as the
  // largest float32 instead; tiny draws are raised to 2^−126.
  assert.ok(
    v.every((x) => x >= 2 ** -126 && Number.isFinite(x)),
    'a sample left (0, ∞)',
  );
  assert.ok(d.logProb(s).dataSync().every(Number.isFinite), 'logProb of a sample is not finite');
});

test('InverseGamma sampling is reproducible from the seed', () => {
  const d = new InverseGamma({ alpha: tf.tensor([0.4, 3]), beta: tf.tensor([1, 2]) });
  assertReproducible(d);
});

test('InverseGamma errors name the class and the parameter', () => {
  assert.throws(
    () => new InverseGamma({ beta: 1 } as never),
    /^Error: InverseGamma: `alpha` is required$/,
  );
  assert.throws(
    () => new InverseGamma({ alpha: 1 } as never),
    /^Error: InverseGamma: `beta` is required$/,
  );
  assert.throws(
    () => new InverseGamma({ alpha: tf.ones([3]), beta: tf.ones([2]) }),
    /InverseGamma: shapes of `alpha` \[3\] and `beta` \[2\] do not broadcast/,
  );
  const v = { validateArgs: true };
  assert.throws(
    () => new InverseGamma({ alpha: 0, beta: 1, ...v }),
    /InverseGamma: `alpha` must be positive/,
  );
  assert.throws(
    () => new InverseGamma({ alpha: 1, beta: tf.tensor([1, -3]), ...v }),
    /InverseGamma: `beta` must be positive/,
  );
  const d = new InverseGamma({ alpha: 2, beta: 1, ...v });
  for (const bad of [0, -2, Infinity, NaN]) {
    assert.throws(
      () => d.logProb(tf.tensor([bad, 1])),
      /InverseGamma: values given to logProb must lie in \(0, ∞\)/,
    );
  }
  assert.doesNotThrow(() => new InverseGamma({ alpha: -1, beta: -1 }));
  setValidateArgs(true);
  try {
    assert.throws(
      () => new InverseGamma({ alpha: NaN, beta: 1 }),
      /InverseGamma: `alpha` must be positive/,
    );
  } finally {
    setValidateArgs(false);
  }
});

test('InverseGamma leaks no tensors', () => {
  const d = new InverseGamma({ alpha: tf.tensor([0.5, 2]), beta: tf.scalar(2), groupNdims: 1 });
  const dv = new InverseGamma({ alpha: tf.tensor([0.5, 2]), beta: 2, validateArgs: true });
  const x = tf.tensor([[0.5, 1.5]]);
  const outside = tf.neg(x);
  const [badAlpha, one] = [tf.tensor([-1]), tf.tensor([1])];
  assertLeakFree(
    d,
    dv,
    x,
    outside,
    () => new InverseGamma({ alpha: badAlpha, beta: one, validateArgs: true }),
  );
});
