import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Laplace } from '../../src/distributions/laplace.js';
import { setValidateArgs } from '../../src/distributions/base.js';
import * as random from '../../src/random.js';
import {
  assertClose,
  assertNoGradientPath,
  meanStd,
  noLeak,
  readGrads,
  useCpu,
} from '../helpers.js';
import {
  assertLocScaleLogProbTable,
  assertSampleShapes,
  centralDiff,
  column,
  withStandInUniform,
} from './oracles.js';

before(useCpu);

/** log Laplace(x; loc, scale) in float64. */
const laplaceLogPdf = (x: number, loc: number, scale: number): number =>
  -Math.log(2 * scale) - Math.abs(x - loc) / scale;

test('Laplace.logProb matches the float64 closed form (broadcasting, groupNdims)', () => {
  assertLocScaleLogProbTable({
    name: 'Laplace',
    make: (p) => new Laplace(p),
    logPdf: laplaceLogPdf,
    seed: 1,
    given: [-4, 4],
  });
});

test('Laplace.sample shapes: no sample axis without nSamples, a leading one with it; no leaks', () => {
  const d = new Laplace({ loc: tf.zeros([2, 1]), scale: tf.ones([3]) });
  assert.equal(d.isReparameterized, true);
  assert.equal(d.isContinuous, true);
  assert.equal(d.dtype, 'float32');
  assertSampleShapes(d, [2, 3]);
  assert.throws(() => d.sample(2.5), /Laplace\.sample: `nSamples` must be a positive integer/);
});

test('Laplace samples have the right mean and variance (seeded)', () => {
  random.setSeed(3);
  const loc = [0.5, -1];
  const scale = [1, 0.3];
  const n = 20000;
  const s = new Laplace({ loc: tf.tensor(loc), scale: tf.tensor(scale) }).sample(n).dataSync();
  assert.ok(s.every(Number.isFinite));
  for (let j = 0; j < 2; j++) {
    const col = column(s, 2, j);
    const b = scale[j];
    const { mean, std } = meanStd(col);
    // 5 standard errors: var = 2b², sd(mean) = sqrt(2b²/n); sd(sample
    // variance) ≈ sqrt((μ4 − σ⁴)/n) with μ4 = 24b⁴, σ⁴ = 4b⁴.
    const seMean = Math.sqrt((2 * b * b) / n);
    const seVar = Math.sqrt((20 * b ** 4) / n);
    assert.ok(Math.abs(mean - loc[j]) < 5 * seMean, `mean ${mean} (col ${j})`);
    assert.ok(Math.abs(std ** 2 - 2 * b * b) < 5 * seVar, `variance ${std ** 2} (col ${j})`);
  }
});

test('Laplace sampling is reproducible from the seed', () => {
  const d = new Laplace({ loc: tf.zeros([4]), scale: 2 });
  random.setSeed(42);
  const x = d.sample(3).dataSync();
  const y = d.sample(3).dataSync();
  random.setSeed(42);
  assert.deepEqual(d.sample(3).dataSync(), x);
  assert.notDeepEqual(x, y);
});

test('the inverse CDF maps uniforms as it should and never returns ±Infinity (stand-in uniform kernel)', () => {
  // A stand-in for the optional uniform kernel returning chosen values of u
  // on (−1, 1), the endpoints included (float32 rounding can produce them).
  const B = 1 - 2 ** -24;
  const values = [-1, 1, 0, 0.5, -0.5, B, -B];
  withStandInUniform(values, () => {
    const [loc, scale] = [1, 2];
    const s = new Laplace({ loc, scale }).sample(values.length).dataSync();
    // loc − scale·sign(u)·log(1 − |u|), |u| capped at B: log(1 − B) = −24·log 2.
    const tail = 24 * Math.LN2;
    assertClose(
      s,
      [
        loc - scale * tail,
        loc + scale * tail,
        loc,
        loc + scale * Math.LN2,
        loc - scale * Math.LN2,
      ].concat([loc + scale * tail, loc - scale * tail]),
      1e-6,
      1e-6,
      'samples',
    );
  });
});

test('reparameterised gradients of E[s²] match the closed form; none when not reparameterised', () => {
  random.setSeed(5);
  const [loc, scale] = [0.4, 0.8];
  const n = 20000;
  let samples: Float32Array = new Float32Array();
  const params = [tf.scalar(loc), tf.scalar(scale)];
  const [[dLoc], [dScale]] = readGrads((l: tf.Tensor, b: tf.Tensor) => {
    const s = new Laplace({ loc: l, scale: b }).sample(n);
    samples = s.dataSync() as Float32Array;
    return tf.mean(tf.square(s));
  }, params);
  // Pathwise: ds/dloc = 1, ds/dscale = (s − loc)/scale; each draw contributes 2s·ds/dθ.
  const termLoc = Array.from(samples, (s) => 2 * s);
  const termScale = Array.from(samples, (s) => (2 * s * (s - loc)) / scale);
  const mL = meanStd(termLoc);
  const mS = meanStd(termScale);
  assertClose(dLoc, mL.mean, 1e-4, 1e-5, 'pathwise d/dloc');
  assertClose(dScale, mS.mean, 1e-4, 1e-5, 'pathwise d/dscale');
  // E[s²] = loc² + 2·scale²: d/dloc = 2·loc, d/dscale = 4·scale. 5 standard errors.
  assert.ok(Math.abs(dLoc - 2 * loc) < (5 * mL.std) / Math.sqrt(n), `d/dloc ${dLoc}`);
  assert.ok(Math.abs(dScale - 4 * scale) < (5 * mS.std) / Math.sqrt(n), `d/dscale ${dScale}`);

  assertNoGradientPath(
    (l, b) => tf.sum(new Laplace({ loc: l, scale: b, isReparameterized: false }).sample(10)),
    params,
    'not reparameterised',
  );
});

test('gradients of Laplace.logProb match float64 finite differences', () => {
  const loc = [0.3, -1, 2];
  const scale = [0.7, 1.5, 0.4];
  const x = [1, -2, 1.5];
  const [dLoc, dScale, dX] = tf.grads((l: tf.Tensor, b: tf.Tensor, v: tf.Tensor) =>
    new Laplace({ loc: l, scale: b }).logProb(v),
  )([tf.tensor(loc), tf.tensor(scale), tf.tensor(x)]);
  const fd = (k: number): number[] =>
    loc.map((_, i) => centralDiff(laplaceLogPdf, [x[i], loc[i], scale[i]], k, 1e-6));
  assertClose(dX.dataSync(), fd(0), 1e-4, 1e-5, 'd/dx');
  assertClose(dLoc.dataSync(), fd(1), 1e-4, 1e-5, 'd/dloc');
  assertClose(dScale.dataSync(), fd(2), 1e-4, 1e-5, 'd/dscale');
});

test('Laplace parameter errors name the argument', () => {
  assert.throws(() => new Laplace({ scale: 1 } as never), /Laplace: `loc` is required/);
  assert.throws(() => new Laplace({ loc: 0 } as never), /Laplace: `scale` is required/);
  assert.throws(
    () => new Laplace({ loc: tf.zeros([3]), scale: tf.ones([4]) }),
    /Laplace: shapes of `loc` \[3\] and `scale` \[4\] do not broadcast/,
  );
  assert.throws(
    () => new Laplace({ loc: tf.zeros([3]), scale: 1, groupNdims: 2 }),
    /Laplace: `groupNdims` \(2\) exceeds/,
  );
  assert.throws(
    () => new Laplace({ loc: tf.zeros([3]), scale: 1 }).logProb(tf.zeros([2])),
    /Laplace: shapes of `given` \[2\] and `batch and value shape` \[3\] do not broadcast/,
  );
});

test('validateArgs requires scale > 0 (NaN too), leaks nothing; off by default', () => {
  for (const scale of [tf.tensor([1, 0]), tf.tensor([1, -2]), tf.tensor([NaN, 1])]) {
    noLeak('failed check', () =>
      assert.throws(
        () => new Laplace({ loc: 0, scale, validateArgs: true }),
        /Laplace: `scale` must be positive/,
      ),
    );
    assert.doesNotThrow(() => new Laplace({ loc: 0, scale }));
  }
  const ok = tf.tensor([1, 2]);
  const loc = tf.zeros([2]);
  noLeak('passed check', () => new Laplace({ loc, scale: ok, validateArgs: true }));
  setValidateArgs(true);
  try {
    assert.throws(() => new Laplace({ loc: 0, scale: 0 }), /`scale` must be positive/);
  } finally {
    setValidateArgs(false);
  }
});
