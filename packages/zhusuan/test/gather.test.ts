/**
 * `zs.gather`: tf.gather's values, and a gradient for `x` equal bit for bit
 * to tfjs' own GatherV2 gradient and to a float64 oracle (the sums over the
 * positions in `indices`, in order, rounded once) for every axis, negative
 * axes, batchDims, repeated indices and indices of rank 0, 1 and 2; indices
 * given as arrays; no leaks; clear errors for bad input. On cpu, which has
 * no ZsGatherGrad kernel: the composite route (the native kernel is tested
 * against it in packages/cli/test/gather_native.test.ts).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { gather } from '../src/gather.js';
import { Permute } from '../src/flows/permute.js';
import { noLeak, rng, uniform, useCpu } from './helpers.js';

before(useCpu);

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** `fn()`, asserting that it leaves exactly one new tensor: its result. */
function onlyOutput(what: string, fn: () => tf.Tensor): tf.Tensor {
  const before = tf.memory().numTensors;
  const out = fn();
  assert.equal(tf.memory().numTensors, before + 1, `${what} leaked tensors`);
  return out;
}

/** A gather case: x's shape, the indices' shape, axis and batchDims. */
interface Case {
  x: number[];
  indices: number[];
  axis: number;
  batchDims?: number;
  /** tfjs' own gradient supports it (batchDims 0 or 1; for 2 it has no case). */
  tfjsGrad?: boolean;
}

const CASES: Case[] = [
  { x: [6, 4], indices: [9], axis: 0, tfjsGrad: true },
  { x: [7], indices: [12], axis: 0, tfjsGrad: true },
  { x: [3, 7, 4], indices: [25], axis: 1, tfjsGrad: true },
  { x: [2, 3, 5], indices: [2, 6], axis: 2, tfjsGrad: true },
  { x: [4, 5, 3], indices: [11], axis: -1, tfjsGrad: true },
  { x: [4, 5, 3], indices: [3, 4], axis: -2, tfjsGrad: true },
  { x: [4, 5, 3], indices: [], axis: 1, tfjsGrad: true },
  { x: [3, 5, 4], indices: [3, 8], axis: 1, batchDims: 1, tfjsGrad: true },
  // tfjs' gradient takes batchDims -1 for 0 (it tests batchDims === 1) and fails.
  { x: [3, 5, 4], indices: [3, 8], axis: 2, batchDims: -1 },
  { x: [2, 3, 5, 2], indices: [2, 3, 7], axis: 2, batchDims: 2 },
  { x: [2, 6, 3, 2], indices: [2, 2, 4], axis: 2, batchDims: 1, tfjsGrad: true },
];

function describeCase(c: Case): string {
  return `x [${c.x}], indices [${c.indices}], axis ${c.axis}, batchDims ${c.batchDims ?? 0}`;
}

/** x's view [B, O, N, S] for a normalised axis and batchDims. */
function layout(x: number[], axis: number, b: number) {
  return {
    B: prod(x.slice(0, b)),
    O: prod(x.slice(b, axis)),
    N: x[axis],
    S: prod(x.slice(axis + 1)),
  };
}

/**
 * The float64 oracle of the gradient: dx[b, o, j, s] = Σ_p dy[b, o, p, s]
 * over the positions p with idx[b, p] = j, in ascending p, rounded once.
 */
function oracleGrad(c: Case, idx: number[], dy: number[]): number[] {
  const axis = c.axis < 0 ? c.axis + c.x.length : c.axis;
  const bd = c.batchDims ?? 0;
  const b = bd < 0 ? bd + c.indices.length : bd;
  const { B, O, N, S } = layout(c.x, axis, b);
  const P = idx.length / B;
  const acc = new Float64Array(prod(c.x));
  for (let bb = 0; bb < B; bb++) {
    for (let o = 0; o < O; o++) {
      for (let p = 0; p < P; p++) {
        const j = idx[bb * P + p];
        for (let s = 0; s < S; s++) {
          acc[((bb * O + o) * N + j) * S + s] += dy[((bb * O + o) * P + p) * S + s];
        }
      }
    }
  }
  return Array.from(acc, (v) => Math.fround(v));
}

/** Indices for case c: heavy repeats (more positions than rows), seeded. */
function indicesFor(c: Case, seed: number): number[] {
  const axis = c.axis < 0 ? c.axis + c.x.length : c.axis;
  const r = rng(seed);
  return Array.from({ length: prod(c.indices) }, () => Math.floor(r() * c.x[axis]));
}

/** Float32 values with varied magnitudes, so that sum order shows in the last bits. */
function values(n: number, seed: number): number[] {
  return uniform(rng(seed), n, -1, 1).map((v, i) => Math.fround(v * 10 ** ((i % 5) - 2)));
}

function sameBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Object.is(got[i], want[i]), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

CASES.forEach((c, k) => {
  test(`zs.gather ${describeCase(c)}: tf.gather's values, its gradient exactly`, () => {
    const idx = indicesFor(c, 11 + k);
    const x = tf.tensor(values(prod(c.x), 100 + k), c.x);
    const ind = tf.tensor(idx, c.indices, 'int32');
    const bd = c.batchDims ?? 0;
    const want = tf.gather(x, ind, c.axis, bd);
    const got = onlyOutput('zs.gather', () => gather(x, ind, c.axis, bd));
    assert.deepEqual(got.shape, want.shape);
    sameBits(got.dataSync(), want.dataSync(), 'values');
    const dy = values(want.size, 200 + k);
    const w = tf.tensor(dy, want.shape);
    const grad = (g: typeof gather) =>
      noLeak('gradient', () => {
        const d = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(g(t, ind, c.axis, bd), w)))(x);
        const out = Array.from(d.dataSync());
        assert.deepEqual(d.shape, c.x);
        d.dispose();
        return out;
      });
    const ours = grad(gather);
    sameBits(ours, oracleGrad(c, idx, dy), 'gradient vs the float64 oracle');
    if (c.tfjsGrad === true) {
      sameBits(
        ours,
        grad((t, i, a, b) => tf.gather(t, i as tf.Tensor, a, b)),
        'vs tfjs',
      );
    }
    tf.dispose([x, ind, want, got, w]);
  });
});

test('zs.gather: rank-0 indices drop the axis; the gradient lands in one row', () => {
  const x = tf.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
  const i = tf.scalar(2, 'int32');
  const y = gather(x, i, 0);
  assert.deepEqual(y.shape, [2]);
  assert.deepEqual(Array.from(y.dataSync()), [5, 6]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gather(t, i, 0), tf.tensor([3, 4]))))(x);
  assert.deepEqual(Array.from(g.dataSync()), [0, 0, 0, 0, 3, 4]);
  tf.dispose([x, i, y, g]);
});

test('zs.gather: integer arrays as indices (plain, nested, Int32Array), freed after', () => {
  const x = tf.tensor([10, 20, 30, 40], [4]);
  for (const ind of [[3, 0, 3], Int32Array.from([3, 0, 3])]) {
    const y = onlyOutput('array indices', () => gather(x, ind));
    assert.deepEqual(Array.from(y.dataSync()), [40, 10, 40]);
    y.dispose();
  }
  const y2 = gather(x, [
    [1, 2],
    [3, 3],
  ]);
  assert.deepEqual(y2.shape, [2, 2]);
  assert.deepEqual(Array.from(y2.dataSync()), [20, 30, 40, 40]);
  const before = tf.memory().numTensors;
  const g = tf.grad((t: tf.Tensor) => tf.sum(gather(t, [3, 0, 3])))(x);
  assert.deepEqual(Array.from(g.dataSync()), [1, 0, 0, 2]);
  g.dispose();
  assert.equal(tf.memory().numTensors, before, 'the gradient with array indices leaked tensors');
  tf.dispose([x, y2]);
});

test('zs.gather: the indices may be disposed before the backward pass (they are kept)', () => {
  const x = tf.tensor([1, 2, 3], [3]);
  const before = tf.memory().numTensors;
  const g = tf.grad((t: tf.Tensor) =>
    tf.tidy(() => {
      const ind = tf.tensor1d([2, 2, 0], 'int32');
      const y = tf.sum(gather(t, ind));
      ind.dispose();
      return y;
    }),
  )(x);
  assert.deepEqual(Array.from(g.dataSync()), [1, 0, 2]);
  g.dispose();
  assert.equal(tf.memory().numTensors, before, 'leaked tensors');
  x.dispose();
});

test('zs.gather: tf.variableGrads through it, no leaks', () => {
  const v = tf.variable(tf.tensor([1, 2, 3, 4, 5, 6], [1, 3, 2]));
  const ind = tf.tensor1d([0, 2, 2], 'int32');
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => tf.sum(gather(v, ind, 1)));
  assert.equal(value.dataSync()[0], 1 + 2 + 5 + 6 + 5 + 6);
  assert.deepEqual(Array.from(grads[v.name].dataSync()), [1, 1, 0, 0, 2, 2]);
  tf.dispose([value, grads[v.name]]);
  assert.equal(tf.memory().numTensors, before, 'leaked tensors');
  tf.dispose([v, ind]);
});

test("zs.gather: second derivatives equal tfjs gather's", () => {
  const x = tf.tensor(values(3 * 6 * 2, 7), [3, 6, 2]);
  const ind = tf.tensor2d([4, 0, 4, 5, 4, 1, 0, 4], [2, 4], 'int32');
  const w = tf.tensor(values(3 * 8 * 2, 8), [3, 2, 4, 2]);
  const v = tf.tensor(values(3 * 6 * 2, 9), [3, 6, 2]);
  const second = (g: (t: tf.Tensor) => tf.Tensor) =>
    noLeak('second derivative', () => {
      const d = tf.grad((t: tf.Tensor) => {
        const inner = tf.grad((s: tf.Tensor) => tf.sum(tf.mul(tf.pow(g(s), 3), w)))(t);
        return tf.sum(tf.mul(inner, v));
      })(x);
      const out = Array.from(d.dataSync());
      d.dispose();
      return out;
    });
  sameBits(
    second((t) => gather(t, ind, 1)),
    second((t) => tf.gather(t, ind, 1)),
    'second derivative',
  );
  tf.dispose([x, ind, w, v]);
});

test('Permute: reorders with zs.gather, its gradient the inverse permutation', () => {
  const p = new Permute([2, 0, 1]);
  const x = tf.tensor([
    [10, 20, 30],
    [1, 2, 3],
  ]);
  const y = onlyOutput('Permute', () => tf.tidy(() => p.forward(x).y));
  assert.deepEqual(Array.from(y.dataSync()), [30, 10, 20, 3, 1, 2]);
  const w = tf.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(p.forward(t).y, w)))(x);
  // dy[i] lands on x[perm[i]]: x[2] gets w[0], x[0] gets w[1], x[1] gets w[2].
  assert.deepEqual(Array.from(g.dataSync()), [2, 3, 1, 5, 6, 4]);
  tf.dispose([x, y, w, g]);
});

test("zs.gather: an index out of range is an error (the backend's GatherV2 check)", () => {
  const x = tf.zeros([2, 5, 3]);
  const before = tf.memory().numTensors;
  for (const [idx, re] of [
    [[0, 5], /zs\.gather: `indices`: GatherV2: the index value 5 is not in \[0, 4\]/],
    [[-1], /the index value -1 is not in \[0, 4\]/],
  ] as Array<[number[], RegExp]>) {
    tf.tidy(() => {
      assert.throws(() => gather(x, idx, 1), re);
    });
  }
  assert.equal(tf.memory().numTensors, before, 'a failed call leaked tensors');
  x.dispose();
});

test('zs.gather: bad input gets errors naming the argument', () => {
  const x = tf.zeros([2, 5, 3]);
  const i = tf.tensor1d([0, 4], 'int32');
  const cases: Array<[() => unknown, RegExp]> = [
    [
      () => gather(x, tf.tensor1d([0, 1])),
      /zs\.gather: `indices` must be an int32 tensor, got float32/,
    ],
    [() => gather(x, [0, 1.5]), /zs\.gather: `indices` must be integers .* got 1\.5/],
    [() => gather(x, i, 3), /zs\.gather: `axis` must be an integer in \[-3, 2\] .* got 3/],
    [() => gather(x, i, -4), /`axis` must be an integer in \[-3, 2\]/],
    [() => gather(x, i, 0.5), /`axis` must be an integer/],
    [() => gather(x, i, 1, 2), /`batchDims` must be an integer in \[-1, 1\]/],
    [
      () => gather(x, tf.zeros([2, 2], 'int32'), 0, 1),
      /`batchDims` \(1\) must be at most `axis` \(0\)/,
    ],
    [() => gather(x, tf.zeros([3, 2], 'int32'), 1, 1), /batch axes .* differ at axis 0 \(2 vs 3\)/],
    [() => gather(tf.scalar(1), [0]), /`x` must have rank ≥ 1/],
    [() => gather([1, 2] as unknown as tf.Tensor, [0]), /`x` must be a tf\.Tensor/],
  ];
  const before = tf.memory().numTensors;
  for (const [f, re] of cases) {
    tf.tidy(() => {
      assert.throws(f, re);
    });
  }
  assert.equal(tf.memory().numTensors, before, 'a failed call leaked tensors');
  tf.dispose([x, i]);
});
