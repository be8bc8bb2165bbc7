/**
 * `expandTo`: tfjs' broadcastTo with a gradient that sums over the broadcast
 * axes in one reduction, at any rank (tfjs' Tile gradient adds slices one at
 * a time and stops at rank 4), and what it fixes in the distributions.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { MultivariateNormalCholesky } from '../src/distributions/multivariate_normal.js';
import { expandTo } from '../src/kernels.js';
import { setSeed } from '../src/random.js';
import { assertClose, noLeak, rng, uniform, useCpu } from './helpers.js';

before(useCpu);

/** Row-major strides of `shape`. */
function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** The index into an array of `inShape` (right-aligned, broadcast) of output element `flat`. */
function sourceIndex(flat: number, outShape: number[], inShape: number[]): number {
  const os = strides(outShape);
  const is = strides(inShape);
  const lead = outShape.length - inShape.length;
  let idx = 0;
  for (let d = 0; d < outShape.length; d++) {
    const c = Math.floor(flat / os[d]) % outShape[d];
    const k = d - lead;
    if (k >= 0 && inShape[k] !== 1) idx += c * is[k];
  }
  return idx;
}

const CASES: Array<[number[], number[]]> = [
  [[], [200]],
  [[3], [4, 3]],
  [
    [1, 3],
    [5, 3],
  ],
  [
    [2, 1],
    [2, 6],
  ],
  [
    [3, 3],
    [2, 2, 2, 3, 3],
  ],
  [
    [1, 2, 1, 3],
    [2, 3, 2, 4, 3],
  ],
  [
    [2, 3],
    [2, 3],
  ],
];

test('expandTo: the values of tf.broadcastTo; the gradient sums dy over the broadcast axes (float64)', () => {
  const r = rng(7);
  for (const [inShape, outShape] of CASES) {
    const nIn = inShape.reduce((a, b) => a * b, 1);
    const nOut = outShape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(uniform(r, nIn, -2, 2), inShape);
    const dyv = uniform(r, nOut, -1, 1);
    const dy = tf.tensor(dyv, outShape);
    const what = `[${inShape}] → [${outShape}]`;
    noLeak(what, () => {
      const y = expandTo(x, outShape);
      assert.deepEqual(y.shape, outShape, what);
      assert.deepEqual(
        y.dataSync(),
        tf.tidy(() => tf.broadcastTo(x, outShape).dataSync()),
        what,
      );
      y.dispose();
      tf.engine().startScope();
      const [g] = tf.grads((t: tf.Tensor) => expandTo(t, outShape))([x], dy);
      const want = new Array<number>(nIn).fill(0);
      for (let i = 0; i < nOut; i++) want[sourceIndex(i, outShape, inShape)] += dyv[i];
      assert.deepEqual(g.shape, inShape, what);
      assertClose(g.dataSync(), want, 1e-5, 1e-5, what);
      tf.engine().endScope();
    });
    x.dispose();
    dy.dispose();
  }
});

test('expandTo returns a new tensor when the shape is already right', () => {
  const x = tf.tensor([1, 2, 3]);
  const y = expandTo(x, [3]);
  assert.notEqual(y, x);
  y.dispose();
  assert.deepEqual(Array.from(x.dataSync()), [1, 2, 3], 'x survives disposing the result');
  x.dispose();
});

test('expandTo runs one reduction in the backward pass, not a slice and an add per repeat', () => {
  const x = tf.scalar(0.5);
  const kernels: string[] = [];
  const profile = tf.profile(() => {
    const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(expandTo(t, [200]), 2)))([x]);
    return g;
  });
  return profile.then((p) => {
    for (const k of p.kernels) kernels.push(k.name);
    assert.equal(kernels.filter((k) => k === 'Slice').length, 0, kernels.join(' '));
    assert.ok(kernels.length < 30, `${kernels.length} kernels: ${kernels.join(' ')}`);
    x.dispose();
  });
});

test('MultivariateNormalCholesky samples with a rank-3 batch differentiate w.r.t. L (a rank-5 broadcast)', () => {
  // d/dL_ij Σ x = Σ_{s, batch} ε_j (i ≥ j), 0 above; ε = L⁻¹(x − mean).
  const lv = [1.2, 0, -0.5, 0.8];
  const l = tf.tensor(lv, [2, 2]);
  const mean = tf.zeros([2, 1, 3, 2]);
  const n = 4;
  setSeed(81);
  const x = new MultivariateNormalCholesky({ mean, cholTril: l }).sample(n);
  assert.deepEqual(x.shape, [n, 2, 1, 3, 2]);
  const xs = Array.from(x.dataSync());
  x.dispose();
  setSeed(81);
  const [gl] = tf.grads((b: tf.Tensor) =>
    tf.sum(new MultivariateNormalCholesky({ mean, cholTril: b }).sample(n)),
  )([l]);
  const e = [0, 0];
  for (let i = 0; i < xs.length; i += 2) {
    const e0 = xs[i] / lv[0];
    e[0] += e0;
    e[1] += (xs[i + 1] - lv[2] * e0) / lv[3];
  }
  assertClose(gl.dataSync(), [e[0], 0, e[0], e[1]], 1e-4, 1e-4, 'd/dcholTril');
  tf.dispose([gl, l, mean]);
});
