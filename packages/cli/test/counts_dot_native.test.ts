/**
 * The library's `countsDot` (a multinomial's Σ_k x_k log p_k) on `native`,
 * where the backend registers the fused `ZsCountsDot` kernel and the
 * gradient kernel `ZsCountsDotGrad`: values and gradients are the same with
 * and without them, and with the first alone (exactly: the kernels
 * sums in the Sum kernel's order and the gradients use the same formulas)
 * and match cpu's within 1e-5 relative; a zero count against l = −∞ gives
 * 0 and a zero gradient, never NaN; a gradient taken for l alone runs no
 * work for x; nothing leaks.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { loadNative, useBackend } from '../src/backend.js';
import {
  fusedCompositeCpu,
  lcgValues as values,
  withKernelNames,
  withoutKernel,
} from './helpers.js';

const KERNEL = zs.OPTIONAL_KERNELS.countsDot;
const GRAD = zs.OPTIONAL_KERNELS.countsDotGrad;

before(async () => {
  const status = await loadNative();
  assert.ok(status.available, `native addon unavailable: ${status.reason}`);
});

/** Counts (about a third zero) of `xShape` and log-probabilities (some −∞) of `lShape`. */
function operands(xShape: number[], lShape: number[]): { x: tf.Tensor; l: tf.Tensor } {
  const nx = xShape.reduce((a, b) => a * b, 1);
  const nl = lShape.reduce((a, b) => a * b, 1);
  const xv = values(nx, 3, -2, 4).map((v) => Math.max(0, Math.floor(v)));
  const lv = values(nl, 5, -6, 0);
  for (let i = 0; i < nl; i += 7) lv[i] = -Infinity;
  // Where l = −∞ the count is 0 (a count of an impossible category has no finite log-probability).
  const full = tf.broadcast_util.assertAndGetBroadcastShape(xShape, lShape);
  if (full.length === lShape.length && nx === nl) for (let i = 0; i < nl; i += 7) xv[i] = 0;
  return { x: tf.tensor(xv, xShape), l: tf.tensor(lv, lShape) };
}

/** The value and both gradients of Σ countsDot(x, l)·w (of x and e^l under `log`), as arrays. */
function valueAndGrads(xShape: number[], lShape: number[], log: boolean): number[][] {
  return tf.tidy(() => {
    const ops = operands(xShape, lShape);
    const x = ops.x;
    const l = log ? tf.exp(ops.l) : ops.l;
    const f = (xs: tf.Tensor, ls: tf.Tensor) => {
      const v = zs.countsDot(xs, ls, { log });
      const w = tf.tensor(values(v.size, 9, 0.5, 1.5), v.shape);
      return tf.sum(tf.mul(v, w));
    };
    const value = zs.countsDot(x, l, { log });
    const [gx, gl] = tf.grads(f)([x, l]);
    return [Array.from(value.dataSync()), Array.from(gx.dataSync()), Array.from(gl.dataSync())];
  });
}

// Counts [nDocs, V] against log-probabilities [chains, nDocs, V] (LNTM's
// case), the same shapes, a categories axis of one, and l broadcast over a
// middle axis.
const CASES: Array<[number[], number[]]> = [
  [
    [5, 40],
    [3, 5, 40],
  ],
  [
    [4, 9],
    [4, 9],
  ],
  [
    [6, 1],
    [6, 1],
  ],
  [
    [2, 3, 8],
    [2, 1, 8],
  ],
];

for (const [xs, ls] of CASES) {
  for (const log of [false, true]) {
    test(`native: countsDot x [${xs}] l [${ls}]${log ? ' (log)' : ''} is the same with and without ${KERNEL}, and on cpu`, async () => {
      const { fused, composite, cpu } = await fusedCompositeCpu([KERNEL, GRAD], () =>
        valueAndGrads(xs, ls, log),
      );
      const noGradKernel = withoutKernel(GRAD, () => valueAndGrads(xs, ls, log));
      ['value', 'd/dx', 'd/dl'].forEach((what, k) => {
        assert.deepEqual(fused[k], composite[k], `${what}: fused vs composite on native`);
        assert.deepEqual(noGradKernel[k], composite[k], `${what}: without ${GRAD}`);
        assert.equal(fused[k].length, cpu[k].length, `${what}: length`);
        for (let i = 0; i < cpu[k].length; i++) {
          // Under log, d/dp is 0/0 where every count against p = 0 is 0 (as tfjs' Log gradient gives).
          if (!(log && what === 'd/dl'))
            assert.ok(!Number.isNaN(fused[k][i]), `${what}[${i}] is NaN`);
          const tol = 1e-5 * Math.abs(cpu[k][i]) + 1e-5;
          assert.ok(
            Object.is(fused[k][i], cpu[k][i]) || Math.abs(fused[k][i] - cpu[k][i]) <= tol,
            `${what}[${i}]: native ${fused[k][i]} vs cpu ${cpu[k][i]}`,
          );
        }
      });
    });
  }
}

test('native: a gradient of countsDot for l alone runs nothing for x, and nothing leaks', async () => {
  await useBackend('native');
  const { x, l } = operands([5, 40], [3, 5, 40]);
  const before = tf.memory().numTensors;
  const dataBefore = tf.engine().backend.numDataIds();
  const { result: g, kernels: seen } = withKernelNames(() =>
    tf.grad((ls: tf.Tensor) => tf.sum(zs.countsDot(x, ls)))(l),
  );
  assert.ok(seen.includes(KERNEL) && seen.includes(GRAD), `${KERNEL} and ${GRAD} ran`);
  // d/dx would need Equal and Select; d/dl is x·dy summed over nothing.
  assert.ok(!seen.includes('Equal') && !seen.includes('Select'), `kernels: ${seen}`);
  const xv = x.dataSync();
  const gv = g.dataSync();
  for (let i = 0; i < gv.length; i++) assert.equal(gv[i], xv[i % xv.length], `d/dl[${i}]`);
  g.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors');
  assert.equal(tf.engine().backend.numDataIds(), dataBefore, 'backend data');
  tf.dispose([x, l]);
});
