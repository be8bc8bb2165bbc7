/**
 * Every overridden kernel gives the cpu backend's values (1e-5 relative)
 * across shapes, broadcasting patterns, transposes and axes.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { addonCalls, assertClose, rand, runOn, sameOnBoth, setupNative } from './helpers.js';

before(async () => {
  await setupNative();
});

function its(name: string, f: () => Promise<void>): void {
  it(name, async () => {
    await f();
  });
}

describe('BatchMatMul', () => {
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[3, 4], [4, 5], false, false],
    [[4, 3], [4, 5], true, false],
    [[3, 4], [5, 4], false, true],
    [[4, 3], [5, 4], true, true],
    [[128, 784], [784, 500], false, false],
    [[128, 500], [128, 784], true, false],
    [[128, 784], [500, 784], false, true],
    // Products of >= 8 MFLOP are split over the pool's threads: by rows
    // (M >= N) or columns, sizes not multiples of the 16-wide blocks.
    [[777, 200], [200, 60], false, false],
    [[200, 777], [200, 60], true, false],
    [[50, 300], [333, 300], false, true],
    [[300, 50], [300, 333], true, false],
    [[2, 3, 4], [2, 4, 5], false, false],
    [[2, 4, 3], [2, 5, 4], true, true],
    [[1, 3, 4], [6, 4, 5], false, false],
    [[6, 3, 4], [4, 5], false, false],
    [[6, 4, 3], [1, 4, 5], true, false],
    [[2, 3, 3, 4], [2, 3, 4, 2], false, false],
    [[1, 7], [7, 1], false, false],
    [[3, 0], [0, 2], false, false],
    // The BNN's shapes (20 chains): forward and the gradients' transposes.
    [[20, 100, 14], [20, 50, 14], false, true],
    [[20, 100, 51], [20, 1, 51], false, true],
    [[20, 100, 1], [20, 1, 51], false, false],
    [[20, 100, 1], [20, 100, 51], true, false],
    [[20, 100, 50], [20, 100, 14], true, false],
  ];
  for (const [as, bs, ta, tb] of cases) {
    its(`${as} x ${bs} transposeA=${ta} transposeB=${tb}`, () =>
      sameOnBoth(() => tf.matMul(rand(as, 1), rand(bs, 2), ta, tb), 'matMul', 1e-5, 0, true),
    );
  }
  // Batch dimensions that broadcast other than by a batch of 1 (tfjs-cpu
  // pairs batch i with i mod each batch size there and returns too few
  // values): against the cpu product of the operands broadcast explicitly.
  const broadcastCases: Array<[number[], number[], boolean, boolean]> = [
    [[2, 1, 3, 4], [1, 3, 4, 5], false, false],
    [[2, 3, 2, 4], [3, 4, 5], false, false],
    [[3, 1, 4, 2], [1, 4, 3, 4], true, true],
    [[6, 3, 4], [2, 1, 5, 4], false, true],
  ];
  for (const [as, bs, ta, tb] of broadcastCases) {
    its(`broadcast batch ${as} x ${bs} transposeA=${ta} transposeB=${tb}`, async () => {
      const outer = tf.broadcast_util.assertAndGetBroadcastShape(as.slice(0, -2), bs.slice(0, -2));
      const explicit = await runOn('cpu', () =>
        tf.matMul(
          tf.broadcastTo(rand(as, 3), [...outer, ...as.slice(-2)]),
          tf.broadcastTo(rand(bs, 4), [...outer, ...bs.slice(-2)]),
          ta,
          tb,
        ),
      );
      const nat = await runOn('native', () => tf.matMul(rand(as, 3), rand(bs, 4), ta, tb));
      assert.deepEqual(nat.shape, explicit.shape);
      const scale = explicit.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assertClose(nat.values, explicit.values, 1e-5, 1e-5 * scale, 'broadcast matMul');
      assert.equal(
        await addonCalls('matMul', () => tf.matMul(rand(as, 3), rand(bs, 4), ta, tb)),
        1,
      );
    });
  }
});

describe('_FusedMatMul', () => {
  const acts = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const;
  for (const activation of acts) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      its(`${activation} transposeA=${ta} transposeB=${tb}`, () =>
        sameOnBoth(
          () =>
            tf.fused.matMul({
              a: rand(ta ? [7, 5] : [5, 7], 3, -2, 2),
              b: rand(tb ? [6, 7] : [7, 6], 4, -2, 2),
              transposeA: ta,
              transposeB: tb,
              bias: rand([6], 5),
              activation,
              preluActivationWeights: activation === 'prelu' ? rand([6], 6, 0, 1) : undefined,
              leakyreluAlpha: 0.3,
            }),
          `fused ${activation}`,
        ),
      );
    }
  }
  its('bias broadcast over rows ([M,1]) and full ([M,N])', async () => {
    await sameOnBoth(
      () =>
        tf.fused.matMul({
          a: rand([5, 7], 7),
          b: rand([7, 6], 8),
          bias: rand([5, 1], 9),
          activation: 'relu',
        }),
      'column bias',
    );
    await sameOnBoth(
      () => tf.fused.matMul({ a: rand([5, 7], 7), b: rand([7, 6], 8), bias: rand([5, 6], 9) }),
      'full bias',
    );
    await sameOnBoth(
      () =>
        tf.fused.matMul({
          a: rand([2, 5, 7], 7),
          b: rand([2, 7, 6], 8),
          bias: rand([6], 9),
          activation: 'relu',
        }),
      'batched, row bias',
    );
  });
  its('no bias', () =>
    sameOnBoth(
      () => tf.fused.matMul({ a: rand([5, 7], 7), b: rand([7, 6], 8), activation: 'relu' }),
      'no bias',
    ),
  );
});

describe('broadcasting binary ops', () => {
  const shapes: Array<[number[], number[]]> = [
    [
      [3, 4],
      [3, 4],
    ],
    [[3, 4], [4]],
    [[4], [3, 4]],
    [
      [3, 1],
      [1, 4],
    ],
    [[], [2, 3, 4]],
    [[2, 3, 4], []],
    [
      [2, 1, 4],
      [3, 1],
    ],
    [
      [128, 1],
      [128, 784],
    ],
    [[784], [128, 784]],
    [
      [2, 3, 1, 5],
      [1, 3, 4, 1],
    ],
    [[1, 1], [1]],
    [
      [5, 1, 1],
      [1, 1, 7],
    ],
    [[0, 3], [3]],
  ];
  const ops: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, number, number]> = [
    ['add', tf.add, -3, 3],
    ['sub', tf.sub, -3, 3],
    ['mul', tf.mul, -3, 3],
    ['div', tf.div, 0.5, 3],
    ['maximum', tf.maximum, -3, 3],
    ['minimum', tf.minimum, -3, 3],
    ['squaredDifference', tf.squaredDifference, -3, 3],
    ['pow', tf.pow, 0.1, 2],
    ['atan2', tf.atan2, -3, 3],
    ['prelu', (a, b) => tf.prelu(a, b), -3, 3],
  ];
  for (const [name, op, lo, hi] of ops) {
    its(name, async () => {
      for (const [as, bs] of shapes) {
        if (name === 'prelu' && bs.length > as.length) continue; // prelu's alpha broadcasts into x
        await sameOnBoth(
          () => op(rand(as, 11, lo, hi), rand(bs, 12, lo, hi)),
          `${name} ${as} ${bs}`,
        );
      }
    });
  }
  const cmps: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
    ['equal', tf.equal],
    ['notEqual', tf.notEqual],
    ['less', tf.less],
    ['lessEqual', tf.lessEqual],
    ['greater', tf.greater],
    ['greaterEqual', tf.greaterEqual],
  ];
  for (const [name, op] of cmps) {
    its(name, async () => {
      for (const [as, bs] of shapes) {
        // Rounded values so that equality happens.
        await sameOnBoth(
          () => op(tf.round(rand(as, 13, -2, 2)), tf.round(rand(bs, 14, -2, 2))),
          `${name} ${as} ${bs}`,
        );
      }
    });
  }
  its('addN', () =>
    sameOnBoth(() => tf.addN([rand([3, 4], 1), rand([3, 4], 2), rand([3, 4], 3)]), 'addN'),
  );
  its('int32 inputs fall back to cpu', () =>
    sameOnBoth(
      () => tf.add(tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([4], [1], 'int32')),
      'int32 add',
    ),
  );
  its('NaN propagates through maximum and minimum', () =>
    sameOnBoth(
      () => tf.stack([tf.maximum([NaN, 1, 2], [0, NaN, 1]), tf.minimum([NaN, 1, 2], [0, NaN, 1])]),
      'nan max',
    ),
  );
  its('a bool cast to float32 (Uint8Array behind float32 on cpu)', () =>
    sameOnBoth(
      () => tf.mul(tf.cast(tf.greater(rand([4, 5], 1), 0), 'float32'), rand([4, 5], 2)),
      'bool cast',
    ),
  );
});

describe('unary ops', () => {
  const ops: Array<[string, (x: tf.Tensor) => tf.Tensor, number, number]> = [
    ['neg', tf.neg, -5, 5],
    ['abs', tf.abs, -5, 5],
    ['exp', tf.exp, -80, 80],
    ['log', tf.log, 1e-30, 1e6],
    ['log1p', tf.log1p, -0.999, 10],
    ['sqrt', tf.sqrt, 0, 100],
    ['rsqrt', tf.rsqrt, 1e-3, 100],
    ['square', tf.square, -5, 5],
    ['reciprocal', tf.reciprocal, 0.01, 5],
    ['sigmoid', tf.sigmoid, -30, 30],
    ['softplus', tf.softplus, -30, 30],
    ['relu', tf.relu, -5, 5],
    ['relu6', tf.relu6, -8, 8],
    ['step', (x) => tf.step(x, 0.25), -5, 5],
    ['sign', tf.sign, -5, 5],
    ['tanh', tf.tanh, -10, 10],
    ['elu', tf.elu, -5, 5],
    ['selu', tf.selu, -5, 5],
    ['leakyRelu', (x) => tf.leakyRelu(x, 0.1), -5, 5],
    ['expm1', tf.expm1, -5, 5],
    ['sin', tf.sin, -3, 3],
    ['cos', tf.cos, -1.5, 1.5],
    ['floor', tf.floor, -5, 5],
    ['ceil', tf.ceil, -5, 5],
    ['round', tf.round, -5, 5],
    ['clipByValue', (x) => tf.clipByValue(x, -0.5, 0.7), -2, 2],
  ];
  for (const [name, op, lo, hi] of ops) {
    its(name, async () => {
      for (const shape of [[7], [128, 784], [3, 1, 5]]) {
        await sameOnBoth(() => op(rand(shape, 21, lo, hi)), `${name} ${shape}`);
      }
      // Small magnitudes (relative accuracy near 0) and special values.
      await sameOnBoth(() => op(rand([64], 22, lo / 1000, hi / 1000)), `${name} small`);
      await sameOnBoth(
        () => op(tf.tensor([0, -0, Infinity, -Infinity, NaN, 1e-40, -1e-40])),
        `${name} special`,
      );
    });
  }
  its('exp and log at the float range edges', async () => {
    await sameOnBoth(() => tf.exp(tf.tensor([88.7, 88.8, -87, -100, -104, 1e-8])), 'exp edges');
    await sameOnBoth(() => tf.log(tf.tensor([3.4e38, 1.2e-38, 1e-45, 1, 2])), 'log edges');
    await sameOnBoth(() => tf.log1p(tf.tensor([-1, -0.5, 1e-10, -1e-10, 3e38, -2])), 'log1p edges');
  });
});

describe('reductions', () => {
  const axesCases: Array<number | number[] | undefined> = [
    undefined,
    0,
    1,
    -1,
    [0, 2],
    [1, 2],
    [0, 1, 2],
    [],
  ];
  const reds: Array<
    [string, (x: tf.Tensor, axis?: number | number[], keep?: boolean) => tf.Tensor]
  > = [
    ['sum', tf.sum],
    ['mean', tf.mean],
    ['max', tf.max],
    ['min', tf.min],
    ['prod', tf.prod],
  ];
  for (const [name, op] of reds) {
    its(name, async () => {
      for (const axis of axesCases) {
        for (const keep of [false, true]) {
          const lo = name === 'prod' ? 0.8 : -1;
          const hi = name === 'prod' ? 1.2 : 1;
          await sameOnBoth(
            () => op(rand([4, 5, 6], 31, lo, hi), axis, keep),
            `${name} axis=${axis} keep=${keep}`,
          );
        }
      }
      for (const axis of [0, 1, undefined]) {
        await sameOnBoth(
          () => op(rand([128, 784], 32, 0.999, 1.001), axis),
          `${name} [128,784] axis=${axis}`,
        );
      }
      await sameOnBoth(() => op(rand([2, 1, 3, 1, 4], 33), [1, 3]), `${name} size-1 axes`);
      await sameOnBoth(() => op(rand([3, 4, 5, 6], 34), [0, 2]), `${name} alternating axes`);
      await sameOnBoth(() => op(tf.scalar(2.5)), `${name} scalar`);
    });
  }
  // A sum over trailing axes runs row by row on the pool; each row is summed
  // in double in the order of the general reduction (eight lanes over
  // blocks of 8, added as a tree, then the tail in order), so the numbers
  // are exactly that order's, whatever the row length or the threads.
  its('sums over trailing axes: the general order, bit for bit', async () => {
    const rowSum = (v: ArrayLike<number>, at: number, n: number): number => {
      const s = new Float64Array(8);
      let i = 0;
      for (; i + 8 <= n; i += 8) for (let l = 0; l < 8; l++) s[l] += v[at + i + l];
      let t = s[0] + s[1] + (s[2] + s[3]) + (s[4] + s[5] + (s[6] + s[7]));
      for (; i < n; i++) t += v[at + i];
      return Math.fround(t);
    };
    for (const [shape, axis] of [
      [[8, 4500, 5], 2], // pmf_hmc's dot products: on the pool
      [[7, 3], -1],
      [
        [1000, 1, 7],
        [1, 2],
      ],
      [
        [300, 2, 3],
        [1, 2],
      ], // rows of 6 over two axes
      [[5000, 12], 1], // past the eight lanes, on the pool
      [[64, 33], 1],
      [[6, 1], 1],
    ] as Array<[number[], number | number[]]>) {
      const got = await runOn('native', () => tf.sum(rand(shape, 35, -1, 1), axis));
      const x = (await runOn('native', () => rand(shape, 35, -1, 1))).values;
      const n = shape.slice(Array.isArray(axis) ? axis[0] : (axis + shape.length) % shape.length);
      const inner = n.reduce((a, b) => a * b, 1);
      const want = Array.from({ length: x.length / inner }, (_, r) => rowSum(x, r * inner, inner));
      assert.deepEqual(Array.from(got.values), want, `sum [${shape}] axis ${axis}`);
    }
  });
  its('max/min keep NaN', async () => {
    await sameOnBoth(() => tf.max(tf.tensor2d([1, NaN, 3, 4, 5, 6], [2, 3]), 1), 'max nan row');
    await sameOnBoth(() => tf.min(tf.tensor2d([1, NaN, 3, 4, 5, 6], [2, 3]), 0), 'min nan col');
  });
  its('sums with cancellation (double accumulation)', () =>
    sameOnBoth(
      () =>
        tf.sum(
          tf.concat([
            rand([1000], 35, 1e4, 1e4 + 1),
            tf.neg(rand([1000], 35, 1e4, 1e4 + 1)),
            rand([10], 36),
          ]),
        ),
      'cancel',
    ),
  );
});

describe('slice, concat, transpose, cast', () => {
  its('slice windows of rank 1-4', async () => {
    await sameOnBoth(() => tf.slice(rand([10], 41), [2], [5]), 'slice 1d');
    await sameOnBoth(() => tf.slice(rand([128, 80], 42), [0, 40], [128, 40]), 'slice columns');
    await sameOnBoth(() => tf.slice(rand([128, 80], 42), [3, 0], [5, -1]), 'slice rows');
    await sameOnBoth(() => tf.slice(rand([4, 5, 6], 43), [1, 2, 3], [2, 2, 2]), 'slice 3d');
    await sameOnBoth(
      () => tf.slice(rand([3, 4, 5, 6], 44), [0, 1, 0, 2], [3, 2, 5, 3]),
      'slice 4d',
    );
    await sameOnBoth(
      () => tf.slice(tf.tensor([1, 2, 3, 4], [4], 'int32'), [1], [2]),
      'slice int32',
    );
    await sameOnBoth(() => tf.slice(rand([4, 5], 45), [1, 1], [0, 3]), 'empty slice');
    await sameOnBoth(() => tf.split(rand([6, 8], 46), [3, 5], 1)[1], 'split');
  });
  its('a slice outlives its input (no aliasing of pooled buffers)', async () => {
    await tf.setBackend('native');
    const x = tf.add(rand([4, 6], 47), 1);
    const s = tf.slice(x, [1, 0], [2, 6]);
    const expected = Array.from(s.dataSync());
    x.dispose();
    // Reuse the pool heavily, then read the slice again.
    for (let i = 0; i < 5; i++) tf.tidy(() => tf.mul(rand([4, 6], 48 + i), 3).dataSync());
    assert.deepEqual(Array.from(s.dataSync()), expected);
    s.dispose();
  });
  its('dataSync() results are not recycled', async () => {
    await tf.setBackend('native');
    const y = tf.add(rand([16], 49), 2);
    const v = y.dataSync();
    const copy = Array.from(v);
    y.dispose();
    tf.tidy(() => tf.mul(rand([16], 50), 100).dataSync());
    assert.deepEqual(Array.from(v), copy);
  });
  its('concat along each axis', async () => {
    await sameOnBoth(() => tf.concat([rand([2, 3], 51), rand([2, 5], 52)], 1), 'concat cols');
    await sameOnBoth(() => tf.concat([rand([2, 3], 51), rand([4, 3], 52)], 0), 'concat rows');
    await sameOnBoth(
      () => tf.concat([rand([2, 3, 4], 53), rand([2, 1, 4], 54), rand([2, 2, 4], 55)], 1),
      'concat 3d',
    );
    await sameOnBoth(() => tf.concat([rand([2, 0], 56), rand([2, 3], 57)], 1), 'concat empty');
  });
  its('transpose permutations', async () => {
    await sameOnBoth(() => tf.transpose(rand([37, 45], 61)), 'transpose 2d');
    await sameOnBoth(() => tf.transpose(rand([3, 4, 5], 62), [2, 0, 1]), 'transpose 3d');
    await sameOnBoth(() => tf.transpose(rand([3, 4, 5], 62), [0, 2, 1]), 'transpose 3d inner');
    await sameOnBoth(() => tf.transpose(rand([2, 3, 4, 5], 63), [3, 1, 2, 0]), 'transpose 4d');
    await sameOnBoth(
      () => tf.transpose(tf.tensor([1, 2, 3, 4, 5, 6], [2, 3], 'int32')),
      'transpose int32',
    );
  });
  its('cast bool and int32 to float32', async () => {
    await sameOnBoth(() => tf.cast(tf.greater(rand([3, 4], 71), 0), 'float32'), 'cast bool');
    await sameOnBoth(() => tf.cast(tf.tensor([1, -2, 3], [3], 'int32'), 'float32'), 'cast int32');
    await sameOnBoth(() => tf.cast(rand([5], 72, -3, 3), 'int32'), 'cast to int32 (cpu)');
  });
});

describe('denormals', () => {
  its(
    'element-wise results below 1.2e-38 flush to 0 inside kernels; inputs keep their value',
    async () => {
      await tf.setBackend('native');
      // e^-100 = 3.7e-44 and 1e-30 · 1e-10 are denormal results: flushed.
      const e = tf.exp(tf.tensor([-100, -1]));
      const m = tf.mul(tf.tensor([1e-30, 2]), tf.tensor([1e-10, 3]));
      assert.deepEqual(Array.from(e.dataSync()), [0, Math.fround(Math.exp(-1))]);
      assert.deepEqual(Array.from(m.dataSync()), [0, 6]);
      // A denormal input is still itself: negative, positive, not zero.
      const tiny = tf.tensor([-1e-40, 1e-40]);
      assert.deepEqual(
        Array.from(tf.step(tiny).dataSync()).concat(Array.from(tf.sign(tiny).dataSync())),
        [0, 1, -1, 1],
      );
      assert.ok(Number.isNaN(tf.log(tiny).dataSync()[0]));
      tf.dispose([e, m, tiny]);
    },
  );
  its('the flush never leaks into JavaScript, whose numbers need denormals', async () => {
    await tf.setBackend('native');
    tf.tidy(() => tf.softplus(tf.mul(rand([40000], 81), 100)).dataSync());
    const v = [Number.MIN_VALUE, 1.5];
    const small = v[0] * v[1]; // a denormal result, computed at run time
    assert.ok(small > 0, 'the FTZ bit is still set on the main thread');
    assert.equal(v[0] / v[1], Number.MIN_VALUE, 'MIN_VALUE / 1.5 rounds back to MIN_VALUE, not 0');
  });
});
