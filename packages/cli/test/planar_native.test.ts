/**
 * `PlanarFlow` on `native`, where the backend registers the fused
 * `ZsPlanarStep` and `ZsPlanarStepGrad` kernels: the step's values and its
 * gradients for x, w, û and b agree with the tfjs composite (the same
 * backend with the kernels unregistered, and cpu) within float32 rounding —
 * values within 1e-5 and gradients within 1e-4 of |composite| + the mean
 * |composite| of that output (the kernels take dot products and sums over
 * rows in double, the composite in float32) — for x of rank 1 to 3, dim 1,
 * 2 and 40, 1 to 5000 rows, and w·û far into both tails of the softplus.
 * A step runs one kernel each way, its gradient does not depend on the
 * thread count, nothing leaks, and bad input names the kernel and the input.
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

const STEP = zs.OPTIONAL_KERNELS.planarStep;
const GRAD = zs.OPTIONAL_KERNELS.planarStepGrad;

before(requireNative);

/** One case: x's shape, w's entries in ±wScale, the target w·û and b. */
interface Case {
  shape: number[];
  wScale: number;
  wuHat: number;
  b: number;
}

/** w [dim] in ±wScale and û = r + ((t − w·r)/‖w‖²)·w, so that w·û ≈ t. */
function params(dim: number, c: Case): { w: Float32Array; uHat: Float32Array } {
  const w = lcgValues(dim, 11, -c.wScale, c.wScale);
  const r = lcgValues(dim, 13, -0.5, 0.5);
  let wr = 0;
  let ww = 0;
  for (let j = 0; j < dim; j++) {
    wr += w[j] * r[j];
    ww += w[j] * w[j];
  }
  const uHat = new Float32Array(dim);
  for (let j = 0; j < dim; j++) uHat[j] = r[j] + ((c.wuHat - wr) / ww) * w[j];
  return { w, uHat };
}

/**
 * y, logDet and the gradients for x, w, û, b of Σ y·cy + Σ logDet·cl (fixed
 * weights, so dy and dl are not constant), on the active backend.
 */
function stepAndGrads(c: Case): Float32Array[] {
  const dim = c.shape[c.shape.length - 1];
  const flow = new zs.PlanarFlow(dim, { seed: 1 });
  try {
    return tf.tidy(() => {
      const { w, uHat } = params(dim, c);
      flow.w.assign(tf.tensor1d(w));
      flow.uHat.assign(tf.tensor1d(uHat));
      flow.b.assign(tf.scalar(c.b));
      const size = c.shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(lcgValues(size, 3, -1, 1), c.shape);
      const cy = tf.tensor(lcgValues(size, 5, -1, 1), c.shape);
      const cl = tf.tensor(lcgValues(size / dim, 7, 0.5, 1.5), c.shape.slice(0, -1));
      const loss = (xs: tf.Tensor) => {
        const { y, logDet } = flow.forward(xs);
        return tf.add(tf.sum(tf.mul(y, cy)), tf.sum(tf.mul(logDet, cl)));
      };
      const { y, logDet } = flow.forward(x);
      const g = tf.grads((xs: tf.Tensor, _w: tf.Tensor, _u: tf.Tensor, _b: tf.Tensor) => loss(xs))([
        x,
        flow.w,
        flow.uHat,
        flow.b,
      ]);
      return [y, logDet, ...g].map((t) => t.dataSync() as Float32Array);
    });
  } finally {
    flow.dispose();
  }
}

const NAMES = ['y', 'logDet', 'd/dx', 'd/dw', 'd/duHat', 'd/db'];

// Ranks 1 to 3; dim 1, 2, 40; 1 to 5000 rows; w·û far in the softplus'
// tails (w·u → −1 and w·u ≈ w·û), there with small w and b = 2 so that
// x·w + b stays away from 0 and D = 1 + (1 − h²)·w·u away from 0.
const CASES: Case[] = [
  { shape: [40], wScale: 0.3, wuHat: 0.7, b: 0.1 },
  { shape: [1], wScale: 0.3, wuHat: -0.4, b: 0.1 },
  { shape: [7, 2], wScale: 0.5, wuHat: 1.5, b: -0.2 },
  { shape: [3, 50, 40], wScale: 0.3, wuHat: 0.2, b: 0.1 },
  { shape: [5000, 1], wScale: 0.8, wuHat: -1, b: 0.3 },
  { shape: [4000, 2], wScale: 0.5, wuHat: 2, b: -0.1 },
  { shape: [2, 2500, 40], wScale: 0.2, wuHat: 0.5, b: 0.05 },
  { shape: [100, 40], wScale: 0.02, wuHat: -30, b: 2 },
  { shape: [100, 40], wScale: 0.02, wuHat: 30, b: 2 },
  { shape: [30, 2], wScale: 0.3, wuHat: -25, b: 2 },
  { shape: [4, 5, 1], wScale: 0.5, wuHat: 25, b: -2 },
];

for (const c of CASES) {
  test(`native: PlanarFlow x [${c.shape}] w·û ${c.wuHat}: ${STEP} matches the composite on native and cpu`, async () => {
    const { fused, composite, cpu } = await fusedCompositeCpu(STEP, () => stepAndGrads(c));
    for (const [what, ref] of [
      ['native composite', composite],
      ['cpu', cpu],
    ] as const) {
      maxRelErrors(fused, ref, NAMES).forEach((e, k) => {
        const tol = k < 2 ? 1e-5 : 1e-4;
        assert.ok(e <= tol, `${NAMES[k]}: fused vs ${what}: relative error ${e} > ${tol}`);
      });
    }
  });
}

test(`native: a PlanarFlow step runs ${STEP} forward and ${GRAD} backward, no split or concat`, async () => {
  await useBackend('native');
  const flow = new zs.PlanarFlow(4, { seed: 2 });
  const x = tf.tensor(lcgValues(24, 3, -1, 1), [2, 3, 4]);
  const { kernels: seen } = withKernelNames(() =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const { y, logDet } = flow.forward(x);
        return tf.add(tf.sum(y), tf.sum(logDet));
      });
      assert.equal(value.rank, 0);
      assert.deepEqual(Object.keys(grads).length, 3);
    }),
  );
  assert.equal(seen.filter((k) => k === STEP).length, 1, `kernels: ${seen}`);
  assert.equal(seen.filter((k) => k === GRAD).length, 1, `kernels: ${seen}`);
  for (const k of ['SplitV', 'Concat', 'Tanh', 'Softplus', 'BatchMatMul']) {
    assert.ok(!seen.includes(k), `${k} ran: ${seen}`);
  }
  flow.dispose();
  x.dispose();
});

test(`native: ${GRAD} gives the same numbers on one thread and on all`, async () => {
  await useBackend('native');
  const c: Case = { shape: [3000, 40], wScale: 0.3, wuHat: 0.5, b: 0.1 };
  const all = stepAndGrads(c);
  const one = onOneNativeThread(() => stepAndGrads(c));
  all.forEach((v, k) => assert.deepEqual(v, one[k], NAMES[k]));
});

test('native: a PlanarFlow step and its gradient leak nothing', async () => {
  await useBackend('native');
  const flow = new zs.PlanarFlow(40, { seed: 4 });
  const x = tf.tensor(lcgValues(400, 3, -1, 1), [10, 40]);
  const before = tf.memory().numTensors;
  const dataBefore = tf.engine().backend.numDataIds();
  for (let i = 0; i < 3; i++) {
    const { value, grads } = tf.variableGrads(() => {
      const { y, logDet } = flow.forward(x);
      return tf.add(tf.sum(tf.square(y)), tf.sum(logDet));
    });
    value.dispose();
    tf.dispose(Object.values(grads));
    const g = tf.grad((xs: tf.Tensor) => tf.sum(flow.forward(xs).logDet))(x);
    g.dispose();
  }
  assert.equal(tf.memory().numTensors, before, 'tensors');
  assert.equal(tf.engine().backend.numDataIds(), dataBefore, 'backend data');
  flow.dispose();
  x.dispose();
});

test(`native: bad input to ${STEP} and ${GRAD} names the kernel and the input`, async () => {
  await useBackend('native');
  const eng = tf.engine();
  const call = (name: string, inputs: Record<string, tf.Tensor>) =>
    tf.tidy(() => eng.runKernel(name, inputs, {}));
  tf.tidy(() => {
    const x = tf.ones([3, 4]);
    const w = tf.ones([4]);
    const b = tf.scalar(0);
    assert.throws(
      () => call(STEP, { x, w: tf.ones([5]), uHat: w, b }),
      /ZsPlanarStep: w must have shape \[4\] \(x's last axis\), got \[5\]/,
    );
    assert.throws(
      () => call(STEP, { x, w, uHat: tf.ones([2, 2]), b }),
      /ZsPlanarStep: uHat must have shape \[4\]/,
    );
    assert.throws(
      () => call(STEP, { x, w, uHat: w, b: tf.ones([2]) }),
      /ZsPlanarStep: b must be a scalar/,
    );
    assert.throws(
      () => call(STEP, { x: tf.scalar(1), w, uHat: w, b }),
      /ZsPlanarStep: x must have rank >= 1/,
    );
    assert.throws(
      () => call(STEP, { x: tf.ones([3, 4], 'int32'), w, uHat: w, b }),
      /ZsPlanarStep: x must be a float32 tensor, got int32/,
    );
    assert.throws(
      () => call(GRAD, { dy: x, dl: tf.ones([4]), x, w, uHat: w, b }),
      /ZsPlanarStepGrad: dl has shape \[4\], expected \[3\]/,
    );
    assert.throws(
      () => call(GRAD, { dy: x, dl: tf.ones([3]), x, w, uHat: tf.ones([4], 'int32'), b }),
      /ZsPlanarStepGrad: uHat must be a float32 tensor, got int32/,
    );
  });
});
