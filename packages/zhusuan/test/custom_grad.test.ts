import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../src/index.js';
import { assertClose, noLeak, useCpu } from './helpers.js';

before(useCpu);

/**
 * [x·y, sin x] with the gradient written by hand; `calls` counts the runs of
 * the gradient function.
 */
function prodSin(calls: { n: number }) {
  return zs.customGradMulti(([x, y], save) => {
    save([x, y]);
    return {
      value: [tf.mul(x, y), tf.sin(x)],
      gradFunc: ([dProd, dSin], [xs, ys]) => {
        calls.n++;
        return [tf.add(tf.mul(dProd, ys), tf.mul(dSin, tf.cos(xs))), tf.mul(dProd, xs)];
      },
    };
  });
}

test('customGradMulti: values, and the gradients of both outputs as autodiff gives them', () => {
  const calls = { n: 0 };
  const op = prodSin(calls);
  const x = tf.tensor1d([0.3, -1.2, 2.5]);
  const y = tf.tensor1d([1.5, 0.7, -0.4]);
  const w = tf.tensor1d([0.9, -2, 0.25]);
  const [p, s] = op(x, y);
  assertClose(p.dataSync(), tf.mul(x, y).dataSync(), 0, 0, 'x·y');
  assertClose(s.dataSync(), tf.sin(x).dataSync(), 0, 0, 'sin x');
  // A loss of both outputs, by the op and by tfjs' own gradients.
  const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.add(tf.mul(a, w), tf.square(b)));
  const mine = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    loss(...(op(a, b) as [tf.Tensor, tf.Tensor])),
  );
  const ref = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(tf.mul(a, b), tf.sin(a)));
  const [gx, gy] = mine([x, y]);
  const [rx, ry] = ref([x, y]);
  assertClose(gx.dataSync(), rx.dataSync(), 1e-6, 1e-7, 'dx');
  assertClose(gy.dataSync(), ry.dataSync(), 1e-6, 1e-7, 'dy');
  assert.equal(calls.n, 1);
});

test('customGradMulti: an output nothing differentiated reads gets a zero upstream gradient', () => {
  const op = prodSin({ n: 0 });
  const x = tf.tensor1d([0.3, -1.2]);
  const y = tf.tensor1d([1.5, 0.7]);
  // Only sin x: dx = cos x, dy = 0.
  const [gx, gy] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(op(a, b)[1]))([x, y]);
  assertClose(gx.dataSync(), tf.cos(x).dataSync(), 1e-6, 1e-7, 'dx');
  assertClose(gy.dataSync(), [0, 0], 0, 0, 'dy'); // 0·x: −0 where x < 0
  // Only x·y: dx = y, dy = x.
  const [hx, hy] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(op(a, b)[0]))([x, y]);
  assertClose(hx.dataSync(), y.dataSync(), 0, 0, 'dx');
  assertClose(hy.dataSync(), x.dataSync(), 0, 0, 'dy');
});

test('customGradMulti records the op, not the kernels inside it, and leaks nothing', () => {
  const x = tf.tensor1d([0.5, 1.5]);
  // The forward computes x² through kernels whose own gradient would give 2x;
  // the op's gradient says 3: only the op's is used.
  const op = zs.customGradMulti(([t]) => ({
    value: [tf.square(t), tf.add(tf.square(t), 1)],
    gradFunc: ([d0, d1]) => [tf.mul(tf.add(d0, d1), 3)],
  }));
  noLeak('a forward and gradient of customGradMulti', () => {
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.concat(op(t))))(x);
    assert.deepEqual(Array.from(g.dataSync()), [6, 6]);
    g.dispose();
  });
  noLeak('customGradMulti outside a gradient', () => {
    for (const t of op(x)) t.dispose();
  });
  // Saved tensors are released once the gradient has run.
  const op2 = prodSin({ n: 0 });
  const y = tf.tensor1d([2, 3]);
  noLeak('customGradMulti with saved tensors', () => {
    const [gx, gy] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.addN(op2(a, b))))([x, y]);
    gx.dispose();
    gy.dispose();
  });
});

test('customGradMulti: a single output, and bad contracts named', () => {
  const one = zs.customGradMulti(([t]) => ({
    value: [tf.mul(t, 2)],
    gradFunc: ([d]) => [tf.mul(d, 2)],
  }));
  const x = tf.tensor1d([1, -4]);
  const [v] = one(x);
  assert.deepEqual(Array.from(v.dataSync()), [2, -8]);
  assert.deepEqual(
    Array.from(
      tf
        .grad((t: tf.Tensor) => tf.sum(one(t)[0]))(x)
        .dataSync(),
    ),
    [2, 2],
  );
  const none = zs.customGradMulti(() => ({ value: [], gradFunc: () => [] }));
  assert.throws(
    () => none(x),
    /customGradMulti: the op must return `value`, an array of 1 or more/,
  );
  const notTensor = zs.customGradMulti(([t]) => ({
    value: [t, [1, 2] as unknown as tf.Tensor],
    gradFunc: ([d]) => [d],
  }));
  assert.throws(
    () => notTensor(x),
    /customGradMulti: the op must return `value`, an array of 1 or more tensors/,
  );
  const short = zs.customGradMulti(([t, u]) => ({
    value: [tf.add(t, u)],
    gradFunc: ([d]) => [d],
  }));
  assert.throws(
    () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(short(a, b)[0]))([x, x]),
    /customGradMulti: gradFunc must return one tensor per input \(2\), got 1 values/,
  );
  assert.throws(() => one(1 as unknown as tf.Tensor), /customGradMulti: input 0 is not a tensor/);
});
