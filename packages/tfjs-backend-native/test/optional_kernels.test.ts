/**
 * The zhusuan library's optional kernels on `native`: the seeded random
 * kernels draw exactly tfjs' numbers (same seed, same stream); the fused
 * Bernoulli and Normal log-probabilities equal their composites (bit for bit
 * against the same ops on native, 1e-5 relative against cpu), also when
 * they sum a distribution's group axes inside the kernel; the gradient
 * kernels equal their formulas, dy read at the grouped shape.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { rand, runOn, setupNative, uniform } from './helpers.js';

before(async () => {
  await setupNative();
});

function kernel(name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
}

/** Sums the last k axes (the composite of a grouped kernel). */
function sumLast(x: tf.Tensor, k: number): tf.Tensor {
  return k === 0
    ? x
    : tf.sum(
        x,
        Array.from({ length: k }, (_, i) => x.rank - 1 - i),
      );
}

/** dy at the grouped shape, with k trailing axes of 1 to broadcast over the group. */
function ungrouped(dy: tf.Tensor, k: number): tf.Tensor {
  return tf.reshape(dy, [...dy.shape, ...new Array<number>(k).fill(1)]);
}

/** The group sizes worth testing for a broadcast rank: none, one axis, all. */
function groups(rank: number): number[] {
  return [...new Set([0, Math.min(1, rank), rank])];
}

/** Asserts got ≈ want within 1e-5 relative + `abs`. */
function assertNear(got: number[], want: number[], what: string, abs = 1e-6): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-5 * Math.abs(want[i]) + abs;
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

/** Index and values of the first difference, or null. */
function firstDifference(a: number[], b: number[]): string | null {
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) return `[${i}]: native ${a[i]} vs tfjs ${b[i]}`;
  }
  return null;
}

describe('ZsRandomNormal', () => {
  // Odd sizes end on the first of a pair; 0.5 and 'abc' exercise non-integer
  // seed strings; the two large draws cross the pool's parallel threshold
  // (1024 pairs by default), [20, 455] in a few chunks.
  const cases: Array<[number[], number | string, number, number]> = [
    [[1], 5, 0, 1],
    [[7], 123, 0, 1],
    [[3, 11], 2147483646, 0, 1],
    [[1001], 99, -3, 0.25],
    [[513], 31, 0, 1], // 257 pairs: runs of 256 and of the odd last pair alone
    [[64, 40, 50], 1234567, 0, 1],
    [[20, 455], 77, 0, 1],
    [[33], 0.5, 2, 3],
    [[10], 'abc', 0, 1],
    [[0], 7, 0, 1],
  ];
  for (const [shape, seed, mean, stdDev] of cases) {
    it(`shape [${shape}] seed ${seed} mean ${mean} stdDev ${stdDev}: tfjs' numbers exactly`, async () => {
      const expected = await runOn('cpu', () =>
        tf.randomNormal(shape, mean, stdDev, 'float32', seed as number),
      );
      const actual = await runOn('native', () =>
        kernel('ZsRandomNormal', {}, { shape, seed: String(seed), mean, stdDev }),
      );
      assert.deepEqual(actual.shape, shape);
      assert.equal(actual.dtype, 'float32');
      assert.equal(firstDifference(actual.values, expected.values), null);
    });
  }
});

describe('ZsRandomUniform', () => {
  const cases: Array<[number[], number | string, number, number]> = [
    [[5], 1, 0, 1],
    [[100, 784], 42, 0, 1],
    [[17], 2147483646, -2, 3],
    [[9], 'xyz', 0, 1],
  ];
  for (const [shape, seed, minval, maxval] of cases) {
    it(`shape [${shape}] seed ${seed} in [${minval}, ${maxval}): tfjs' numbers exactly`, async () => {
      const expected = await runOn('cpu', () =>
        tf.randomUniform(shape, minval, maxval, 'float32', seed),
      );
      const actual = await runOn('native', () =>
        kernel('ZsRandomUniform', {}, { shape, seed: String(seed), minval, maxval }),
      );
      assert.deepEqual(actual.shape, shape);
      assert.equal(firstDifference(actual.values, expected.values), null);
    });
  }

  it("200 seeds, 2000 draws each: tfjs' numbers exactly (the integer form of Alea)", async () => {
    // The addon steps Alea in 64-bit integers; every seed's state must map
    // to the same stream as seedrandom's doubles.
    const seeds = Array.from({ length: 200 }, (_, i) => (i * 2654435761) % 2147483647 || 1);
    const expected = await runOn('cpu', () =>
      tf.stack(seeds.map((seed) => tf.randomUniform([2000], 0, 1, 'float32', seed))),
    );
    const actual = await runOn('native', () =>
      tf.stack(
        seeds.map((seed) =>
          kernel(
            'ZsRandomUniform',
            {},
            { shape: [2000], seed: String(seed), minval: 0, maxval: 1 },
          ),
        ),
      ),
    );
    assert.equal(firstDifference(actual.values, expected.values), null);
  });

  it('rejects a numeric seed (the contract is String(seed))', async () => {
    await tf.setBackend('native');
    assert.throws(
      () => kernel('ZsRandomUniform', {}, { shape: [2], seed: 3, minval: 0, maxval: 1 }),
      /ZsRandomUniform: seed must be a string/,
    );
  });
});

describe('ZsBernoulliLogProb', () => {
  const cases: Array<[number[], number[]]> = [
    [[6], [6]],
    [
      [4, 3, 5],
      [3, 5],
    ], // particles × batch × pixels against the batch
    [
      [2, 1, 7],
      [1, 3, 7],
    ],
    [
      [200, 784],
      [200, 784],
    ], // above the pool's parallel threshold
    [[1000, 10], [10]], // a short period widened into long blocks
    // Operands as long as the output, cut into shorter blocks for the pool:
    // rows of 200 in blocks of 4000; rows of 5000 each walked in two blocks
    // of 2500; and a length with no divisor to cut at (one block of 8198).
    [
      [10, 24, 200],
      [10, 24, 200],
    ],
    [
      [3, 5000],
      [3, 5000],
    ],
    [
      [2, 4099],
      [2, 4099],
    ],
  ];
  for (const [ls, xs] of cases) {
    it(`logits [${ls}] given [${xs}] equals given·logits − softplus(logits)`, async () => {
      const run = (fused: boolean) => () => {
        const logits = tf.mul(rand(ls, 3), 30); // into softplus' linear and exp tails
        const given = tf.cast(tf.greater(rand(xs, 4), 0), 'float32');
        return fused
          ? kernel('ZsBernoulliLogProb', { logits, given }, {})
          : tf.sub(tf.mul(given, logits), tf.softplus(logits));
      };
      // Against the cpu backend's composite, and bit for bit against the
      // native composite (the same roundings in one pass).
      const cpu = await runOn('cpu', run(false));
      const fused = await runOn('native', run(true));
      const composite = await runOn('native', run(false));
      assert.deepEqual(fused.shape, cpu.shape);
      assert.equal(firstDifference(fused.values, composite.values), null);
      for (let i = 0; i < cpu.values.length; i++) {
        const tol = 1e-5 * Math.abs(cpu.values[i]) + 1e-6;
        assert.ok(Math.abs(fused.values[i] - cpu.values[i]) <= tol, `[${i}]`);
      }
    });
    for (const k of groups(Math.max(ls.length, xs.length))) {
      it(`logits [${ls}] given [${xs}] summed over ${k} axes, and its gradient`, async () => {
        const inputs = () => ({
          logits: tf.mul(rand(ls, 3), 30),
          given: tf.cast(tf.greater(rand(xs, 4), 0), 'float32'),
        });
        const composite = ({ logits, given }: tf.NamedTensorMap) =>
          sumLast(tf.sub(tf.mul(given, logits), tf.softplus(logits)), k);
        const cpu = await runOn('cpu', () => composite(inputs()));
        const fused = await runOn('native', () =>
          kernel('ZsBernoulliLogProb', inputs(), { groupNdims: k }),
        );
        const same = await runOn('native', () => composite(inputs()));
        assert.deepEqual(fused.shape, cpu.shape);
        // The sum runs in the Sum kernel's order: bit for bit the composite.
        assert.equal(firstDifference(fused.values, same.values), null);
        assertNear(fused.values, cpu.values, 'value', 1e-4);
        const grad = (native: boolean) => () => {
          const { logits, given } = inputs();
          const dy = rand(cpu.shape, 5);
          return native
            ? kernel('ZsBernoulliLogProbGrad', { dy, logits, given }, { groupNdims: k })
            : tf.mul(ungrouped(dy, k), tf.sub(given, tf.sigmoid(logits)));
        };
        const want = await runOn('cpu', grad(false));
        const got = await runOn('native', grad(true));
        assert.deepEqual(got.shape, want.shape);
        assertNear(got.values, want.values, 'd/dlogits');
      });
    }
  }
  it('refuses a group wider than the shape, and a dy of the wrong size, by name', async () => {
    await runOn('native', () => {
      const l = tf.zeros([2, 3]);
      assert.throws(
        () => kernel('ZsBernoulliLogProb', { logits: l, given: l }, { groupNdims: 3 }),
        /ZsBernoulliLogProb: groupNdims must be an integer in \[0, 2\].*got 3/,
      );
      assert.throws(
        () =>
          kernel(
            'ZsBernoulliLogProbGrad',
            { dy: tf.zeros([3]), logits: l, given: l },
            {
              groupNdims: 1,
            },
          ),
        /ZsBernoulliLogProbGrad: dy has shape \[3\], expected \[2\]/,
      );
      return l;
    });
  });
  it('a group over an empty axis sums to 0', async () => {
    const got = await runOn('native', () => {
      const l = tf.zeros([3, 0]);
      return kernel('ZsBernoulliLogProb', { logits: l, given: l }, { groupNdims: 1 });
    });
    assert.deepEqual(got.shape, [3]);
    assert.deepEqual(got.values, [0, 0, 0]);
  });
});

describe('ZsNormalLogProb and ZsNormalLogProbGrad', () => {
  // [given, mean, logstd]: the VAE's posterior and prior patterns, scalars,
  // and broadcasts along a middle axis (expanded by the kernel).
  const cases: Array<[number[], number[], number[]]> = [
    [[7], [7], [7]],
    [
      [4, 3, 5],
      [3, 5],
      [3, 5],
    ],
    [[4, 3, 5], [3, 5], []],
    [
      [3, 5],
      [4, 3, 5],
      [1, 5],
    ],
    [[2, 1, 5], [2, 3, 1], [5]],
    [
      [64, 128, 40],
      [128, 40],
      [128, 40],
    ], // above the pool's parallel threshold
    // Short periods the kernel widens into long blocks: 1000 chains of a
    // 10-D latent; rows of 3 or 12 within a block; rows of 6000 spanning
    // two blocks of 3000.
    [[1000, 10], [10], [10]],
    [[6, 4, 3], [3], [4, 3]],
    [[2, 3000, 2], [2], []],
    // Every operand as long as the output (a Normal q against its own
    // parameters), cut into blocks of 4000 for the pool.
    [
      [10, 24, 200],
      [10, 24, 200],
      [10, 24, 200],
    ],
  ];
  const inputs = (gs: number[], ms: number[], ss: number[]) => ({
    given: tf.mul(rand(gs, 11), 3),
    mean: rand(ms, 12),
    logstd: tf.mul(rand(ss.length ? ss : [1], 13), 2).reshape(ss),
  });
  const composite = (t: { given: tf.Tensor; mean: tf.Tensor; logstd: tf.Tensor }) => {
    const z = tf.mul(tf.sub(t.given, t.mean), tf.exp(tf.neg(t.logstd)));
    return tf.sub(tf.sub(tf.mul(tf.square(z), -0.5), 0.5 * Math.log(2 * Math.PI)), t.logstd);
  };
  for (const [gs, ms, ss] of cases) {
    it(`given [${gs}] mean [${ms}] logstd [${ss}]`, async () => {
      const cpu = await runOn('cpu', () => composite(inputs(gs, ms, ss)));
      const fused = await runOn('native', () => kernel('ZsNormalLogProb', inputs(gs, ms, ss), {}));
      const same = await runOn('native', () => composite(inputs(gs, ms, ss)));
      assert.deepEqual(fused.shape, cpu.shape);
      assert.equal(firstDifference(fused.values, same.values), null);
      for (let i = 0; i < cpu.values.length; i++) {
        const tol = 1e-5 * Math.abs(cpu.values[i]) + 1e-6;
        assert.ok(Math.abs(fused.values[i] - cpu.values[i]) <= tol, `value[${i}]`);
      }
      // The gradient kernel against its formula on cpu, with a non-constant dy.
      for (const which of [0, 1]) {
        const grad = (native: boolean) => () => {
          const t = inputs(gs, ms, ss);
          const dy = rand(cpu.shape, 14);
          if (native) {
            const outs = tf
              .engine()
              .runKernel('ZsNormalLogProbGrad', { dy, ...t }, {}) as tf.Tensor[];
            tf.dispose(outs[1 - which]);
            return outs[which];
          }
          const e = tf.exp(tf.neg(t.logstd));
          const z = tf.mul(tf.sub(t.given, t.mean), e);
          return which === 0
            ? tf.neg(tf.mul(tf.mul(z, e), dy))
            : tf.mul(tf.sub(tf.square(z), 1), dy);
        };
        const want = await runOn('cpu', grad(false));
        const got = await runOn('native', grad(true));
        const sameGrad = await runOn('native', grad(false));
        assert.deepEqual(got.shape, want.shape);
        // On native, bit for bit the formula's kernels (e^-logstd taken once
        // per element of a short logstd, or per element of the output).
        assert.equal(firstDifference(got.values, sameGrad.values), null);
        for (let i = 0; i < want.values.length; i++) {
          const tol = 1e-5 * Math.abs(want.values[i]) + 1e-6;
          assert.ok(
            Math.abs(got.values[i] - want.values[i]) <= tol,
            `${which ? 'gLogstd' : 'gGiven'}[${i}]: ${got.values[i]} vs ${want.values[i]}`,
          );
        }
      }
    });
    const rank = Math.max(gs.length, ms.length, ss.length);
    for (const k of groups(rank).filter((g) => g > 0)) {
      it(`given [${gs}] mean [${ms}] logstd [${ss}] summed over ${k} axes, and its gradients`, async () => {
        const cpu = await runOn('cpu', () => sumLast(composite(inputs(gs, ms, ss)), k));
        const fused = await runOn('native', () =>
          kernel('ZsNormalLogProb', inputs(gs, ms, ss), { groupNdims: k }),
        );
        const same = await runOn('native', () => sumLast(composite(inputs(gs, ms, ss)), k));
        assert.deepEqual(fused.shape, cpu.shape);
        assert.equal(firstDifference(fused.values, same.values), null);
        assertNear(fused.values, cpu.values, 'value', 1e-4);
        for (const which of [0, 1]) {
          const grad = (native: boolean) => () => {
            const t = inputs(gs, ms, ss);
            const dy = rand(cpu.shape, 15);
            if (native) {
              const outs = tf
                .engine()
                .runKernel('ZsNormalLogProbGrad', { dy, ...t }, { groupNdims: k }) as tf.Tensor[];
              tf.dispose(outs[1 - which]);
              return outs[which];
            }
            const e = tf.exp(tf.neg(t.logstd));
            const z = tf.mul(tf.sub(t.given, t.mean), e);
            const d = ungrouped(dy, k);
            return which === 0
              ? tf.neg(tf.mul(tf.mul(z, e), d))
              : tf.mul(tf.sub(tf.square(z), 1), d);
          };
          const want = await runOn('cpu', grad(false));
          const got = await runOn('native', grad(true));
          const sameGrad = await runOn('native', grad(false));
          assert.deepEqual(got.shape, want.shape);
          assert.equal(firstDifference(got.values, sameGrad.values), null);
          assertNear(got.values, want.values, which ? 'gLogstd' : 'gGiven');
        }
      });
    }
  }
});

describe('ZsNormalSample', () => {
  // [sample shape, mean, logstd]: the VAE's posterior, a prior with scalars,
  // a middle-axis broadcast (expanded), and one above the pool's threshold.
  const cases: Array<[number[], number[], number[]]> = [
    [[1, 6], [6], [6]],
    [
      [4, 3, 5],
      [3, 5],
      [3, 5],
    ],
    [[4, 3, 5], [], [5]],
    [
      [2, 3, 5],
      [3, 1],
      [1, 5],
    ],
    [
      [64, 128, 40],
      [128, 40],
      [128, 40],
    ],
    [
      [10, 24, 200],
      [10, 24, 200],
      [10, 24, 200],
    ], // parameters as long as the sample, cut into blocks for the pool
  ];
  for (const [shape, ms, ss] of cases) {
    it(`sample [${shape}] from mean [${ms}] logstd [${ss}]: the composite's numbers`, async () => {
      const seed = 4242;
      const params = () => ({
        mean: tf.reshape(rand(ms.length ? ms : [1], 16), ms),
        logstd: tf.reshape(rand(ss.length ? ss : [1], 17), ss),
      });
      const composite = () => {
        const { mean, logstd } = params();
        const noise = tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), tf.exp(logstd));
        return tf.concat([tf.add(noise, mean), noise]);
      };
      const fused = () => {
        const outs = tf
          .engine()
          .runKernel('ZsNormalSample', params(), { shape, seed: String(seed) }) as tf.Tensor[];
        return tf.concat(outs);
      };
      const want = await runOn('native', composite);
      const got = await runOn('native', fused);
      const cpu = await runOn('cpu', composite);
      assert.deepEqual(got.shape, want.shape);
      // Bit for bit the native composite (the same draws and roundings).
      assert.equal(firstDifference(got.values, want.values), null);
      assertNear(got.values, cpu.values, 'against cpu');
    });
  }
  it('refuses parameters that do not broadcast to the shape, by name', async () => {
    await runOn('native', () => {
      const m = tf.zeros([3, 4]);
      assert.throws(
        () =>
          tf
            .engine()
            .runKernel('ZsNormalSample', { mean: m, logstd: m }, { shape: [2, 4], seed: '1' }),
        /ZsNormalSample: mean \[3,4\] and logstd \[3,4\] do not broadcast to shape \[2,4\]/,
      );
      return m;
    });
  });
});

describe('ZsBernoulliSample', () => {
  /** The composite the kernel replaces: cast(less(u, p), dtype), p = sigmoid(logits) or probs. */
  function composite(kind: string, param: tf.Tensor, shape: number[], seed: number, dtype: string) {
    const u = tf.randomUniform(shape, 0, 1, 'float32', seed);
    const p = kind === 'logits' ? tf.sigmoid(param) : param;
    return tf.cast(tf.less(u, p), dtype as 'float32' | 'int32');
  }
  function sample(kind: string, param: tf.Tensor, shape: number[], seed: number, dtype: string) {
    return kernel('ZsBernoulliSample', { [kind]: param }, { shape, seed: String(seed), dtype });
  }
  /** Logits spread over (−12, 12) with the edges: 0, ±100 (p rounds to 0 or 1), ±Infinity. */
  function logits(shape: number[], seed: number): tf.Tensor {
    const v = uniform(shape, seed, -12, 12);
    const edges = [0, 100, -100, Infinity, -Infinity, -0];
    for (let i = 0; i < Math.min(edges.length, v.length); i++) v[(i * 7) % v.length] = edges[i];
    return tf.tensor(v, shape);
  }
  /** Probabilities in [0, 1) with exact 0 and 1 among them. */
  function probs(shape: number[], seed: number): tf.Tensor {
    const v = uniform(shape, seed, 0, 1);
    if (v.length > 1) {
      v[0] = 0;
      v[v.length - 1] = 1;
    }
    return tf.tensor(v, shape);
  }
  // [sample shape, parameter shape, input, dtype]: the SBN's layer (10
  // samples of [24, 200]), one sample at the parameter's shape, a scalar, a
  // middle-axis broadcast (expanded), int32 samples, an empty sample, and
  // sizes that end mid-block.
  const cases: Array<[number[], number[], 'logits' | 'probs', 'float32' | 'int32']> = [
    [[10, 24, 200], [24, 200], 'logits', 'float32'],
    [[1, 10, 24, 200], [10, 24, 200], 'logits', 'float32'],
    [[7, 3], [], 'logits', 'float32'],
    [[2, 3, 5], [3, 1], 'logits', 'float32'],
    [[3, 1001], [1001], 'probs', 'float32'],
    [[5, 4], [4], 'logits', 'int32'],
    [[4, 6], [6], 'probs', 'int32'],
    [[0, 5], [5], 'logits', 'float32'],
  ];
  for (const [shape, ps, kind, dtype] of cases) {
    it(`${dtype} sample [${shape}] from ${kind} [${ps}]: the composite's numbers on native and cpu`, async () => {
      const seed = 9001;
      const param = () => (kind === 'logits' ? logits(ps, 31) : probs(ps, 32));
      const want = await runOn('native', () => composite(kind, param(), shape, seed, dtype));
      const got = await runOn('native', () => sample(kind, param(), shape, seed, dtype));
      const cpu = await runOn('cpu', () => composite(kind, param(), shape, seed, dtype));
      assert.deepEqual(got.shape, shape);
      assert.equal(got.dtype, dtype);
      assert.equal(firstDifference(got.values, want.values), null, 'against the native composite');
      assert.equal(firstDifference(got.values, cpu.values), null, 'against cpu');
      if (got.values.length > 1000) {
        // A draw, not a constant: both outcomes occur.
        assert.ok(got.values.includes(0) && got.values.includes(1));
      }
    });
  }

  it('NaN parameters give 0, as less(u, NaN) does', async () => {
    const got = await runOn('native', () =>
      sample('logits', tf.tensor([NaN, NaN, NaN]), [3], 4, 'float32'),
    );
    const probsNaN = await runOn('native', () =>
      sample('probs', tf.tensor([NaN, NaN]), [2], 4, 'float32'),
    );
    assert.deepEqual(got.values, [0, 0, 0]);
    assert.deepEqual(probsNaN.values, [0, 0]);
  });

  it('refuses bad inputs and attributes by name', async () => {
    await runOn('native', () => {
      const l = tf.zeros([3, 4]);
      const run = (inputs: tf.NamedTensorMap, attrs: object) => () =>
        kernel('ZsBernoulliSample', inputs, attrs);
      const ok = { shape: [2, 3, 4], seed: '1', dtype: 'float32' };
      assert.throws(
        run({ logits: l }, { ...ok, shape: [2, 4] }),
        /ZsBernoulliSample: logits \[3,4\] does not broadcast to shape \[2,4\]/,
      );
      assert.throws(
        run({ logits: l, probs: l }, ok),
        /ZsBernoulliSample: give exactly one input, logits or probs, got \[logits,probs\]/,
      );
      assert.throws(
        run({ logits: l }, { ...ok, dtype: 'bool' }),
        /ZsBernoulliSample: dtype must be 'float32' or 'int32', got bool/,
      );
      assert.throws(
        run({ logits: l }, { ...ok, seed: 1 }),
        /ZsBernoulliSample: seed must be a string/,
      );
      assert.throws(
        run({ probs: tf.zeros([4], 'int32') }, ok),
        /ZsBernoulliSample: probs must be a float32 tensor/,
      );
      return l;
    });
  });
});

describe('ZsCountsDot', () => {
  const cases: Array<[number[], number[]]> = [
    [[7], [7]],
    [
      [5, 40],
      [3, 5, 40],
    ], // counts against several chains' log-probabilities
    [
      [2, 1, 9],
      [1, 3, 9],
    ], // broadcast along middle axes (expanded copies)
    [[300], [20, 64, 300]], // above the pool's parallel threshold, a short period
    [
      [4, 1],
      [4, 1],
    ],
  ];
  for (const [xs, ls] of cases) {
    for (const log of [false, true]) {
      const what = log ? 'x·log l' : 'x·l';
      it(`x [${xs}] l [${ls}] equals sum(where(x == 0, 0, ${what}), -1)`, async () => {
        const inputs = () => {
          const x = tf.floor(tf.mul(tf.relu(rand(xs, 6)), 4)); // about half zero
          const raw = tf.mul(rand(ls, 7), 5);
          // −∞ (a probability of 0) wherever raw < −4 (zero and non-zero counts meet it).
          const l = tf.where(tf.less(raw, -4), -Infinity, raw);
          return { x, l: log ? tf.exp(l) : l };
        };
        const composite = ({ x, l }: tf.NamedTensorMap) =>
          tf.sum(tf.where(tf.equal(x, 0), 0, tf.mul(x, log ? tf.log(l) : l)), -1);
        const cpu = await runOn('cpu', () => composite(inputs()));
        const fused = await runOn('native', () => kernel('ZsCountsDot', inputs(), { log }));
        const same = await runOn('native', () => composite(inputs()));
        assert.deepEqual(fused.shape, cpu.shape);
        // The sum runs in the Sum kernel's order: bit for bit the composite.
        assert.equal(firstDifference(fused.values, same.values), null);
        for (let i = 0; i < cpu.values.length; i++) {
          if (!Number.isFinite(cpu.values[i])) {
            assert.ok(Object.is(fused.values[i], cpu.values[i]), `[${i}]`);
          }
        }
        assertNear(
          fused.values.map((v) => (Number.isFinite(v) ? v : 0)),
          cpu.values.map((v) => (Number.isFinite(v) ? v : 0)),
          'value',
          1e-4,
        );
      });
    }
  }
  it('an empty categories axis sums to 0; a scalar has no categories axis', async () => {
    const got = await runOn('native', () =>
      kernel('ZsCountsDot', { x: tf.zeros([3, 0]), l: tf.zeros([3, 0]) }, {}),
    );
    assert.deepEqual(got.shape, [3]);
    assert.deepEqual(got.values, [0, 0, 0]);
    await runOn('native', () => {
      const s = tf.scalar(1);
      assert.throws(
        () => kernel('ZsCountsDot', { x: s, l: s }, {}),
        /ZsCountsDot: x and l need at least one axis/,
      );
      return s;
    });
  });
});

describe('ZsAddScaled', () => {
  // Odd sizes, one above the pool's parallel threshold, and tiny values whose
  // product is denormal (flushed as the Multiply kernel flushes it).
  const cases: Array<[number[], number]> = [
    [[7], 0.025],
    [[3, 11], -0.5],
    [[64, 40, 50], 1e-3],
    [[5], 1e-30],
    [[0], 2],
  ];
  for (const [shape, scale] of cases) {
    it(`[${shape}] scale ${scale} equals tf.add(a, tf.mul(b, scale)) bit for bit`, async () => {
      const inputs = () => ({ a: rand(shape, 8), b: tf.mul(rand(shape, 9), 1e-8) });
      const composite = ({ a, b }: tf.NamedTensorMap) => tf.add(a, tf.mul(b, scale));
      const fused = await runOn('native', () => kernel('ZsAddScaled', inputs(), { scale }));
      const same = await runOn('native', () => composite(inputs()));
      const cpu = await runOn('cpu', () => composite(inputs()));
      assert.deepEqual(fused.shape, shape);
      assert.equal(firstDifference(fused.values, same.values), null);
      assertNear(fused.values, cpu.values, 'value', 1e-30);
    });
  }
  it('refuses operands of different shapes and a missing scale, by name', async () => {
    await runOn('native', () => {
      const a = tf.zeros([2, 3]);
      assert.throws(
        () => kernel('ZsAddScaled', { a, b: tf.zeros([3]) }, { scale: 1 }),
        /ZsAddScaled: a \[2,3\] and b \[3\] must have one shape/,
      );
      assert.throws(
        () => kernel('ZsAddScaled', { a, b: a }, {}),
        /ZsAddScaled: the attribute scale must be a number/,
      );
      return a;
    });
  });
});

describe('ZsLogSumExp and ZsLogSumExpGrad', () => {
  /** The library's composite: the shifted exponentials' sum, its log plus the shift. */
  const lse = (x: tf.Tensor, axes: number[], keepDims: boolean) => {
    const m = tf.max(x, axes, true);
    const shift = tf.where(tf.isFinite(m), m, tf.zerosLike(m));
    const e = tf.exp(tf.sub(x, shift));
    const s = tf.sum(e, axes, true);
    const out = tf.add(tf.log(s), shift);
    return { value: keepDims ? out : tf.squeeze(out, axes), e, s };
  };
  /** Its gradient for dy at the output's shape: (dy / s)·e. */
  const lseGrad = (dy: tf.Tensor, x: tf.Tensor, axes: number[]) => {
    const { e, s } = lse(x, axes, true);
    return tf.mul(tf.div(tf.reshape(dy, s.shape), s), e);
  };
  // Last, first, middle, several and all axes, none, one element, and
  // values above the element-wise kernels' parallel threshold.
  const cases: Array<[number[], number[]]> = [
    [[4, 7], [1]],
    [[5, 3, 6], [0]],
    [[5, 3, 6], [1]],
    [
      [2, 3, 2, 4],
      [1, 3],
    ],
    [
      [3, 4, 2],
      [0, 1, 2],
    ],
    [[3, 4], []],
    [[1], [0]],
    [[40, 300], [1]],
  ];
  for (const [shape, axes] of cases) {
    for (const keepDims of [false, true]) {
      it(`x [${shape}] over [${axes}]${keepDims ? ' (keepDims)' : ''}: the composite's value and gradient`, async () => {
        // Values to ±30 (exponentials over many magnitudes), one row of −∞,
        // one +∞ and one NaN entry where the input is large enough.
        const x = () => {
          const v = uniform(shape, 8, -30, 30);
          if (v.length >= 20) {
            v.fill(-Infinity, 0, shape[shape.length - 1]);
            v[v.length - 3] = Infinity;
            v[v.length - 7] = NaN;
          }
          return tf.tensor(v, shape);
        };
        const attrs = { axes, keepDims };
        const cpu = await runOn('cpu', () => lse(x(), axes, keepDims).value);
        const fused = await runOn('native', () => kernel('ZsLogSumExp', { x: x() }, attrs));
        const same = await runOn('native', () => lse(x(), axes, keepDims).value);
        assert.deepEqual(fused.shape, cpu.shape);
        assert.equal(firstDifference(fused.values, same.values), null);
        const finite = (v: number[]) => v.map((u) => (Number.isFinite(u) ? u : 0));
        assert.deepEqual(
          fused.values.map((u) => Number.isFinite(u)),
          cpu.values.map((u) => Number.isFinite(u)),
        );
        assertNear(finite(fused.values), finite(cpu.values), 'value', 1e-5);
        const dy = () => rand(cpu.shape, 9);
        const gCpu = await runOn('cpu', () => lseGrad(dy(), x(), axes));
        const gFused = await runOn('native', () =>
          kernel('ZsLogSumExpGrad', { dy: dy(), x: x() }, attrs),
        );
        const gSame = await runOn('native', () => lseGrad(dy(), x(), axes));
        assert.deepEqual(gFused.shape, shape);
        assert.equal(firstDifference(gFused.values, gSame.values), null);
        assert.deepEqual(
          gFused.values.map((u) => Number.isNaN(u)),
          gCpu.values.map((u) => Number.isNaN(u)),
        );
        assertNear(
          gFused.values.map((u) => (Number.isNaN(u) ? 0 : u)),
          gCpu.values.map((u) => (Number.isNaN(u) ? 0 : u)),
          'd/dx',
        );
      });
    }
  }
  it('empty inputs: a sum over nothing gives −∞, an empty output nothing', async () => {
    const got = await runOn('native', () =>
      kernel('ZsLogSumExp', { x: tf.zeros([3, 0]) }, { axes: [1], keepDims: false }),
    );
    assert.deepEqual(got, {
      shape: [3],
      dtype: 'float32',
      values: [-Infinity, -Infinity, -Infinity],
    });
    const none = await runOn('native', () =>
      kernel(
        'ZsLogSumExpGrad',
        { dy: tf.zeros([0, 1]), x: tf.zeros([0, 4]) },
        { axes: [1], keepDims: true },
      ),
    );
    assert.deepEqual(none.shape, [0, 4]);
  });
  it('refuses bad axes, keepDims, dtypes and dy by name', async () => {
    await runOn('native', () => {
      const x = tf.zeros([2, 3]);
      for (const axes of [[2], [-1], [1, 0], [0, 0], [0.5], 1, undefined]) {
        assert.throws(
          () => kernel('ZsLogSumExp', { x }, { axes, keepDims: false }),
          /ZsLogSumExp: axes must be increasing integers in \[0, 2\)/,
          `axes ${JSON.stringify(axes)}`,
        );
      }
      assert.throws(
        () => kernel('ZsLogSumExp', { x }, { axes: [1] }),
        /ZsLogSumExp: keepDims must be a boolean/,
      );
      assert.throws(
        () => kernel('ZsLogSumExp', { x: tf.zeros([2], 'int32') }, { axes: [0], keepDims: false }),
        /ZsLogSumExp: x must be a float32 tensor, got int32/,
      );
      assert.throws(
        () => kernel('ZsLogSumExpGrad', { dy: tf.zeros([3]), x }, { axes: [1], keepDims: false }),
        /ZsLogSumExpGrad: dy has shape \[3\], expected the output's \[2\]/,
      );
      assert.throws(
        () => kernel('ZsLogSumExpGrad', { dy: tf.zeros([2]), x }, { axes: [2], keepDims: false }),
        /ZsLogSumExpGrad: axes must be/,
      );
      return x;
    });
  });
});
