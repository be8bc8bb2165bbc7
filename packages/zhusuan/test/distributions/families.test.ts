/**
 * The checks every distribution family must pass, driven by one table
 * (numpyro's test_distributions.py, distrax's equivalence harness): one row
 * per family exported from src/index.ts, and a test that every exported
 * family has its row. A row gives parameters with batch shape [2] (some as
 * plain numbers), a value in the support, parameters that `validateArgs`
 * rejects and, where the family checks its values, a value it rejects.
 * The checks: construction from plain numbers and from tensors agree; batch
 * and value shapes; sample shapes and dtype with and without `nSamples`;
 * logProb shapes with `groupNdims` 0 and 1 and over a sample axis; prob =
 * exp(logProb); reproducible sampling; no tensor leaked; `validateArgs`
 * rejections that name the family and leak nothing. Each family's exact
 * values are tested in its own file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { assertClose, noLeak, read, useCpu } from '../helpers.js';

before(useCpu);

type Nested = number | Nested[];
type Params = Record<string, Nested | string>;

interface Row {
  /** The exported class. */
  family: abstract new (...args: never[]) => zs.Distribution;
  /** Parameters with batch shape [2]; plain numbers stay numbers in one construction. */
  params: Params;
  /** Value shape (`[]` for univariate families). */
  value: number[];
  /** A value of shape [2, ...value] in the support. */
  given: Nested;
  /**
   * Parameters (in full) that `validateArgs` rejects and that construct
   * without it; absent for a family with no parameter values of its own
   * to check (FlowDistribution).
   */
  invalid?: Params;
  /** A value that `logProb` rejects under `validateArgs`, for families that check values. */
  outside?: Nested;
  /** False for a family that cannot sample. */
  samples?: boolean;
  /** Builds the family from the options, for one whose constructor takes more than parameters. */
  make?: (opts: Record<string, unknown>) => zs.Distribution;
}

/** The flow of the FlowDistribution row, built once (its variables live through the file). */
let rowFlow: zs.Bijector | undefined;
after(() => rowFlow?.dispose());

/** A FlowDistribution on a Normal base (`mean`, `std`; groupNdims 1) and an affine coupling, a reversal and a planar step. */
function flowOnNormal(opts: Record<string, unknown>): zs.Distribution {
  const { groupNdims, validateArgs, ...normal } = opts as unknown as zs.NormalOptions;
  rowFlow ??= new zs.Sequential([
    new zs.AffineCoupling(2, { hiddenSizes: [4], seed: 1 }),
    new zs.Reverse(2),
    new zs.PlanarFlow(2, { seed: 2, initStd: 0.5 }),
  ]);
  return new zs.FlowDistribution({
    base: new zs.Normal({ ...normal, groupNdims: 1 }),
    bijector: rowFlow,
    groupNdims,
    validateArgs,
  });
}

const log = Math.log;
// One row per family: its parameters (batch [2]), value shape, a value in the support, parameters
// that validateArgs rejects, and a value it rejects where the family checks values.
// prettier-ignore
const ROWS: Row[] = [
  { family: zs.Normal, params: { mean: [0.5, -1], std: 2 }, value: [], given: [0.3, 0.1],
    invalid: { mean: 0, std: -1 } },
  { family: zs.FoldNormal, params: { mean: [0.5, -1], std: 1.5 }, value: [], given: [0.3, 1.2],
    invalid: { mean: 0, std: 0 } },
  { family: zs.Uniform, params: { minval: 0, maxval: [1, 3] }, value: [], given: [0.5, 2],
    invalid: { minval: 5, maxval: 1 } },
  { family: zs.Laplace, params: { loc: [0, 1], scale: 0.5 }, value: [], given: [0.2, 1.5],
    invalid: { loc: 0, scale: -1 } },
  { family: zs.Gamma, params: { alpha: [0.5, 3], beta: 2 }, value: [], given: [0.3, 1.5],
    invalid: { alpha: -1, beta: 1 }, outside: [-1, 1] },
  { family: zs.Beta, params: { alpha: 2, beta: [0.5, 3] }, value: [], given: [0.3, 0.6],
    invalid: { alpha: 1, beta: 0 }, outside: [0.5, 1] },
  { family: zs.InverseGamma, params: { alpha: 3, beta: [1, 2] }, value: [], given: [0.5, 1],
    invalid: { alpha: 0, beta: 1 }, outside: [0, 1] },
  { family: zs.Dirichlet, params: { alpha: [[1, 2, 3], [0.5, 0.5, 0.5]] }, value: [3],
    given: [[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]], invalid: { alpha: [[1, -1, 1], [1, 1, 1]] },
    outside: [[0.5, 0.6, 0.1], [0.1, 0.6, 0.3]] },
  { family: zs.Bernoulli, params: { logits: [-1, 2] }, value: [], given: [1, 0],
    invalid: { probs: [0.5, 2] }, outside: [0.5, 1] },
  { family: zs.Categorical, params: { logits: [[0, 1, 2], [2, 0, -1]] }, value: [], given: [2, 0],
    invalid: { probs: [[1, -1, 1], [1, 1, 1]] }, outside: [3, 0] },
  { family: zs.OnehotCategorical, params: { probs: [[0.2, 0.3, 0.5], [0.5, 0.25, 0.25]] },
    value: [3], given: [[0, 0, 1], [1, 0, 0]], invalid: { probs: [[1, -1, 1], [1, 1, 1]] },
    outside: [[1, 1, 0], [1, 0, 0]] },
  { family: zs.Poisson, params: { logRate: [0, 2] }, value: [], given: [1, 7],
    invalid: { rate: [1, -1] }, outside: [0.5, 1] },
  { family: zs.Binomial, params: { logits: [-1, 1], nTrials: 10 }, value: [], given: [3, 7],
    invalid: { probs: [0.5, 2], nTrials: 10 }, outside: [11, 3] },
  { family: zs.Multinomial, params: { logits: [[0, 1, 2], [2, 0, -1]], nTrials: 6 }, value: [3],
    given: [[1, 2, 3], [4, 1, 1]], invalid: { probs: [[1, -1, 1], [1, 1, 1]], nTrials: 6 },
    outside: [[1, 1, 1], [4, 1, 1]] },
  { family: zs.UnnormalizedMultinomial, params: { probs: [[0.2, 0.3, 0.5], [1, 1, 2]] },
    value: [3], given: [[1, 0, 2], [0, 3, 0]], invalid: { logits: [[0, NaN, 0], [0, 0, 0]] },
    outside: [[0.5, 0, 0], [0, 0, 0]], samples: false },
  { family: zs.MultivariateNormalCholesky,
    params: { mean: [[0, 1], [2, 3]], cholTril: [[1, 0], [0.5, 2]] }, value: [2],
    given: [[0.5, 0.5], [1, 2]], invalid: { mean: [0, 0], cholTril: [[1, 0], [0, -1]] } },
  { family: zs.Concrete, params: { temperature: 0.5, logits: [[1, 0, -1], [0, 0, 0]] }, value: [3],
    given: [[0.7, 0.2, 0.1], [0.3, 0.3, 0.4]], invalid: { temperature: 0, logits: [1, 0] },
    outside: [[0.7, 0.2, 0.2], [0.3, 0.3, 0.4]] },
  { family: zs.ExpConcrete, params: { temperature: 0.5, logits: [[1, 0, -1], [0, 0, 0]] },
    value: [3], given: [[log(0.7), log(0.2), log(0.1)], [log(0.3), log(0.3), log(0.4)]],
    invalid: { temperature: -1, logits: [1, 0] }, outside: [[0, 0, 0], [0, 0, 0]] },
  { family: zs.BinConcrete, params: { temperature: 0.5, logits: [0, 2] }, value: [],
    given: [0.3, 0.9], invalid: { temperature: -1, logits: 0 }, outside: [0, 0.5] },
  { family: zs.FlowDistribution, params: { mean: [[0, 1], [1, -1]], std: 1 }, value: [2],
    given: [[0.3, 0.1], [1.2, -0.4]], make: flowOnNormal },
  { family: zs.Exponential, params: { rate: [0.5, 3] }, value: [], given: [0, 1.2],
    invalid: { rate: [1, 0] }, outside: [-0.5, 1] },
  { family: zs.Logistic, params: { loc: [0, 1], scale: 0.5 }, value: [], given: [0.2, -1.5],
    invalid: { loc: 0, scale: 0 } },
  { family: zs.StudentT, params: { df: [1, 5], loc: 0.5, scale: 2 }, value: [], given: [0.3, -4],
    invalid: { df: [1, -2], loc: 0, scale: 1 } },
  { family: zs.MatrixVariateNormalCholesky,
    params: { mean: [[[0, 1], [2, 3]], [[1, 1], [0, 0]]], uTril: [[1, 0], [0.5, 2]],
      vTril: [[1.5, 0], [-0.3, 1]] }, value: [2, 2],
    given: [[[0.5, 0.5], [1, 2]], [[0, 1], [1, -1]]],
    invalid: { mean: [[0, 0]], uTril: [[-1]], vTril: [[1, 0], [0, 1]] } },
];

/**
 * The options for `params` plus `extra`: arrays become tensors (pushed on
 * `made`, for the caller to dispose), and so do plain numbers unless
 * `numbers` (then the constructor converts them).
 */
function options(
  params: Params,
  extra: Record<string, unknown>,
  numbers: boolean,
  made: tf.Tensor[],
): Record<string, unknown> {
  const opts: Record<string, unknown> = { ...extra };
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'string' || (numbers && typeof v === 'number')) {
      opts[k] = v;
    } else {
      const t = tf.tensor(v);
      made.push(t);
      opts[k] = t;
    }
  }
  return opts;
}

/** `new row.family(opts)`. */
function construct(row: Row, opts: Record<string, unknown>): zs.Distribution {
  if (row.make !== undefined) return row.make(opts);
  return new (row.family as unknown as new (o: object) => zs.Distribution)(opts);
}

/** `row.family` built from {@link options}. */
function build(
  row: Row,
  params: Params,
  extra: Record<string, unknown>,
  numbers: boolean,
  made: tf.Tensor[],
): zs.Distribution {
  return construct(row, options(params, extra, numbers, made));
}

const BATCH = [2];

for (const row of ROWS) {
  const name = row.family.name;
  test(`${name}: the generic checks`, () => {
    const made: tf.Tensor[] = [];
    const full = [...BATCH, ...row.value];
    const given = tf.tensor(row.given);
    assert.deepEqual(given.shape, full, 'the row gives a value of shape [2, ...value]');
    const d = build(row, row.params, {}, true, made);
    const dt = build(row, row.params, {}, false, made);
    const d1 = build(row, row.params, { groupNdims: 1 }, true, made);

    // Spec and construction from plain numbers vs tensors.
    for (const x of [d, dt, d1]) {
      assert.equal(x.name, name);
      assert.deepEqual(x.batchShape, BATCH, 'batchShape');
      assert.deepEqual(x.valueShape, row.value, 'valueShape');
    }
    assert.equal(d1.groupNdims, 1);
    const lp = noLeak('logProb', () => read(d.logProb(given)));
    assert.deepEqual(lp.shape, BATCH);
    assert.ok(lp.data.every(Number.isFinite), `logProb of a value in the support: ${lp.data}`);
    assert.deepEqual(noLeak('logProb (tensors)', () => read(dt.logProb(given))).data, lp.data);
    const lp1 = noLeak('grouped logProb', () => read(d1.logProb(given)));
    assert.deepEqual(lp1.shape, []);
    assertClose(lp1.data, lp.data[0] + lp.data[1], 1e-6, 1e-6, 'groupNdims 1 sums the batch axis');
    const p = noLeak('prob', () => read(d.prob(given)));
    assertClose(p.data, lp.data.map(Math.exp), 1e-6, 1e-7, 'prob');
    const stacked = tf.stack([given, given, given]);
    assert.deepEqual(noLeak('logProb over a sample axis', () => read(d.logProb(stacked))).shape, [
      3,
      ...BATCH,
    ]);
    stacked.dispose();

    // Samples.
    if (row.samples === false) {
      assert.throws(() => d.sample(), new RegExp(`^Error: ${name}\\.sample: `));
    } else {
      for (const n of [undefined, 1, 3]) {
        const got = noLeak(`sample(${n ?? ''})`, () => {
          const x = d.sample(n);
          x.dispose();
          return { shape: x.shape, dtype: x.dtype };
        });
        assert.deepEqual(got, { shape: n === undefined ? full : [n, ...full], dtype: d.dtype });
      }
      const three = d.sample(3);
      assert.deepEqual(noLeak('logProb of samples', () => read(d.logProb(three))).shape, [
        3,
        ...BATCH,
      ]);
      assert.deepEqual(
        noLeak('grouped logProb of samples', () => read(d1.logProb(three))).shape,
        [3],
      );
      three.dispose();
      zs.random.setSeed(3);
      const a = read(d.sample(2)).data;
      zs.random.setSeed(3);
      assert.deepEqual(read(d.sample(2)).data, a, 'reproducible from the seed');
    }

    // validateArgs: off by default; on, it names the family and leaks nothing.
    const invalid = row.invalid;
    if (invalid !== undefined) {
      const unchecked: tf.Tensor[] = [];
      build(row, invalid, {}, true, unchecked);
      tf.dispose(unchecked);
      for (const numbers of [true, false]) {
        const tensors: tf.Tensor[] = [];
        const opts = options(invalid, { validateArgs: true }, numbers, tensors);
        noLeak('rejected construction', () =>
          assert.throws(() => construct(row, opts), new RegExp(`^Error: ${name}: `)),
        );
        tf.dispose(tensors);
      }
    }
    if (row.outside !== undefined) {
      const dv = build(row, row.params, { validateArgs: true }, true, made);
      const outside = tf.tensor(row.outside);
      noLeak('validated logProb', () => dv.logProb(given).dispose());
      noLeak('rejected logProb', () =>
        assert.throws(
          () => dv.logProb(outside),
          new RegExp(`^Error: ${name}: values given to logProb`),
        ),
      );
      outside.dispose();
    }
    tf.dispose([given, ...made]);
  });
}

test('every family exported from src/index.ts has a row', () => {
  const exported = Object.entries(zs)
    .filter(([, v]) => typeof v === 'function' && v.prototype instanceof zs.Distribution)
    .map(([k]) => k)
    .sort();
  assert.deepEqual(ROWS.map((r) => r.family.name).sort(), exported);
});
