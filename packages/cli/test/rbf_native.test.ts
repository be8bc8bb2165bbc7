/**
 * `zs.rbfKernel` on `native`, where the backend registers the fused
 * `ZsRbfKernel` and `ZsRbfKernelGrad` kernels: the kernel matrix and its
 * gradients for x, y and scale agree with the tfjs composite (the same
 * backend with the kernels unregistered, and cpu) within float32 rounding —
 * values within 1e-5 and gradients within 1e-4 of |composite| + the mean
 * |composite| of that output (the kernels sum the row norms and the
 * gradient's sums in double and in another order) — for d = 1 to 13, n ≠ m,
 * one row, x and y the same tensor (a diagonal of 1 to 1e-5, the float32
 * rounding of |x|² + |x|² − 2x·x), and the SVGP's [100, 13] × [455, 13],
 * which crosses the pool's threshold. A call runs one
 * kernel each way, its numbers do not depend on the thread count, nothing
 * leaks, and bad input names the kernel and the input.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { useBackend } from '../src/backend.js';
import {
  fusedCompositeCpu,
  lcgValues,
  maxRelErrors,
  onOneNativeThread,
  requireNative,
  withKernelNames,
} from './helpers.js';

const RBF = zs.OPTIONAL_KERNELS.rbfKernel;
const GRAD = zs.OPTIONAL_KERNELS.rbfKernelGrad;

before(requireNative);

/** n, m, d, and whether y is x itself (m = n then). */
type Case = [number, number, number, boolean];

const CASES: Case[] = [
  [4, 6, 3, false],
  [5, 3, 1, false],
  [1, 7, 2, false],
  [7, 7, 4, true],
  [100, 455, 13, false],
  [100, 100, 13, true],
];

const NAMES = ['K', 'd/dx', 'd/dy', 'd/dscale'];

/** K and the gradients of Σ K·w for x, y (absent when y is x) and scale, on the active backend. */
function kernelAndGrads([n, m, d, same]: Case): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor2d(lcgValues(n * d, 3, -1.5, 1.5), [n, d]);
    const y = same ? x : tf.tensor2d(lcgValues(m * d, 5, -1.5, 1.5), [m, d]);
    const s = tf.tensor1d(lcgValues(d, 7, 0.3, 2));
    const w = tf.tensor2d(lcgValues(n * m, 9, -1, 1), [n, m]);
    const k = zs.rbfKernel(x, y, s);
    const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(
        tf.mul(zs.rbfKernel(a as tf.Tensor2D, (same ? a : b) as tf.Tensor2D, c as tf.Tensor1D), w),
      );
    const g = tf.grads(loss)([x, y, s]);
    const out = [k, g[0], same ? tf.zeros([0]) : g[1], g[2]];
    return out.map((t) => t.dataSync() as Float32Array);
  });
}

for (const c of CASES) {
  test(`native: rbfKernel ${c[0]}×${c[1]}×${c[2]}${c[3] ? ' (y = x)' : ''}: ${RBF} matches the composite on native and cpu`, async () => {
    const { fused, composite, cpu } = await fusedCompositeCpu([RBF, GRAD], () => kernelAndGrads(c));
    for (const [what, ref] of [
      ['native composite', composite],
      ['cpu', cpu],
    ] as const) {
      maxRelErrors(fused, ref, NAMES).forEach((e, k) => {
        const tol = k === 0 ? 1e-5 : 1e-4;
        assert.ok(e <= tol, `${NAMES[k]}: fused vs ${what}: relative error ${e} > ${tol}`);
      });
    }
    if (c[3]) {
      const [n] = c;
      for (let i = 0; i < n; i++) {
        assert.ok(
          Math.abs(fused[0][i * n + i] - 1) <= 1e-5,
          `K[${i}, ${i}] = ${fused[0][i * n + i]}`,
        );
      }
    }
  });
}

test(`native: rbfKernel runs ${RBF} forward and ${GRAD} backward, no composite kernels`, async () => {
  await useBackend('native');
  const x = tf.tensor2d(lcgValues(12, 3, -1, 1), [4, 3]);
  const y = tf.tensor2d(lcgValues(15, 5, -1, 1), [5, 3]);
  const s = tf.tensor1d([0.5, 1, 2]);
  const { kernels: seen } = withKernelNames(() =>
    tf.tidy(() => {
      const g = tf.grads((a, b, c) =>
        tf.sum(zs.rbfKernel(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor1D)),
      )([x, y, s]);
      assert.equal(g.length, 3);
    }),
  );
  assert.equal(seen.filter((k) => k === RBF).length, 1, `kernels: ${seen}`);
  assert.equal(seen.filter((k) => k === GRAD).length, 1, `kernels: ${seen}`);
  for (const k of ['Exp', 'Relu', 'Step', 'Rsqrt', 'BatchMatMul']) {
    assert.ok(!seen.includes(k), `${k} ran: ${seen}`);
  }
  tf.dispose([x, y, s]);
});

test(`native: ${RBF} and ${GRAD} give the same numbers on one thread and on all`, async () => {
  await useBackend('native');
  const c: Case = [100, 455, 13, false];
  const all = kernelAndGrads(c);
  const one = onOneNativeThread(() => kernelAndGrads(c));
  all.forEach((v, k) => assert.deepEqual(v, one[k], NAMES[k]));
});

test('native: rbfKernel and its gradient leak nothing', async () => {
  await useBackend('native');
  const x = tf.tensor2d(lcgValues(40, 3, -1, 1), [10, 4]);
  const s = tf.tensor1d([0.5, 1, 2, 3]);
  const before = tf.memory().numTensors;
  const dataBefore = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) {
    const g = tf.grads((a, c) =>
      tf.sum(tf.square(zs.rbfKernel(a as tf.Tensor2D, a as tf.Tensor2D, c as tf.Tensor1D))),
    )([x, s]);
    tf.dispose(g);
    zs.rbfKernel(x, x, s).dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'tensors');
  assert.equal(tf.engine().backend.numDataIds(), dataBefore, 'backend data');
  tf.dispose([x, s]);
});

test(`native: bad input to ${RBF} and ${GRAD} names the kernel and the input`, async () => {
  await useBackend('native');
  const eng = tf.engine();
  const call = (name: string, inputs: Record<string, tf.Tensor>) =>
    tf.tidy(() => eng.runKernel(name, inputs, {}));
  tf.tidy(() => {
    const x = tf.zeros([3, 2]);
    const y = tf.zeros([4, 2]);
    const s = tf.ones([2]);
    assert.throws(() => call(RBF, { x, y }), new RegExp(`${RBF}: inputs x, y and scale`));
    assert.throws(
      () => call(RBF, { x, y: tf.zeros([4, 3]), scale: s }),
      new RegExp(`${RBF}: .*must share their last axis`),
    );
    assert.throws(
      () => call(RBF, { x: tf.zeros([3]), y, scale: s }),
      new RegExp(`${RBF}: x and y must be matrices`),
    );
    assert.throws(
      () => call(RBF, { x: tf.zeros([3, 2], 'int32'), y, scale: s }),
      new RegExp(`${RBF}: x must be a float32 tensor`),
    );
    assert.throws(
      () => call(GRAD, { dk: tf.zeros([3, 3]), kh: tf.zeros([3, 4]), x, y, scale: s }),
      new RegExp(`${GRAD}: dk has shape \\[3,3\\], expected \\[3,4\\]`),
    );
  });
});
