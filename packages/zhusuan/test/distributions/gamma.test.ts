import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setValidateArgs } from '../../src/distributions/base.js';
import { Gamma } from '../../src/distributions/gamma.js';
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

function gammaLogPdf(x: number, a: number, b: number): number {
  return a * Math.log(b) - lgamma64(a) + (a - 1) * Math.log(x) - b * x;
}

/**
 * The regularised lower incomplete gamma function P(a, x) in float64: the
 * series x^a e^−x Σ xⁿ / (a(a+1)⋯(a+n)) / Γ(a) below x = a + 1, else
 * 1 − Q(a, x) with Q from its continued fraction (modified Lentz).
 */
function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  if (x === Infinity) return 1;
  const logPrefix = a * Math.log(x) - x - lgamma64(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return Math.exp(logPrefix) * sum;
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 - Math.exp(logPrefix) * h;
}

/** The p-quantile of Gamma(a, 1) by bisection on gammaP. */
function gammaQuantile(a: number, p: number): number {
  let lo = 0;
  let hi = a + 40 * Math.sqrt(a) + 40;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (gammaP(a, mid) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

// ---- tests -------------------------------------------------------------------

test('Gamma.logProb matches the float64 density (broadcasting, groupNdims)', () => {
  assertAlphaBetaLogProbTable({
    name: 'Gamma',
    make: (p) => new Gamma(p),
    pdf: gammaLogPdf,
    seed: 1,
    beta: [0.3, 3],
    given: [0.01, 6],
  });
});

test('Gamma.logProb is −∞ off the support, NaN only for NaN, with finite gradients', () => {
  const alpha = tf.tensor([0.5, 1, 2, 1, 2, 1]);
  const beta = tf.scalar(1.5);
  const x = tf.tensor([0, 0, 0, -1, Infinity, NaN]);
  const lp = new Gamma({ alpha, beta }).logProb(x).arraySync() as number[];
  assert.deepEqual(lp.slice(0, 5), [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity]);
  assert.ok(Number.isNaN(lp[5]));
  // Without the double `where`, d/dα of (α − 1)·log x would be 0·(−∞) = NaN here.
  const [ga, gb] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(new Gamma({ alpha: a, beta: b }).logProb(x.slice(0, 5))),
  )([alpha.slice(0, 5), beta]);
  assert.deepEqual(Array.from(ga.dataSync()), [0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(gb.dataSync()), [0]);
  // A tiny positive value is in the support: finite.
  const tiny = new Gamma({ alpha: 0.3, beta: 1 }).logProb(tf.tensor([1e-30, 2 ** -126]));
  assert.ok(tiny.dataSync().every(Number.isFinite));
  // int32 values are read as float.
  assertClose(
    new Gamma({ alpha: 2, beta: 3 }).logProb(tf.tensor([1, 2], [2], 'int32')).dataSync(),
    [gammaLogPdf(1, 2, 3), gammaLogPdf(2, 2, 3)],
    1e-5,
    1e-5,
    'int32',
  );
});

test('Gamma.logProb gradients w.r.t. alpha, beta and the value match float64 finite differences', () => {
  const r = rng(2);
  const alpha = tf.tensor(uniform(r, 3, 0.3, 5), [3, 1]);
  const beta = tf.tensor(uniform(r, 4, 0.4, 3), [4]);
  const given = tf.tensor(uniform(r, 24, 0.05, 5), [2, 3, 4]);
  const w = tf.tensor(uniform(r, 6, 0.5, 1.5), [2, 3]); // weights of the grouped log densities
  const { got, want } = gradientsVsFiniteDiff(
    (a, b, x) => new Gamma({ alpha: a, beta: b, groupNdims: 1 }).logProb(x),
    (a, b, x) => oracle([x, a, b], 1, gammaLogPdf),
    [alpha, beta, given],
    w,
  );
  // float32 autodiff (digamma through lgamma, relative ~1e-4) against
  // float64 differences (error ~1e-9): 1e-3 relative, 1e-3 absolute.
  ['alpha', 'beta', 'given'].forEach((name, i) =>
    assertClose(got[i], want[i], 1e-3, 1e-3, `d/d${name}`),
  );
});

test('Gamma.sample shapes; not reparameterised; samples carry no gradient', () => {
  const d = new Gamma({ alpha: tf.ones([3, 1]), beta: tf.ones([4]) });
  assert.equal(d.isReparameterized, false);
  assert.equal(d.isContinuous, true);
  assert.deepEqual(d.sample().shape, [3, 4]);
  assert.deepEqual(d.sample(1).shape, [1, 3, 4]);
  assert.deepEqual(d.sample(5).shape, [5, 3, 4]);
  assert.deepEqual(new Gamma({ alpha: 2, beta: 1 }).sample().shape, []);
  assert.deepEqual(new Gamma({ alpha: 2, beta: 1 }).sample(7).shape, [7]);
  assert.throws(() => d.sample(0), /Gamma\.sample: `nSamples` must be a positive integer/);
  assertNoGradientPath(
    (a, b) => tf.sum(new Gamma({ alpha: a, beta: b }).sample(3)),
    [tf.tensor([0.5, 2]), tf.tensor([1, 3])],
    'Gamma sample',
  );
});

test('Gamma samples have the closed-form mean and variance (seeded, 5 standard errors)', () => {
  random.setSeed(3);
  const alphas = [0.3, 1, 2.5, 10];
  const betas = [2, 0.5, 1, 3];
  const n = 20000;
  const s = new Gamma({ alpha: tf.tensor(alphas), beta: tf.tensor(betas) }).sample(n).dataSync();
  alphas.forEach((a, j) => {
    const b = betas[j];
    assertMoments(column(s, 4, j), gammaRawMoments(a, b), `Gamma(${a}, ${b})`);
  });
});

test('the float64 incomplete-gamma oracle is right (closed forms for integer shape, recurrence)', () => {
  for (const x of [0.01, 0.5, 1, 3, 7.5, 20]) {
    assertClose(gammaP(1, x), -Math.expm1(-x), 1e-13, 1e-15, `P(1, ${x})`);
    let tail = 0;
    for (let k = 0, t = 1; k < 5; k++, t *= x / k) tail += t;
    assertClose(gammaP(5, x), 1 - Math.exp(-x) * tail, 1e-12, 1e-15, `P(5, ${x})`);
    // P(a + 1, x) = P(a, x) − x^a e^−x / Γ(a + 1), across the two branches.
    const a = 0.3;
    const down = Math.exp(a * Math.log(x) - x - lgamma64(a + 1));
    assertClose(gammaP(a + 1, x), gammaP(a, x) - down, 1e-12, 1e-14, `P(1.3, ${x})`);
  }
});

test('Gamma samples follow the CDF for alpha = 0.3, 1, 5 (Kolmogorov–Smirnov and quantile counts)', () => {
  random.setSeed(4);
  const alphas = [0.3, 1, 5, 0.3];
  const betas = [1, 1, 1, 2.5]; // the last one checks the division by the rate
  const n = 20000;
  const s = new Gamma({ alpha: tf.tensor(alphas), beta: tf.tensor(betas) }).sample(n).dataSync();
  alphas.forEach((a, j) => {
    const b = betas[j];
    const xs = column(s, 4, j);
    assertKs(xs, (x) => gammaP(a, b * x), `Gamma(${a}, ${b})`);
    // The tails, where KS is weak: counts below the 0.1%, 1% and 99%, 99.9%
    // quantiles within 5 binomial standard errors.
    for (const p of [0.001, 0.01, 0.5, 0.99, 0.999]) {
      const q = gammaQuantile(a, p) / b;
      const count = xs.filter((x) => x < q).length;
      const se = Math.sqrt(n * p * (1 - p));
      assert.ok(
        Math.abs(count - n * p) < 5 * se,
        `Gamma(${a}, ${b}): ${count} samples below the ${p}-quantile, expected ${n * p} ± ${se}`,
      );
    }
  });
});

test('Gamma samples stay in the support in float32 for a tiny alpha', () => {
  random.setSeed(5);
  const d = new Gamma({ alpha: tf.tensor([0.01, 1e-4]), beta: tf.tensor([1, 1e-3]) });
  const s = d.sample(2000);
  const v = s.dataSync();
  // Most Gamma(0.01) draws lie below float32's range (P(X < 2^−126) ≈ 0.4):
  // they are returned as 2^−126, never 0.
  assert.ok(
    v.every((x) => x >= 2 ** -126 && Number.isFinite(x)),
    'a sample left (0, ∞)',
  );
  assert.ok(
    v.some((x) => x > 2 ** -126),
    'all samples underflowed',
  );
  assert.ok(d.logProb(s).dataSync().every(Number.isFinite), 'logProb of a sample is not finite');
});

test('Gamma sampling is reproducible from the seed', () => {
  const d = new Gamma({ alpha: tf.tensor([0.4, 3]), beta: tf.tensor([1, 2]) });
  assertReproducible(d);
});

test('Gamma errors name the class and the parameter', () => {
  assert.throws(() => new Gamma({ beta: 1 } as never), /^Error: Gamma: `alpha` is required$/);
  assert.throws(() => new Gamma({ alpha: 1 } as never), /^Error: Gamma: `beta` is required$/);
  assert.throws(
    () => new Gamma({ alpha: tf.ones([3]), beta: tf.ones([4]) }),
    /Gamma: shapes of `alpha` \[3\] and `beta` \[4\] do not broadcast/,
  );
  assert.throws(
    () => new Gamma({ alpha: tf.ones([3]), beta: 1, groupNdims: 2 }),
    /Gamma: `groupNdims` \(2\) exceeds/,
  );
  assert.throws(
    () => new Gamma({ alpha: tf.ones([3]), beta: 1 }).logProb(tf.ones([2])),
    /Gamma: shapes of `given` \[2\] and `batch and value shape` \[3\] do not broadcast/,
  );
  const v = { validateArgs: true };
  assert.throws(
    () => new Gamma({ alpha: tf.tensor([1, 0]), beta: 1, ...v }),
    /Gamma: `alpha` must be positive/,
  );
  assert.throws(
    () => new Gamma({ alpha: tf.tensor([1, NaN]), beta: 1, ...v }),
    /Gamma: `alpha` must be positive/,
  );
  assert.throws(() => new Gamma({ alpha: 1, beta: -2, ...v }), /Gamma: `beta` must be positive/);
  const d = new Gamma({ alpha: 2, beta: 1, ...v });
  for (const bad of [0, -1, Infinity, NaN]) {
    assert.throws(
      () => d.logProb(tf.tensor([1, bad])),
      /Gamma: values given to logProb must lie in \(0, ∞\)/,
    );
  }
  assert.doesNotThrow(() => d.logProb(tf.tensor([1e-20, 1e20])).dispose());
  // Off by default: no check, −∞ off the support.
  assert.doesNotThrow(() => new Gamma({ alpha: -1, beta: 0 }));
  assert.equal(new Gamma({ alpha: 2, beta: 1 }).logProb(tf.scalar(-1)).dataSync()[0], -Infinity);
  setValidateArgs(true);
  try {
    assert.throws(() => new Gamma({ alpha: 1, beta: 0 }), /Gamma: `beta` must be positive/);
  } finally {
    setValidateArgs(false);
  }
});

test('Gamma leaks no tensors', () => {
  const d = new Gamma({ alpha: tf.tensor([0.5, 2]), beta: tf.scalar(2), groupNdims: 1 });
  const dv = new Gamma({ alpha: tf.tensor([0.5, 2]), beta: 2, validateArgs: true });
  const x = tf.tensor([[0.5, 1.5]]);
  const outside = tf.neg(x);
  const [badAlpha, one] = [tf.tensor([-1]), tf.tensor([1])];
  assertLeakFree(
    d,
    dv,
    x,
    outside,
    () => new Gamma({ alpha: badAlpha, beta: one, validateArgs: true }),
  );
});
