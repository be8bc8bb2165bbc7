/**
 * dense(): on native (fused kernels) the values and the gradients with
 * respect to x, w and b equal those of the portable path on cpu.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { DenseActivation, dense } from '../src/dense.js';
import { assertClose, rand, runOn, setupNative } from './helpers.js';

before(async () => {
  await setupNative();
});

const ACTS: DenseActivation[] = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'];

/** [y, dx, dw, db] of sum(dense(...) * r) flattened into one tensor. */
function valueAndGrads(activation: DenseActivation, withBias: boolean): tf.Tensor {
  const x = rand([9, 7], 1, -3, 3);
  const w = rand([7, 5], 2, -1, 1);
  const b = rand([5], 3, -1, 1);
  const r = rand([9, 5], 4, -1, 1);
  const y = dense(x, w, withBias ? b : null, activation, 0.1);
  if (!withBias) {
    const [dx, dw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
      tf.sum(tf.mul(dense(xx, ww, null, activation, 0.1), r)),
    )([x, w]);
    return tf.concat([y.flatten(), dx.flatten(), dw.flatten()]);
  }
  const [dx, dw, db] = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
    tf.sum(tf.mul(dense(xx, ww, bb, activation, 0.1), r)),
  )([x, w, b]);
  return tf.concat([y.flatten(), dx.flatten(), dw.flatten(), db.flatten()]);
}

describe('dense', () => {
  for (const activation of ACTS) {
    for (const withBias of [true, false]) {
      it(`${activation}${withBias ? '' : ', no bias'}: values and gradients, native vs cpu`, async () => {
        const cpu = await runOn('cpu', () => valueAndGrads(activation, withBias));
        const nat = await runOn('native', () => valueAndGrads(activation, withBias));
        assertClose(nat.values, cpu.values, 1e-5, 1e-6, `dense ${activation}`);
      });
    }
  }
  it('uses the native kernels on native, and skips dx for a constant input', async () => {
    await tf.setBackend('native');
    const x = rand([4, 3], 5);
    const w = tf.variable(rand([3, 2], 6));
    const b = tf.variable(rand([2], 7));
    const prof = await tf.profile(() => {
      const { grads } = tf.variableGrads(() => tf.sum(dense(x, w, b, 'relu')) as tf.Scalar, [w, b]);
      tf.dispose(Object.values(grads));
    });
    const names = prof.kernels.map((k) => k.name);
    assert.ok(names.includes('ZsnDense'));
    assert.ok(names.includes('ZsnDenseGradW') && names.includes('ZsnDenseGradB'));
    assert.ok(!names.includes('ZsnDenseGradX'), 'no gradient for a constant input');
    assert.ok(!names.includes('BatchMatMul'));
    tf.dispose([x, w, b]);
  });
  // The first gradient kernel of a layer computes the later ones too and keeps
  // them until asked; asking for a subset must still give the right values.
  const subsets: Array<[string, Array<'x' | 'w' | 'b'>]> = [
    ['x only (constant weights)', ['x']],
    ['w only', ['w']],
    ['b only', ['b']],
    ['x and b', ['x', 'b']],
  ];
  for (const [name, wrt] of subsets) {
    it(`gradient with respect to ${name}, in a two-layer stack, native vs cpu`, async () => {
      const f = () => {
        const x = rand([33, 20], 12);
        const w1 = rand([20, 30], 13);
        const b1 = rand([30], 14);
        const w2 = rand([30, 8], 15);
        const b2 = rand([8], 16);
        const r = rand([33, 8], 17);
        const all = { x, w: w1, b: b1 };
        const loss = (...args: tf.Tensor[]) => {
          const v = { ...all };
          wrt.forEach((k, i) => (v[k] = args[i]));
          const h = dense(v.x, v.w, v.b, 'relu');
          return tf.sum(tf.mul(dense(h, w2, b2, 'elu'), r));
        };
        const g = tf.grads(loss)(wrt.map((k) => all[k]));
        return tf.concat(g.map((t) => t.flatten()));
      };
      const cpu = await runOn('cpu', f);
      const nat = await runOn('native', f);
      assertClose(nat.values, cpu.values, 1e-5, 1e-6, `dense grads wrt ${name}`);
      // Then a full backward pass: nothing kept from the subset leaks into it.
      const full = () => valueAndGrads('relu', true);
      assertClose(
        (await runOn('native', full)).values,
        (await runOn('cpu', full)).values,
        1e-5,
        1e-6,
        'full backward after a subset',
      );
    });
  }
  for (const shape of [[7], [2, 4, 7], [2, 1, 3, 7]]) {
    it(`x of shape [${shape}]: leading dimensions are rows`, async () => {
      const f = () => {
        const x = rand(shape, 8);
        const w = rand([7, 5], 9);
        const b = rand([5], 10);
        const r = rand([...shape.slice(0, -1), 5], 11);
        const y = dense(x, w, b, 'relu');
        const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(dense(xx, ww, bb, 'relu'), r)),
        )([x, w, b]);
        assert.deepEqual(y.shape, [...shape.slice(0, -1), 5]);
        assert.deepEqual(g[0].shape, shape);
        return tf.concat([y.flatten(), ...g.map((t) => t.flatten())]);
      };
      const cpu = await runOn('cpu', f);
      const nat = await runOn('native', f);
      assertClose(nat.values, cpu.values, 1e-5, 1e-6, `dense rank ${shape.length}`);
    });
  }
  it('names the bad argument', () => {
    assert.throws(() => dense(tf.zeros([2, 3]), tf.zeros([4, 2])), /inner dimension/);
    assert.throws(
      () => dense(tf.zeros([2, 3]), tf.zeros([3, 2]), tf.zeros([3])),
      /b must have shape \[2\]/,
    );
    assert.throws(() => dense(tf.scalar(1), tf.zeros([3, 2])), /x must have rank >= 1/);
  });
});
