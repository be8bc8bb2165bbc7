import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../src/index.js';
import { assertClose, useCpu } from './helpers.js';

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
