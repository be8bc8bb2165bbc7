import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../src/index.js';
import { untaped } from '../src/utils.js';
import { assertClose, assertNoGradientPath, noLeak, useCpu } from './helpers.js';

before(useCpu);

function lse(a: number[]): number {
  const m = Math.max(...a);
  return m === -Infinity ? -Infinity : m + Math.log(a.reduce((s, v) => s + Math.exp(v - m), 0));
}

test('logSumExp and logMeanExp match float64, including large magnitudes', () => {
  const rows = [
    [0, 1, 2],
    [1000, 1000, 999],
    [-1000, -1001, -1002],
    [-Infinity, -Infinity, -Infinity],
  ];
  const out = zs.logSumExp(tf.tensor(rows), 1).dataSync();
  const expected = rows.map(lse);
  assertClose(out.slice(0, 3), expected.slice(0, 3), 1e-6, 1e-4, 'lse');
  assert.equal(out[3], -Infinity);
  assertClose(
    zs.logMeanExp(tf.tensor(rows.slice(0, 3)), 1).dataSync(),
    expected.slice(0, 3).map((v) => v - Math.log(3)),
    1e-6,
    1e-4,
    'lme',
  );
  assert.deepEqual(zs.logSumExp(tf.tensor(rows.slice(0, 2)), -1, true).shape, [2, 1]);
  assert.deepEqual(zs.logMeanExp(tf.zeros([2, 3, 4]), [0, 2]).shape, [3]);
  assert.throws(() => zs.logSumExp(tf.zeros([2]), 1), /axis 1 is out of range/);
});

test('logSumExp gradients are dy·softmax (float64), with −∞ entries, any axes, keepDims', () => {
  // x [2, 3, 2] over axes [1] and [0, 2]; entries of −∞ get 0, not NaN.
  const xv = [0.5, -1, 1000, 999, 998.5, -Infinity, -2, 3, -Infinity, 0, 1, -1];
  const x = tf.tensor(xv, [2, 3, 2]);
  const at = (i: number, j: number, k: number) => xv[i * 6 + j * 2 + k];
  for (const [axes, keep] of [
    [[1], false],
    [[0, 2], true],
  ] as Array<[number[], boolean]>) {
    const outShape = [2, 3, 2].map((n, d) => (axes.includes(d) ? 1 : n));
    const dyv = Array.from({ length: outShape.reduce((p, n) => p * n, 1) }, (_, i) => 0.5 + i);
    const dy = tf.tensor(dyv, keep ? outShape : outShape.filter((_, d) => !axes.includes(d)));
    const [g] = tf.grads((t: tf.Tensor) => zs.logSumExp(t, axes, keep))([x], dy);
    // Group of (i, j, k): its index in the reduced output, and its members.
    const key = (i: number, j: number, k: number) => (axes.includes(1) ? i * 2 + k : j); // [2, 1, 2] or [1, 3, 1]
    const want = xv.map((_, flat) => {
      const [i, j, k] = [Math.floor(flat / 6), Math.floor(flat / 2) % 3, flat % 2];
      const members: number[] = [];
      for (let a = 0; a < 2; a++)
        for (let b = 0; b < 3; b++)
          for (let c = 0; c < 2; c++) if (key(a, b, c) === key(i, j, k)) members.push(at(a, b, c));
      return dyv[key(i, j, k)] * Math.exp(at(i, j, k) - lse(members));
    });
    assertClose(g.dataSync(), want, 1e-5, 1e-6, `axes [${axes}]`);
    tf.dispose([g, dy]);
  }
  x.dispose();
});

test('stopGradient passes values and blocks gradients', () => {
  const [g] = tf.grads((x: tf.Tensor) =>
    tf.sum(tf.add(tf.mul(x, 2), zs.stopGradient(tf.mul(x, 5)))),
  )([tf.tensor([1, 2])]);
  assert.deepEqual(Array.from(g.dataSync()), [2, 2]);
  assert.deepEqual(Array.from(zs.stopGradient(tf.tensor([3, 4])).dataSync()), [3, 4]);
  const y = zs.stopGradient(tf.tensor([[1, -2]], [1, 2], 'int32'));
  assert.deepEqual([y.shape, y.dtype, Array.from(y.dataSync())], [[1, 2], 'int32', [1, -2]]);
  // untaped returns what compute returns, and the live path keeps its exact gradient.
  const x = tf.tensor([0.5, -1.5]);
  assert.deepEqual(
    Array.from(untaped(() => tf.exp(tf.mul(x, 3))).dataSync()),
    Array.from(tf.exp(tf.mul(x, 3)).dataSync()),
  );
  const [gu] = tf.grads((v: tf.Tensor) =>
    tf.sum(
      tf.mul(
        tf.square(v),
        untaped(() => tf.exp(v)),
      ),
    ),
  )([x]);
  // d/dv Σ v²·c = 2v·c with c = exp(v) held constant.
  assert.deepEqual(
    Array.from(gu.dataSync()),
    Array.from(tf.mul(tf.mul(x, 2), tf.exp(x)).dataSync()),
  );
});

test('a tensor reached only through stopGradient or untaped has no gradient path', () => {
  const x = tf.tensor([1, 2]);
  assertNoGradientPath((v) => tf.sum(zs.stopGradient(tf.mul(v, 5))), [x], 'stopGradient');
  assertNoGradientPath((v) => tf.sum(untaped(() => tf.mul(v, 5))), [x], 'untaped');
  // tf.variableGrads leaves such a variable out, and an optimizer leaves it be.
  const live = tf.variable(tf.tensor([1, 2]), true, 'zsUtilsLive');
  const stopped = tf.variable(tf.tensor([3, 4]), true, 'zsUtilsStopped');
  const loss = () =>
    tf.add(tf.sum(tf.mul(live, 2)), tf.sum(zs.stopGradient(tf.mul(stopped, 5)))) as tf.Scalar;
  noLeak('variableGrads', () => {
    const { value, grads } = tf.variableGrads(loss, [live, stopped]);
    assert.equal(value.dataSync()[0], 41);
    assert.deepEqual(Object.keys(grads), ['zsUtilsLive']);
    assert.deepEqual(Array.from(grads.zsUtilsLive.dataSync()), [2, 2]);
    tf.dispose([value, ...Object.values(grads)]);
  });
  const sgd = tf.train.sgd(0.5);
  sgd.minimize(loss, false, [live, stopped]);
  assert.deepEqual(Array.from(live.dataSync()), [0, 1]);
  assert.deepEqual(Array.from(stopped.dataSync()), [3, 4]);
  // With no variable on a live path tfjs refuses, as PyTorch's autograd.grad does.
  assert.throws(
    () =>
      tf.variableGrads(() => tf.sum(zs.stopGradient(tf.mul(stopped, 5))) as tf.Scalar, [stopped]),
    /Cannot find a connection between any variable and the result of the loss function/,
  );
  sgd.dispose();
  tf.dispose([live, stopped]);
});

/** Registers on the active backend a kernel copying its input `x`, with gradient `grad` if given. */
function registerCopyKernel(name: string, grad?: () => void): void {
  tf.registerKernel({
    kernelName: name,
    backendName: tf.getBackend(),
    kernelFunc: ({ inputs, backend }) => {
      const x = (inputs as Record<string, tf.TensorInfo>).x;
      const b = backend as unknown as {
        readSync(id: unknown): Float32Array;
        makeTensorInfo(shape: number[], dtype: string, v: Float32Array): tf.TensorInfo;
      };
      return b.makeTensorInfo(x.shape, x.dtype, b.readSync(x.dataId).slice());
    },
  });
  if (grad !== undefined) {
    tf.registerGradient({
      kernelName: name,
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        grad();
        return { x: () => tf.clone(dy as tf.Tensor) };
      },
    });
  }
}

test('no backward work is done through stopGradient or untaped', () => {
  // A kernel whose gradient counts its calls, and one with no gradient at all.
  let backward = 0;
  registerCopyKernel('ZsTestCountedCopy', () => backward++);
  registerCopyKernel('ZsTestUngradedCopy');
  const counted = (v: tf.Tensor) =>
    tf.engine().runKernel('ZsTestCountedCopy', { x: v }) as tf.Tensor;
  const ungraded = (v: tf.Tensor) =>
    tf.engine().runKernel('ZsTestUngradedCopy', { x: v }) as tf.Tensor;
  const x = tf.tensor([1, 2]);
  const gradOf = (f: (v: tf.Tensor) => tf.Tensor): number[] =>
    noLeak('grads', () => {
      const [g] = tf.grads((v: tf.Tensor) => tf.add(tf.sum(tf.mul(v, 2)), tf.sum(f(v))))([x]);
      const out = Array.from(g.dataSync());
      g.dispose();
      return out;
    });
  try {
    // On a live path the counted kernel's gradient runs once, and the other's is missing.
    assert.deepEqual(gradOf(counted), [3, 3]);
    assert.equal(backward, 1);
    assert.throws(() => gradOf(ungraded), /gradient function not found for ZsTestUngradedCopy/);
    // Behind stopGradient or inside untaped neither is reached: the live path's gradient only.
    backward = 0;
    for (const f of [
      (v: tf.Tensor) => zs.stopGradient(counted(v)),
      (v: tf.Tensor) => untaped(() => counted(v)),
      (v: tf.Tensor) => zs.stopGradient(ungraded(v)),
      (v: tf.Tensor) => untaped(() => ungraded(v)),
      (v: tf.Tensor) => tf.mul(zs.stopGradient(tf.exp(ungraded(v))), 3),
    ]) {
      assert.deepEqual(gradOf(f), [2, 2]);
    }
    assert.equal(backward, 0, 'a kernel behind stopGradient had its gradient called');
  } finally {
    x.dispose();
    tf.unregisterKernel('ZsTestCountedCopy', tf.getBackend());
    tf.unregisterGradient('ZsTestCountedCopy');
    tf.unregisterKernel('ZsTestUngradedCopy', tf.getBackend());
  }
});

test('stopGradient and untaped leak no tensors, in and outside tf.tidy', () => {
  const x = tf.tensor([1, 2]);
  // Outside a tidy: the result is the one new tensor (the anchor and the
  // intermediates of compute are gone).
  let before = tf.memory().numTensors;
  const y = zs.stopGradient(x);
  const z = untaped(() => tf.exp(tf.mul(x, 3)));
  assert.equal(tf.memory().numTensors, before + 2);
  tf.dispose([y, z]);
  assert.equal(tf.memory().numTensors, before);
  // Inside one: the same count while it runs, the kept result after.
  before = tf.memory().numTensors;
  const kept = tf.tidy(() => {
    const a = zs.stopGradient(tf.mul(x, 2));
    const b = untaped(() => tf.add(a, 1));
    assert.equal(tf.memory().numTensors, before + 3); // x·2, a and b
    return b;
  });
  assert.equal(tf.memory().numTensors, before + 1);
  assert.deepEqual(Array.from(kept.dataSync()), [3, 5]);
  kept.dispose();
  // Under tf.grads, with a live path: the gradient is all that is left.
  noLeak('grads', () => {
    const [g] = tf.grads((v: tf.Tensor) =>
      tf.sum(
        tf.add(
          v,
          untaped(() => zs.stopGradient(tf.exp(v))),
        ),
      ),
    )([x]);
    assert.deepEqual(Array.from(g.dataSync()), [1, 1]);
    g.dispose();
  });
  x.dispose();
});

test('random.nextWord is xoshiro128** and the stream draws from it', () => {
  // The reference generator's first outputs from the state {1, 2, 3, 4}.
  const s = Uint32Array.from([1, 2, 3, 4]);
  assert.deepEqual(
    [zs.random.nextWord(s), zs.random.nextWord(s), zs.random.nextWord(s)],
    [11520, 0, 5927040],
  );
  // setSeed(seed) starts the stream from seedWords(seed); nextSeed halves a word.
  const words = zs.random.seedWords(7);
  zs.random.setSeed(7);
  for (let i = 0; i < 5; i++) {
    assert.equal(zs.random.nextSeed(), zs.random.nextWord(words) >>> 1 || 1);
  }
  assert.deepEqual(zs.random.getState().s, Array.from(words));
  // Seeds are truncated to uint32 first; no seed gives the all-zero state.
  assert.deepEqual(Array.from(zs.random.seedWords(7.9)), Array.from(zs.random.seedWords(7)));
  assert.ok(zs.random.seedWords(0).some((w) => w !== 0));
});

test('random.uniform53 builds a double in [0, 1) from the high bits of two words', () => {
  // From the state {1, 2, 3, 4} the words are 11520 and 0: (11520 >>> 5)·2²⁶ / 2⁵³.
  const s = Uint32Array.from([1, 2, 3, 4]);
  assert.equal(zs.random.uniform53(s), (360 * 2 ** 26) / 2 ** 53);
  // It used two words: the next is the third output, 5927040.
  assert.equal(zs.random.nextWord(s), 5927040);
  const t = zs.random.seedWords(11);
  let sum = 0;
  for (let i = 0; i < 10000; i++) {
    const u = zs.random.uniform53(t);
    assert.ok(u >= 0 && u < 1, `draw ${i}: ${u}`);
    sum += u;
  }
  // The mean of 10000 uniforms is within 5 standard errors (0.0029) of 1/2.
  assert.ok(Math.abs(sum / 10000 - 0.5) < 5 * Math.sqrt(1 / 12 / 10000), `mean ${sum / 10000}`);
});
