import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { lbeta, lgamma, lgammaHalfStep, logFactorial } from '../src/special.js';
import { assertClose, lgamma64, logFact64, noLeak, useCpu } from './helpers.js';

before(useCpu);

/** The digamma function in float64, by central differences of {@link lgamma64}. */
function digamma64(x: number): number {
  const h = 1e-5 * Math.max(1, x);
  return (lgamma64(x + h) - lgamma64(x - h)) / (2 * h);
}

const XS = [1e-4, 0.01, 0.1, 0.5, 0.9, 1, 1.5, 2, 2.5, 3.7, 7.9, 8, 10, 33.3, 100, 1e3, 1e4, 1e6];

test('lgamma matches a float64 oracle from 1e-4 to 1e6', () => {
  const x = tf.tensor(XS);
  const got = noLeak('lgamma', () => {
    const y = lgamma(x);
    const v = y.dataSync();
    y.dispose();
    return v;
  });
  // float32: a few ulps of the result's magnitude, and ~2e-6 absolute near the zeros at 1 and 2.
  assertClose(got, XS.map(lgamma64), 3e-6, 3e-6, 'lgamma');
  // Known values exactly: Γ(1) = Γ(2) = 1, Γ(1/2) = √π, Γ(10) = 9!.
  assertClose(
    lgamma(tf.tensor([1, 2, 0.5, 10])).dataSync(),
    [0, 0, 0.5 * Math.log(Math.PI), Math.log(362880)],
    2e-6,
    2e-6,
    'known',
  );
});

test('the gradient of lgamma is the digamma function', () => {
  const xs = [0.05, 0.3, 1, 2.5, 9, 50, 400];
  const g = tf.grad((x: tf.Tensor) => tf.sum(lgamma(x)))(tf.tensor(xs));
  // digamma(0.05) ≈ −20.6: relative 1e-4 covers float32 rounding through the composite.
  assertClose(g.dataSync(), xs.map(digamma64), 1e-4, 1e-5, 'digamma');
});

test('lgamma: +Infinity at the pole at 0, NaN below 0, int32 input is read as float', () => {
  const y = lgamma(tf.tensor([0, -1.5, -0.5, 3])).dataSync();
  assert.equal(y[0], Infinity);
  assert.ok(Number.isNaN(y[1]) && Number.isNaN(y[2]), `got ${Array.from(y)}`);
  assertClose(y[3], Math.log(2), 2e-6, 2e-6, 'lgamma(3)');
  const yi = lgamma(tf.tensor([4, 5], undefined, 'int32'));
  assert.equal(yi.dtype, 'float32');
  assertClose(yi.dataSync(), [Math.log(6), Math.log(24)], 2e-6, 2e-6, 'int32');
});

test('lbeta broadcasts and matches log B(a, b)', () => {
  const a = tf.tensor([[0.5], [2], [7.5]]);
  const b = tf.tensor([0.5, 1, 3]);
  const got = noLeak('lbeta', () => {
    const y = lbeta(a, b);
    const v = { shape: y.shape, data: y.dataSync() };
    y.dispose();
    return v;
  });
  assert.deepEqual(got.shape, [3, 3]);
  const want: number[] = [];
  for (const ai of [0.5, 2, 7.5]) {
    for (const bj of [0.5, 1, 3]) want.push(lgamma64(ai) + lgamma64(bj) - lgamma64(ai + bj));
  }
  // B(1/2, 1/2) = π.
  assertClose(got.data[0], Math.log(Math.PI), 3e-6, 3e-6, 'B(1/2,1/2)');
  assertClose(got.data, want, 1e-5, 5e-6, 'lbeta');
});

test('logFactorial matches the float64 sum of logs across its table boundary', () => {
  for (const k of [0, 1, 2, 10, 100, 255, 256, 257, 1000, 12345]) {
    assertClose(logFactorial(k), logFact64(k), 1e-13, 1e-13, `log ${k}!`);
  }
});

test('lgammaHalfStep is log Γ(a + ½) − log Γ(a) to 2e-6 absolute from 1e-4 to 1e7, with its gradient', () => {
  const as = [1e-4, 0.01, 0.1, 0.5, 1, 2.5, 7.9, 8, 33.3, 1e3, 1e5, 1e7];
  const a = tf.tensor(as);
  const got = noLeak('lgammaHalfStep', () => {
    const y = lgammaHalfStep(a);
    const v = y.dataSync();
    y.dispose();
    return v;
  });
  const want = as.map((v) => lgamma64(v + 0.5) - lgamma64(v));
  // Values from −9.2 to 8.1; no cancellation of large terms, so 2e-6 absolute
  // plus 1e-6 relative where lgamma(a + ½) − lgamma(a) in float32 is off by
  // up to ~1 at a = 1e7.
  assertClose(got, want, 1e-6, 2e-6, 'lgammaHalfStep');
  const g = tf.grad((x: tf.Tensor) => tf.sum(lgammaHalfStep(x)))(tf.tensor([0.3, 4, 50]));
  assertClose(
    g.dataSync(),
    [0.3, 4, 50].map((v) => digamma64(v + 0.5) - digamma64(v)),
    1e-4,
    1e-5,
    'ψ(a + ½) − ψ(a)',
  );
});
