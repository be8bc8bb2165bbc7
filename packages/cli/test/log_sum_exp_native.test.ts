/**
 * The library's `logSumExp` (and `logMeanExp`, built on it) on `native`,
 * where the backend registers the fused `ZsLogSumExp` and `ZsLogSumExpGrad`
 * kernels: values and gradients are bit for bit those of the composite the
 * library runs without them (the same kernels' rounding in the same order),
 * and within 1e-5 relative of cpu's, for any axes, keepDims or not, with
 * −∞, +∞, NaN and ±1e30 entries; non-float32 inputs keep the composite;
 * the kernels run once each way, and nothing leaks.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { loadNative, useBackend } from '../src/backend.js';
import { fusedCompositeCpu, lcgValues, withKernelNames, withoutKernel } from './helpers.js';

const KERNEL = zs.OPTIONAL_KERNELS.logSumExp;
const GRAD = zs.OPTIONAL_KERNELS.logSumExpGrad;

before(async () => {
  const status = await loadNative();
  assert.ok(status.available, `native addon unavailable: ${status.reason}`);
});

/** Values in [lo, hi) of `shape` with the special entries `special` set at their flat indices. */
function input(
  shape: number[],
  seed: number,
  special: Record<number, number> = {},
  lo = -4,
  hi = 4,
): tf.Tensor {
  const v = lcgValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
    lo,
    hi,
  );
  for (const [i, s] of Object.entries(special)) v[Number(i)] = s;
  return tf.tensor(v, shape);
}

/** The value of logSumExp(x, axis, keepDims) and the gradient of Σ w·logSumExp, as arrays. */
function valueAndGrad(
  make: () => tf.Tensor,
  axis: number | number[],
  keepDims: boolean,
): { shape: number[]; value: number[]; grad: number[] } {
  return tf.tidy(() => {
    const x = make();
    const value = zs.logSumExp(x, axis, keepDims);
    const w = tf.tensor(lcgValues(value.size, 11, 0.5, 1.5), value.shape);
    const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(zs.logSumExp(t, axis, keepDims), w)))([x]);
    return {
      shape: value.shape,
      value: Array.from(value.dataSync()),
      grad: Array.from(g.dataSync()),
    };
  });
}

/** Bit for bit against the composite on native; within 1e-5 relative of cpu (the same non-finite values). */
async function checkAgainstComposite(
  make: () => tf.Tensor,
  axis: number | number[],
  keepDims: boolean,
): Promise<void> {
  const { fused, composite, cpu } = await fusedCompositeCpu(KERNEL, () =>
    valueAndGrad(make, axis, keepDims),
  );
  // deepStrictEqual compares with Object.is: NaN equals NaN, 0 and −0 differ.
  assert.deepEqual(fused, composite, 'fused vs composite on native');
  assert.deepEqual(fused.shape, cpu.shape, 'shape against cpu');
  for (const what of ['value', 'grad'] as const) {
    const [got, want] = [fused[what], cpu[what]];
    assert.equal(got.length, want.length, `${what}: length`);
    for (let i = 0; i < want.length; i++) {
      const tol = 1e-5 * Math.abs(want[i]) + 1e-6;
      assert.ok(
        Object.is(got[i], want[i]) || Math.abs(got[i] - want[i]) <= tol,
        `${what}[${i}]: native ${got[i]} vs cpu ${want[i]}`,
      );
    }
  }
}

// [shape, axis] of: the last axis, the first, a middle one, several, all of
// them, none; importance weights [K, batch] over K; one element; an input
// above the element-wise kernels' parallel threshold.
const CASES: Array<[number[], number | number[]]> = [
  [[4, 7], -1],
  [[5, 3, 6], 0],
  [[5, 3, 6], 1],
  [
    [4, 3, 5],
    [0, 2],
  ],
  [
    [2, 3, 2, 4],
    [1, 3],
  ],
  [
    [3, 4, 2],
    [0, 1, 2],
  ],
  [[3, 4], []],
  [[50, 20], 0],
  [[1], 0],
  [
    [1, 1],
    [0, 1],
  ],
  [[40, 300], 1],
];

for (const [shape, axis] of CASES) {
  for (const keepDims of [false, true]) {
    test(`native: logSumExp [${shape}] over ${JSON.stringify(axis)}${keepDims ? ' (keepDims)' : ''} is the composite's bit for bit, and cpu's`, async () => {
      await checkAgainstComposite(() => input(shape, 3 + shape.length), axis, keepDims);
    });
  }
}

test('native: rows of −∞, +∞ and NaN entries, and ±1e30, give the composite’s values and gradients', async () => {
  // Rows of [6, 5]: all −∞ (value −∞; the composite's gradient is 0·∞ = NaN
  // there, and the kernel's too), one −∞, one +∞, one NaN, ±1e30 (the shift
  // keeps them finite), and plain values.
  const special: Record<number, number> = {
    0: -Infinity,
    1: -Infinity,
    2: -Infinity,
    3: -Infinity,
    4: -Infinity,
    7: -Infinity,
    11: Infinity,
    17: NaN,
    20: 1e30,
    21: -1e30,
    22: 1e30,
    24: -1e30,
  };
  for (const [axis, keepDims] of [
    [1, false],
    [1, true],
    [0, false],
    [[0, 1], false],
  ] as Array<[number | number[], boolean]>) {
    await checkAgainstComposite(() => input([6, 5], 9, special), axis, keepDims);
  }
  await useBackend('native');
  const got = valueAndGrad(() => input([6, 5], 9, special), 1, false);
  assert.equal(got.value[0], -Infinity, 'a row of −∞ gives −∞');
  assert.ok(Number.isFinite(got.value[1]), 'one −∞ entry leaves the row finite');
  assert.equal(got.value[2], Infinity, 'a +∞ entry gives +∞');
  assert.ok(Number.isNaN(got.value[3]), 'a NaN entry gives NaN');
  assert.ok(Math.abs(got.value[4] - (1e30 + Math.log(2))) <= 1e24, `1e30 row: ${got.value[4]}`);
  const g = got.grad[20]; // w·½ for the two 1e30 entries, 0 for the rest
  assert.ok(g > 0.25 && g < 0.75, `1e30 row's gradient ${g}`);
  assert.deepEqual(got.grad.slice(20, 25), [g, 0, g, 0, 0]);
  assert.equal(got.grad[7], 0, 'a −∞ entry in a finite row has gradient 0');
});

test('native: exponentials that underflow (flushed to 0 as Exp flushes them) are the composite’s', async () => {
  // x − max down to −110: exp lands in float32's denormal range (below ~−87.3) and under it.
  await checkAgainstComposite(() => input([8, 16], 6, {}, -110, 0), 1, false);
  await checkAgainstComposite(() => input([8, 16], 7, {}, -110, 0), 0, true);
});

test('native: empty tensors and logMeanExp are the composite’s', async () => {
  await checkAgainstComposite(() => tf.zeros([3, 0]), 1, false); // Σ over nothing: −∞
  await checkAgainstComposite(() => tf.zeros([0, 3]), 1, true);
  await checkAgainstComposite(() => tf.scalar(-2.5), [], false);
  await useBackend('native');
  const lme = () => tf.tidy(() => Array.from(zs.logMeanExp(input([50, 8], 4), 0).dataSync()));
  assert.deepEqual(lme(), withoutKernel(KERNEL, lme));
});

test('native: logSumExp runs one kernel forward and one backward, and leaks nothing', async () => {
  await useBackend('native');
  const x = input([20, 9], 5);
  const before = tf.memory().numTensors;
  const dataBefore = tf.engine().backend.numDataIds();
  const { result, kernels } = withKernelNames(() =>
    tf.valueAndGrad((t: tf.Tensor) => tf.sum(zs.logSumExp(t, 1)))(x),
  );
  assert.equal(kernels.filter((k) => k === KERNEL).length, 1, `kernels: ${kernels}`);
  assert.equal(kernels.filter((k) => k === GRAD).length, 1, `kernels: ${kernels}`);
  for (const k of ['Max', 'Exp', 'Log', 'Select', 'RealDiv']) {
    assert.ok(!kernels.includes(k), `${k} ran: ${kernels}`);
  }
  tf.dispose([result.value, result.grad]);
  // Without a gradient: the forward kernel alone, and nothing kept.
  const { result: y, kernels: fwd } = withKernelNames(() => zs.logSumExp(x, [0, 1], true));
  assert.deepEqual(fwd, [KERNEL]);
  y.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors');
  assert.equal(tf.engine().backend.numDataIds(), dataBefore, 'backend data');
  x.dispose();
});

test('native: an int32 input keeps the composite (the kernel takes float32)', async () => {
  await useBackend('native');
  const run = () =>
    tf.tidy(() => Array.from(zs.logSumExp(tf.tensor([[1, 2, 3]], [1, 3], 'int32'), 1).dataSync()));
  const { result, kernels } = withKernelNames(run);
  assert.ok(!kernels.includes(KERNEL), `kernels: ${kernels}`);
  assert.deepEqual(result, withoutKernel(KERNEL, run));
});
