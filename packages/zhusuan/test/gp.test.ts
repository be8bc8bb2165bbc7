/**
 * zs.rbfKernel on the cpu backend (the tfjs composite) against a float64
 * oracle: values within 1e-5 relative and the gradients of a weighted sum
 * for x, y and scale within 1e-4 of the closed form, over shapes with d = 1,
 * n ≠ m and n = 1, and with x and y the same tensor (the gradients of both
 * uses summed, the clipped diagonal contributing nothing); errors naming the
 * argument at fault; no tensor left behind. The native backend's kernels
 * are checked against this composite in packages/cli/test/rbf_native.test.ts.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../src/index.js';
import { assertClose, noLeak, read, readGrads, rng, uniform, useCpu } from './helpers.js';

before(useCpu);

/** K [n, m] in float64, and the gradients of Σ w·K for x [n, d], y [m, d] and s [d]. */
function rbf64(x: number[], y: number[], s: number[], w: number[], n: number, m: number) {
  const d = s.length;
  const k = new Array<number>(n * m).fill(0);
  const gx = new Array<number>(n * d).fill(0);
  const gy = new Array<number>(m * d).fill(0);
  const gs = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < m; c++) {
      let sq = 0;
      for (let j = 0; j < d; j++) sq += (x[i * d + j] - y[c * d + j]) ** 2 / s[j];
      const kv = Math.exp(-0.5 * sq);
      k[i * m + c] = kv;
      const wk = w[i * m + c] * kv;
      for (let j = 0; j < d; j++) {
        const diff = x[i * d + j] - y[c * d + j];
        gx[i * d + j] -= (wk * diff) / s[j];
        gy[c * d + j] += (wk * diff) / s[j];
        gs[j] += (0.5 * wk * diff * diff) / (s[j] * s[j]);
      }
    }
  }
  return { k, gx, gy, gs };
}

const SHAPES: Array<[number, number, number]> = [
  [4, 6, 3],
  [5, 3, 1],
  [1, 7, 2],
  [9, 9, 13],
];

test('rbfKernel: values and x, y and scale gradients against float64', () => {
  const r = rng(11);
  for (const [n, m, d] of SHAPES) {
    const x = uniform(r, n * d, -1.5, 1.5);
    const y = uniform(r, m * d, -1.5, 1.5);
    const s = uniform(r, d, 0.4, 2);
    const w = uniform(r, n * m, -1, 1);
    const want = rbf64(x, y, s, w, n, m);
    const args = [tf.tensor2d(x, [n, d]), tf.tensor2d(y, [m, d]), tf.tensor1d(s)];
    const wt = tf.tensor2d(w, [n, m]);
    const got = noLeak('value', () =>
      read(zs.rbfKernel(args[0] as tf.Tensor2D, args[1] as tf.Tensor2D, args[2] as tf.Tensor1D)),
    );
    assert.deepEqual(got.shape, [n, m]);
    assertClose(got.data, want.k, 1e-5, 1e-7, `K ${n}x${m}x${d}`);
    const [gx, gy, gs] = readGrads(
      (a, b, c) =>
        tf.sum(tf.mul(zs.rbfKernel(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor1D), wt)),
      args,
    );
    assertClose(gx, want.gx, 1e-4, 1e-5, `dx ${n}x${m}x${d}`);
    assertClose(gy, want.gy, 1e-4, 1e-5, `dy ${n}x${m}x${d}`);
    assertClose(gs, want.gs, 1e-4, 1e-5, `dscale ${n}x${m}x${d}`);
    tf.dispose([...args, wt]);
  }
});

test('rbfKernel(x, x, scale): a diagonal of 1 (to 1e-6) and the summed gradient', () => {
  const r = rng(12);
  for (const [n, d] of [
    [6, 2],
    [4, 1],
  ]) {
    const x = uniform(r, n * d, -1, 1);
    const s = uniform(r, d, 0.5, 1.5);
    const w = uniform(r, n * n, -1, 1);
    const want = rbf64(x, x, s, w, n, n);
    const xt = tf.tensor2d(x, [n, d]);
    const st = tf.tensor1d(s);
    const wt = tf.tensor2d(w, [n, n]);
    const k = noLeak('value', () => read(zs.rbfKernel(xt, xt, st)));
    for (let i = 0; i < n; i++) assert.ok(Math.abs(k.data[i * n + i] - 1) <= 1e-6, `K[${i}, ${i}]`);
    assertClose(k.data, want.k, 1e-5, 1e-7, `K(x, x) ${n}x${d}`);
    const [gx, gs] = readGrads(
      (a, c) =>
        tf.sum(tf.mul(zs.rbfKernel(a as tf.Tensor2D, a as tf.Tensor2D, c as tf.Tensor1D), wt)),
      [xt, st],
    );
    assertClose(
      gx,
      want.gx.map((v, i) => v + want.gy[i]),
      1e-4,
      1e-5,
      `dx ${n}x${d}`,
    );
    assertClose(gs, want.gs, 1e-4, 1e-5, `dscale ${n}x${d}`);
    tf.dispose([xt, st, wt]);
  }
});

test('rbfKernel: shapes that do not fit are errors naming the argument', () => {
  const x = tf.zeros([3, 2]) as tf.Tensor2D;
  const y = tf.zeros([4, 2]) as tf.Tensor2D;
  noLeak('errors', () =>
    tf.tidy(() => {
      assert.throws(
        () => zs.rbfKernel(tf.zeros([3]) as unknown as tf.Tensor2D, y, tf.ones([2])),
        /rbfKernel: x and y must be matrices/,
      );
      assert.throws(
        () => zs.rbfKernel(x, tf.zeros([4, 3]) as tf.Tensor2D, tf.ones([2])),
        /share d/,
      );
      assert.throws(() => zs.rbfKernel(x, y, tf.ones([3])), /scale \[3\]/);
    }),
  );
  tf.dispose([x, y]);
});
