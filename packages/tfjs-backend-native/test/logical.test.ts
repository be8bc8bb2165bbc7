/**
 * Select, LogicalNot, LogicalAnd, LogicalOr, IsFinite, IsNan and IsInf
 * (kernels/logical.ts) give exactly the cpu backend's shapes, dtypes and
 * values (bit for bit: NaN, ±Inf and −0 included) across shapes, broadcasts,
 * dtypes and empty tensors; gradients of `tf.where` through the native Select
 * are the cpu's exactly; the kernels run in the addon and leak nothing.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { NativeBackend } from '../src/backend.js';
import { getAddon } from '../src/addon.js';
import { addonCalls, runManyOn, setupNative, uniform } from './helpers.js';

before(async () => {
  await setupNative();
});

/** `f` on cpu and on native: same shapes, dtypes and values, compared with Object.is. */
async function sameExactly(f: () => tf.Tensor | tf.Tensor[], what: string): Promise<void> {
  const all = (): tf.Tensor[] => {
    const out = f();
    return Array.isArray(out) ? out : [out];
  };
  const cpu = await runManyOn('cpu', all);
  const nat = await runManyOn('native', all);
  assert.equal(nat.length, cpu.length, `${what}: number of results`);
  for (let r = 0; r < cpu.length; r++) {
    assert.deepEqual(nat[r].shape, cpu[r].shape, `${what}[${r}]: shape`);
    assert.equal(nat[r].dtype, cpu[r].dtype, `${what}[${r}]: dtype`);
    assert.equal(nat[r].values.length, cpu[r].values.length, `${what}[${r}]: size`);
    for (let i = 0; i < cpu[r].values.length; i++) {
      const a = nat[r].values[i];
      const e = cpu[r].values[i];
      assert.ok(Object.is(a, e), `${what}[${r}][${i}]: native ${a}, cpu ${e}`);
    }
  }
}

/** Deterministic float32 values with NaN, ±Inf, ±0, the extremes and a denormal mixed in. */
function specials(n: number, seed: number): Float32Array {
  const v = uniform([n], seed, -3, 3);
  const odd = [
    NaN,
    Infinity,
    -Infinity,
    0,
    -0,
    3.4028234663852886e38,
    -3.4028234663852886e38,
    1e-45,
  ];
  for (let i = 0; i < n; i += 3) v[i] = odd[(i / 3) % odd.length];
  return v;
}

/** A float32 tensor of `shape` from {@link specials}. */
function floats(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    specials(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
}

/** A bool tensor of `shape` with about half of it true. */
function bools(shape: number[], seed: number): tf.Tensor {
  return tf.greater(tf.tensor(uniform([shape.reduce((a, b) => a * b, 1)], seed), shape), 0);
}

/** An int32 tensor of `shape` with values in [-1000, 1000), and ±2^31 − 1-ish extremes. */
function ints(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Int32Array.from(uniform([n], seed, -1000, 1000), Math.floor);
  if (n > 1) v[1] = 2147483647;
  if (n > 2) v[2] = -2147483648;
  if (n > 3) v[3] = 16777217; // not a float32: rounds when upcast
  return tf.tensor(v, shape, 'int32');
}

function ofDtype(dtype: 'float32' | 'int32' | 'bool', shape: number[], seed: number): tf.Tensor {
  if (dtype === 'float32') return floats(shape, seed);
  return dtype === 'int32' ? ints(shape, seed) : bools(shape, seed);
}

/** Shapes from scalars to one large enough for the pool (> parallelMin elements). */
const SHAPES: number[][] = [[], [1], [7], [3, 5], [2, 3, 4], [2, 0, 3], [0], [64, 1031]];

describe('Select (tf.where)', () => {
  it('same shape: every shape, float32 values with NaN, ±Inf and −0', async () => {
    for (const shape of SHAPES) {
      await sameExactly(
        () => tf.where(bools(shape, 1), floats(shape, 2), floats(shape, 3)),
        `where [${shape}]`,
      );
    }
  });

  it('every pair of t and e dtypes (output the upcast)', async () => {
    const dtypes = ['float32', 'int32', 'bool'] as const;
    for (const td of dtypes) {
      for (const ed of dtypes) {
        for (const shape of [[], [9], [4, 6], [0, 2]]) {
          await sameExactly(
            () => tf.where(bools(shape, 4), ofDtype(td, shape, 5), ofDtype(ed, shape, 6)),
            `where ${td}/${ed} [${shape}]`,
          );
        }
      }
    }
  });

  it('broadcasts of the condition, t and e (tf.where broadcasts all three)', async () => {
    const cases: Array<[number[], number[], number[]]> = [
      [
        [3, 1],
        [1, 4],
        [3, 4],
      ],
      [[], [2, 3], [2, 3]],
      [[5], [2, 5], []],
      [[2, 1, 3], [4, 1], [1]],
    ];
    for (const [c, t, e] of cases) {
      await sameExactly(
        () => tf.where(bools(c, 7), floats(t, 8), floats(e, 9)),
        `where [${c}] [${t}] [${e}]`,
      );
    }
    // The 0·log 0 pattern of the library's multinomial log-probability.
    await sameExactly(() => {
      const x = tf.tensor2d([
        [0, 2, 1],
        [3, 0, 0],
      ]);
      const logp = tf.tensor3d([-Infinity, -1, -2, -0.5, -Infinity, -3], [1, 2, 3]);
      return tf.where(tf.equal(x, 0), 0, tf.mul(x, logp));
    }, 'where(x == 0, 0, x·log p)');
  });

  it('condition bytes other than 0 and 1 select e, as on cpu (values[i] === 1)', async () => {
    await sameExactly(() => {
      const c = tf.tensor(new Uint8Array([2, 1, 0, 255, 1]), [5], 'bool');
      return tf.where(c, tf.tensor1d([1, 2, 3, 4, 5]), tf.tensor1d([-1, -2, -3, -4, -5]));
    }, 'bytes 2 and 255');
  });

  it('a rank-1 condition over the first axis takes whole rows of t or e', async () => {
    // tf.where broadcasts first; the kernel still accepts the rank-1 form.
    // tfjs-cpu reads t[i] / e[i] for row i (repeating one value over the
    // row): native takes the rows, as webgl and TensorFlow do.
    await tf.setBackend('native');
    const got = tf.tidy(() => {
      const c = tf.tensor1d([1, 0, 1], 'bool');
      const t = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [3, 2, 2]);
      const e = tf.neg(t);
      const out = tf.engine().runKernel('Select', { condition: c, t, e }) as tf.Tensor;
      return { shape: out.shape, values: Array.from(out.dataSync()) };
    });
    assert.deepEqual(got.shape, [3, 2, 2]);
    assert.deepEqual(got.values, [1, 2, 3, 4, -5, -6, -7, -8, 9, 10, 11, 12]);
    await tf.setBackend('cpu');
    const cpu = tf.tidy(() => {
      const out = tf.engine().runKernel('Select', {
        condition: tf.tensor1d([1, 0], 'bool'),
        t: tf.tensor2d([1, 2, 3, 4], [2, 2]),
        e: tf.tensor2d([-1, -2, -3, -4], [2, 2]),
      }) as tf.Tensor;
      return Array.from(out.dataSync());
    });
    assert.deepEqual(
      cpu,
      [1, 1, -2, -2],
      'tfjs-cpu repeats t[i] / e[i] (if this fails, it was fixed)',
    );
  });

  it('a scalar condition over larger t and e goes to the cpu kernel', async () => {
    await sameExactly(
      () =>
        tf.engine().runKernel('Select', {
          condition: tf.scalar(true, 'bool'),
          t: tf.tensor1d([1, 2, 3]),
          e: tf.tensor1d([4, 5, 6]),
        }) as tf.Tensor,
      'scalar condition, t [3]',
    );
  });

  it('runs in the addon (float32, int32 and bool)', async () => {
    const calls = await addonCalls('select', () => {
      tf.where(bools([4], 1), floats([4], 2), floats([4], 3));
      tf.where(bools([4], 1), ints([4], 2), ints([4], 3));
      tf.where(bools([4], 1), bools([4], 2), bools([4], 3));
    });
    assert.equal(calls, 3);
  });

  // Only + − × around the where: those round alike on both backends (exp and
  // log differ by an ulp or two), so the gradients must agree bit for bit.
  it('gradients of tf.where through the native Select equal the cpu ones', async () => {
    for (const shape of [[], [7], [3, 5], [64, 1031]]) {
      await sameExactly(() => {
        const c = bools(shape, 11);
        const a = tf.tensor(uniform([shape.reduce((x, y) => x * y, 1)], 12), shape);
        const b = tf.tensor(uniform([shape.reduce((x, y) => x * y, 1)], 13), shape);
        const f = (x: tf.Tensor, y: tf.Tensor): tf.Tensor =>
          tf.sum(tf.mul(tf.where(c, tf.mul(x, x), tf.mul(y, 3)), tf.add(x, 1)));
        return tf.grads(f)([a, b]);
      }, `d where [${shape}]`);
    }
    // Broadcast operands: the gradients are summed back to each shape.
    await sameExactly(() => {
      const x = tf.tensor2d([
        [0, 2, 1],
        [3, 0, 0],
      ]);
      const logits = tf.tensor3d(uniform([12], 14), [2, 2, 3]);
      const f = (l: tf.Tensor): tf.Tensor =>
        tf.sum(tf.where(tf.equal(x, 0), 0, tf.mul(x, tf.mul(l, tf.sub(l, 2)))));
      return tf.grad(f)(logits);
    }, 'd Σ where(x == 0, 0, x·l(l − 2)) / dl');
  });
});

describe('LogicalNot, LogicalAnd, LogicalOr', () => {
  it('LogicalNot of every shape', async () => {
    for (const shape of SHAPES) {
      await sameExactly(() => tf.logicalNot(bools(shape, 21)), `logicalNot [${shape}]`);
    }
  });

  it('LogicalAnd and LogicalOr with broadcasting', async () => {
    const cases: Array<[number[], number[]]> = [
      [[], []],
      [[7], [7]],
      [
        [3, 5],
        [3, 5],
      ],
      [
        [3, 1],
        [1, 4],
      ],
      [[], [2, 3]],
      [[5], [4, 5]],
      [
        [2, 1, 3],
        [4, 1],
      ],
      [
        [2, 0],
        [1, 1],
      ],
      [[64, 1031], [1031]],
    ];
    for (const [a, b] of cases) {
      await sameExactly(
        () => [tf.logicalAnd(bools(a, 22), bools(b, 23)), tf.logicalOr(bools(a, 22), bools(b, 23))],
        `logicalAnd/Or [${a}] [${b}]`,
      );
    }
  });

  it('bytes other than 0 and 1 give the cpu kernels’ bytes (a && b, a || b, x ? 0 : 1)', async () => {
    await sameExactly(() => {
      const a = tf.tensor(new Uint8Array([2, 0, 7, 1, 0]), [5], 'bool');
      const b = tf.tensor(new Uint8Array([3, 5, 0, 1, 0]), [5], 'bool');
      return [tf.logicalAnd(a, b), tf.logicalOr(a, b), tf.logicalNot(a)];
    }, 'odd bytes');
  });

  it('run in the addon', async () => {
    assert.equal(await addonCalls('predicate', () => tf.logicalNot(bools([5], 1))), 1);
    const calls = await addonCalls('logical', () => {
      tf.logicalAnd(bools([5], 1), bools([1], 2));
      tf.logicalOr(bools([5], 1), bools([5], 2));
    });
    assert.equal(calls, 2);
  });
});

describe('IsFinite, IsNan, IsInf', () => {
  const ops: Array<[string, (x: tf.Tensor) => tf.Tensor]> = [
    ['isFinite', tf.isFinite],
    ['isNaN', tf.isNaN],
    ['isInf', tf.isInf],
  ];
  it('float32 with NaN, ±Inf, ±0, the extremes and denormals, every shape', async () => {
    for (const [name, op] of ops) {
      for (const shape of SHAPES) {
        await sameExactly(() => op(floats(shape, 31)), `${name} [${shape}]`);
      }
    }
  });

  it('int32 and bool inputs, and a float32 cast from bool', async () => {
    for (const [name, op] of ops) {
      await sameExactly(() => op(ints([6], 32)), `${name} int32`);
      await sameExactly(() => op(bools([6], 33)), `${name} bool`);
      await sameExactly(() => op(tf.cast(bools([6], 34), 'float32')), `${name} cast bool`);
      await sameExactly(() => op(ints([0], 35)), `${name} empty int32`);
    }
  });

  it('float32 runs in the addon', async () => {
    const calls = await addonCalls('predicate', () => {
      tf.isFinite(floats([5], 1));
      tf.isNaN(floats([5], 1));
      tf.isInf(floats([5], 1));
    });
    assert.equal(calls, 3);
  });
});

describe('on the pool', () => {
  // The byte kernels split over the pool from 8 × parallelMin elements
  // (262 144 by default); a low parallelMin sends these sizes there.
  it('every kernel gives the cpu values when split over threads', async () => {
    const addon = getAddon();
    assert.ok(addon !== null);
    const saved = addon.info().parallelMin;
    addon.setParallelMin(16);
    try {
      for (const shape of [[1000], [37, 41], [3, 5, 67]]) {
        await sameExactly(
          () => [
            tf.where(bools(shape, 51), floats(shape, 52), floats(shape, 53)),
            tf.where(bools(shape, 51), ints(shape, 52), bools(shape, 53)),
            tf.logicalNot(bools(shape, 54)),
            tf.logicalAnd(bools(shape, 55), bools([shape[shape.length - 1]], 56)),
            tf.logicalOr(bools(shape, 55), bools(shape, 57)),
            tf.isFinite(floats(shape, 58)),
            tf.isNaN(floats(shape, 58)),
            tf.isInf(floats(shape, 58)),
          ],
          `pool [${shape}]`,
        );
      }
      // Rows of a rank-1 condition split across threads mid-row.
      await tf.setBackend('native');
      const got = tf.tidy(() => {
        const c = tf.tensor1d([1, 0, 0, 1, 1, 0, 1], 'bool');
        const t = tf.reshape(tf.range(0, 7 * 13 * 11), [7, 13, 11]);
        const out = tf.engine().runKernel('Select', { condition: c, t, e: tf.neg(t) }) as tf.Tensor;
        return Array.from(out.dataSync());
      });
      const rows = [1, 0, 0, 1, 1, 0, 1];
      assert.deepEqual(
        got,
        Array.from({ length: 7 * 143 }, (_, i) => (rows[Math.floor(i / 143)] === 1 ? i : -i)),
      );
    } finally {
      addon.setParallelMin(saved);
    }
  });
});

describe('memory', () => {
  it('a loop of where, its gradient and the boolean ops leaks no tensors or data ids', async () => {
    await tf.setBackend('native');
    const backend = tf.backend() as NativeBackend;
    const x = floats([50, 40], 41);
    const step = (): void => {
      tf.tidy(() => {
        const ok = tf.logicalAnd(tf.isFinite(x), tf.logicalNot(tf.isNaN(x)));
        const safe = tf.where(tf.logicalOr(ok, tf.isInf(x)), x, tf.zerosLike(x));
        const g = tf.grad((v: tf.Tensor) => tf.sum(tf.where(ok, tf.mul(v, v), 0)))(safe);
        g.dataSync();
      });
    };
    step();
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    for (let i = 0; i < 3; i++) step();
    assert.equal(tf.memory().numTensors, tensors, 'numTensors');
    assert.equal(backend.numDataIds(), dataIds, 'data ids');
    x.dispose();
  });
});
