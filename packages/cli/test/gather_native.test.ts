/**
 * `zs.gather`'s gradient on `native`, where the backend registers the
 * `ZsGatherGrad` kernel, against the library's composite (Transpose,
 * UnsortedSegmentSum, Transpose) on native (the kernel unregistered) and on
 * cpu: bit for bit, since all three sum in double over the positions in
 * `indices` in order and round once. Cases cover every axis, negative axes,
 * batchDims, repeated indices, indices of rank 0-2, slices of 1, 5 (a fixed-
 * length row) and 40 (the generic loop; a single block split by columns),
 * and sizes past the pool's threshold (pmf_hmc's [8, 200, 5] by 4500
 * ratings). Also: one kernel instead of tfjs' transposes, the kernel's own
 * errors, and no leaks.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { useBackend } from '../src/backend.js';
import { requireNative, withoutKernel } from './helpers.js';

const KERNEL = zs.OPTIONAL_KERNELS.gatherGrad;

before(requireNative);

/** Deterministic float32 values in [-1, 1) times 10^(i mod 5 − 2) (an LCG). */
function values(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = (2 * (s / 2 ** 32) - 1) * 10 ** ((i % 5) - 2);
  }
  return v;
}

/** Deterministic indices in [0, n). */
function indexValues(count: number, n: number, seed: number): Int32Array {
  const v = new Int32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = Math.floor((s / 2 ** 32) * n);
  }
  return v;
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

interface Case {
  x: number[];
  indices: number[];
  axis: number;
  batchDims?: number;
}

const CASES: Case[] = [
  { x: [6, 4], indices: [9], axis: 0 },
  { x: [300, 40], indices: [2000], axis: 0 },
  { x: [3, 7, 5], indices: [25], axis: 1 },
  { x: [8, 200, 5], indices: [4500], axis: 1 },
  { x: [2, 3, 5], indices: [2, 6], axis: 2 },
  { x: [4, 5, 3], indices: [11], axis: -1 },
  { x: [4, 9, 12], indices: [3, 4], axis: -2 },
  { x: [4, 5, 3], indices: [], axis: 1 },
  { x: [3, 5], indices: [], axis: 0 },
  { x: [3, 5, 4], indices: [3, 8], axis: 1, batchDims: 1 },
  { x: [2, 3, 5, 2], indices: [2, 3, 7], axis: 2, batchDims: 2 },
  { x: [2, 6, 3, 40], indices: [2, 6, 4], axis: 2, batchDims: -1 },
];

/** The gradient of Σ w·zs.gather(x, indices, axis, batchDims) for x, on the active backend. */
function gradient(c: Case, k: number): number[] {
  const axis = c.axis < 0 ? c.axis + c.x.length : c.axis;
  const bd = c.batchDims ?? 0;
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const x = tf.tensor(values(prod(c.x), 10 + k), c.x);
    const ind = tf.tensor(indexValues(prod(c.indices), c.x[axis], 20 + k), c.indices, 'int32');
    const wShape = zs.gather(x, ind, c.axis, bd).shape;
    const w = tf.tensor(values(prod(wShape), 30 + k), wShape);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(zs.gather(t, ind, c.axis, bd), w)))(x);
    assert.deepEqual(g.shape, c.x);
    return Array.from(g.dataSync());
  });
  assert.equal(tf.memory().numTensors, before, `${tf.getBackend()}: the gradient leaked tensors`);
  return out;
}

function sameBits(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Object.is(got[i], want[i]), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

CASES.forEach((c, k) => {
  const name = `x [${c.x}], indices [${c.indices}], axis ${c.axis}, batchDims ${c.batchDims ?? 0}`;
  test(`ZsGatherGrad ${name}: the composite's numbers on native and on cpu`, async () => {
    await useBackend('cpu');
    const cpu = gradient(c, k);
    await useBackend('native');
    const kernel = gradient(c, k);
    const composite = withoutKernel(KERNEL, () => gradient(c, k));
    sameBits(kernel, composite, 'kernel vs the composite on native');
    sameBits(kernel, cpu, 'kernel vs the composite on cpu');
  });
});

test('ZsGatherGrad: second derivatives (its registered gradient) equal the composite on cpu', async () => {
  const second = () =>
    tf.tidy(() => {
      const x = tf.tensor(values(8 * 30 * 5, 3), [8, 30, 5]);
      const ind = tf.tensor1d(indexValues(200, 30, 4), 'int32');
      const w = tf.tensor(values(8 * 200 * 5, 5), [8, 200, 5]);
      const v = tf.tensor(values(8 * 30 * 5, 6), [8, 30, 5]);
      const d = tf.grad((t: tf.Tensor) => {
        const inner = tf.grad((s: tf.Tensor) => tf.sum(tf.mul(tf.pow(zs.gather(s, ind, 1), 3), w)))(
          t,
        );
        return tf.sum(tf.mul(inner, v));
      })(x);
      return Array.from(d.dataSync());
    });
  await useBackend('cpu');
  const cpu = second();
  await useBackend('native');
  const before = tf.memory().numTensors;
  sameBits(second(), cpu, 'native vs cpu');
  assert.equal(tf.memory().numTensors, before, 'leaked tensors');
});

test('ZsGatherGrad: one kernel per gradient, no Transpose or UnsortedSegmentSum', async () => {
  await useBackend('native');
  const u = tf.tensor(values(8 * 20 * 5, 1), [8, 20, 5]);
  const users = tf.tensor1d(indexValues(90, 20, 2), 'int32');
  const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(zs.gather(t, users, 1)))(u));
  const names = info.kernelNames;
  assert.equal(names.filter((n) => n === KERNEL).length, 1, `kernels: ${names}`);
  assert.ok(!names.includes('Transpose') && !names.includes('UnsortedSegmentSum'), `${names}`);
  tf.dispose([u, users]);
});

test('ZsGatherGrad: its own errors name the kernel and the fault', async () => {
  await useBackend('native');
  const run = (inputs: tf.NamedTensorMap, attrs: object) =>
    tf.tidy(() => tf.engine().runKernel(KERNEL, inputs, attrs as tf.NamedAttrMap));
  const dy = tf.zeros([2, 3]);
  const ind = tf.tensor1d([0, 1, 4], 'int32');
  const attrs = { paramShape: [2, 4], axis: 1, batchDims: 0 };
  assert.throws(
    () => run({ dy, indices: ind }, attrs),
    /ZsGatherGrad: the index value 4 is not in \[0, 3\]/,
  );
  assert.throws(
    () => run({ dy: tf.zeros([2, 2]), indices: ind }, attrs),
    /ZsGatherGrad: dy has shape \[2,2\], expected \[2,3\]/,
  );
  assert.throws(
    () => run({ dy, indices: tf.tensor1d([0, 1, 2]) }, attrs),
    /ZsGatherGrad: indices must be an int32 tensor, got float32/,
  );
  assert.throws(
    () => run({ dy, indices: ind }, { ...attrs, axis: 2 }),
    /ZsGatherGrad: need 0 <= batchDims <= axis < rank\(paramShape\)/,
  );
  assert.throws(
    () => run({ dy: tf.zeros([2, 3], 'int32'), indices: tf.tensor1d([0, 1, 2], 'int32') }, attrs),
    /ZsGatherGrad: dy must be a float32 tensor/,
  );
  tf.dispose([dy, ind]);
});
