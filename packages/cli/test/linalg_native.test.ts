/**
 * The native backend's Cholesky and MatrixTriangularSolve kernels, through
 * the library's zs.cholesky and zs.triangularSolve (which run them when the
 * active backend registers them), against the library's op-by-op path on
 * cpu: values for sizes around the block of 32, batched and broadcast batch
 * shapes, both triangles, adjoint, one and several right-hand sides;
 * gradients; the NaN/Inf pattern of matrices that are not positive
 * definite and validateArgs' error; n = 0; the kernels' own errors; leaks.
 *
 * Tolerances are normwise: |native − cpu| ≤ tol · max|cpu| over a result
 * (1e-5 for values, 1e-4 for gradients). Entry by entry the two float32
 * paths differ more on the small entries of a factor: both sit within
 * ~2e-7 of a float64 factor normwise (the native one closer, its diagonal
 * blocks summed in double), but a tiny entry carries that absolute error.
 * The test matrices are well conditioned (eigenvalues in about [1, 5];
 * triangles with diagonals in ±[0.8, 1.6] and small off-diagonal entries).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from 'zhusuan';
import { nativeLoadError, registerNativeBackend } from '@zhusuan/tfjs-backend-native';

before(async () => {
  if (!registerNativeBackend()) throw new Error(`native addon unavailable: ${nativeLoadError()}`);
  await use('native');
  await use('cpu');
});

/** Makes `name` (initialised in `before`) the active backend, synchronously. */
function use(name: string): void {
  void tf.setBackend(name);
  assert.equal(tf.getBackend(), name);
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const prod = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** `[...batch, n, n]` symmetric positive-definite matrices M·Mᵀ/n + I, M uniform in ±√3. */
function spd(seed: number, batch: number[], n: number): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let b = 0; b < prod(batch); b++) {
    const m = Array.from({ length: n * n }, () => Math.sqrt(3) * (2 * r() - 1));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < n; p++) s += m[i * n + p] * m[j * n + p];
        out.push(s / n + (i === j ? 1 : 0));
      }
    }
  }
  return out;
}

/**
 * `[...batch, n, n]` triangular matrices (lower or upper): diagonal in
 * ±[0.8, 1.6], the triangle's other entries uniform in ±0.5/√n, NaN in the
 * triangle never read.
 */
function triangular(seed: number, batch: number[], n: number, lower: boolean): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let b = 0; b < prod(batch); b++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) out.push((r() < 0.5 ? -1 : 1) * (0.8 + 0.8 * r()));
        else if (lower ? i > j : i < j) out.push(((2 * r() - 1) * 0.5) / Math.sqrt(n));
        else out.push(NaN);
      }
    }
  }
  return out;
}

/** Uniform values in ±1 of `shape`. */
function values(seed: number, shape: number[]): number[] {
  const r = rng(seed);
  return Array.from({ length: prod(shape) }, () => 2 * r() - 1);
}

/** Runs `f` on `backend` (its tensors made there), returning the values of its results; no leaks. */
function runOn(backend: string, f: () => tf.Tensor | tf.Tensor[]): number[][] {
  use(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const vals = list.map((t) => Array.from(t.dataSync()));
  tf.dispose(list);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  use('cpu');
  return vals;
}

/** |got − want| ≤ tol·max|want| elementwise, NaN and ±Inf where `want` has them. */
function assertNear(got: number[], want: number[], tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const scale = want.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(want[i]) || !Number.isFinite(got[i])) {
      assert.ok(Object.is(got[i], want[i]), `${what}[${i}]: native ${got[i]}, cpu ${want[i]}`);
    } else {
      const d = Math.abs(got[i] - want[i]);
      assert.ok(d <= tol * scale, `${what}[${i}]: native ${got[i]}, cpu ${want[i]} (|Δ| ${d})`);
    }
  }
}

/** f on native and on cpu (the library's op-by-op path), compared result by result. */
function compare(what: string, f: () => tf.Tensor | tf.Tensor[], tol = 1e-5): number[][] {
  const native = runOn('native', f);
  const cpu = runOn('cpu', f);
  native.forEach((v, i) => assertNear(v, cpu[i], tol, `${what} #${i}`));
  return native;
}

/** The names of the kernels `f` runs on native. */
async function kernelsRun(f: () => tf.Tensor): Promise<Set<string>> {
  use('native');
  const info = await tf.profile(() => f());
  tf.dispose(info.result as tf.Tensor);
  use('cpu');
  return new Set(info.kernelNames);
}

test('zs.cholesky runs the Cholesky kernel on native, one kernel for the factor', async () => {
  const a = spd(1, [], 100);
  const names = await kernelsRun(() => zs.cholesky(tf.tensor(a, [100, 100])));
  assert.ok(names.has('Cholesky'), [...names].join(', '));
  assert.ok(!names.has('Slice') && !names.has('BatchMatMul'), [...names].join(', '));
  const solve = await kernelsRun(() =>
    zs.triangularSolve(tf.tensor(triangular(2, [], 40, true), [40, 40]), tf.ones([40, 3])),
  );
  assert.ok(solve.has('MatrixTriangularSolve') && !solve.has('Slice'), [...solve].join(', '));
});

test('zs.cholesky: native equals cpu for n around the block of 32, batched', () => {
  for (const n of [1, 2, 31, 32, 33, 100, 130]) {
    const a = spd(n, [], n);
    const [l] = compare(`n = ${n}`, () => zs.cholesky(tf.tensor(a, [n, n])));
    // Zeros above the diagonal, exactly.
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(l[i * n + j], 0);
  }
  for (const [batch, n] of [
    [[3], 33],
    [[2, 3], 2],
    [[2, 1], 40],
  ] as [number[], number][]) {
    const a = spd(7, batch, n);
    compare(`[${batch}, ${n}, ${n}]`, () => zs.cholesky(tf.tensor(a, [...batch, n, n])));
  }
});

test('zs.cholesky on native reads only the lower triangle', () => {
  const n = 45;
  const a = spd(3, [2], n);
  const nanAbove = a.map((v, i) => (i % n > Math.floor(i / n) % n ? NaN : v));
  const [l] = runOn('native', () => zs.cholesky(tf.tensor(a, [2, n, n])));
  const [m] = runOn('native', () => zs.cholesky(tf.tensor(nanAbove, [2, n, n])));
  assert.deepEqual(m, l);
});

test('zs.triangularSolve: native equals cpu, lower/upper, adjoint, k = 1 and 7', () => {
  for (const n of [1, 2, 31, 32, 33, 100, 130]) {
    for (const lower of [true, false]) {
      const l = triangular(n, [], n, lower);
      for (const adjoint of [false, true]) {
        for (const k of [1, 7]) {
          const b = values(n + k, [n, k]);
          compare(`n ${n} lower ${lower} adjoint ${adjoint} k ${k}`, () =>
            zs.triangularSolve(tf.tensor(l, [n, n]), tf.tensor(b, [n, k]), { lower, adjoint }),
          );
        }
      }
    }
  }
});

test('zs.triangularSolve: native equals cpu for batched and broadcast batch shapes', () => {
  const cases: [number[], number[]][] = [
    [[3], [3]],
    [[2, 1], [3]],
    [[], [2, 3]],
    [[2, 3], []],
    [
      [1, 3],
      [2, 1],
    ],
  ];
  for (const n of [2, 33]) {
    for (const [lb, bb] of cases) {
      for (const lower of [true, false]) {
        const l = triangular(n + 1, lb, n, lower);
        const b = values(n + 2, [...bb, n, 7]);
        for (const adjoint of [false, true]) {
          compare(`n ${n} l [${lb}] b [${bb}] lower ${lower} adjoint ${adjoint}`, () =>
            zs.triangularSolve(tf.tensor(l, [...lb, n, n]), tf.tensor(b, [...bb, n, 7]), {
              lower,
              adjoint,
            }),
          );
        }
      }
    }
  }
});

test('gradients of zs.cholesky through the native kernels equal cpu within 1e-4', () => {
  for (const [batch, n] of [
    [[], 2],
    [[2], 33],
    [[], 70],
  ] as [number[], number][]) {
    const a = spd(11, batch, n);
    const w = values(12, [...batch, n, n]);
    compare(
      `cholesky grad [${batch}, ${n}, ${n}]`,
      () =>
        tf.grad((x: tf.Tensor) => tf.sum(tf.mul(zs.cholesky(x), tf.tensor(w, x.shape))))(
          tf.tensor(a, [...batch, n, n]),
        ),
      1e-4,
    );
  }
});

test('gradients of zs.triangularSolve through the native kernel equal cpu within 1e-4', () => {
  for (const n of [3, 33]) {
    for (const lower of [true, false]) {
      for (const adjoint of [false, true]) {
        const l = triangular(n, [2, 1], n, lower).map((v) => (Number.isNaN(v) ? 0 : v));
        const b = values(n, [3, n, 7]);
        const w = values(n + 1, [2, 3, n, 7]);
        compare(
          `triangularSolve grads n ${n} lower ${lower} adjoint ${adjoint}`,
          () =>
            tf.grads((x: tf.Tensor, y: tf.Tensor) =>
              tf.sum(
                tf.mul(zs.triangularSolve(x, y, { lower, adjoint }), tf.tensor(w, [2, 3, n, 7])),
              ),
            )([tf.tensor(l, [2, 1, n, n]), tf.tensor(b, [3, n, 7])]),
          1e-4,
        );
      }
    }
  }
});

/** `n` × `n`: the identity with `block` (k × k, row-major) in its top-left corner. */
function embed(n: number, block: number[][], extra: [number, number, number][] = []): number[] {
  const a: number[] = Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
  block.forEach((row, i) => row.forEach((v, j) => (a[i * n + j] = v)));
  for (const [i, j, v] of extra) a[i * n + j] = a[j * n + i] = v;
  return a;
}

test('matrices that are not positive definite: the NaN and Inf pattern of cpu, and its error', () => {
  // A zero pivot at column 1 (s₂₁ = 1, so l₂₁ = 1/0 = Inf), alone and inside
  // n = 40 with a row in the next block of 32 coupled to column 1 (NaN
  // there); a negative pivot at column 35; a batch with one bad member.
  const zero = [
    [1, 1, 2],
    [1, 1, 3],
    [2, 3, 9],
  ];
  const neg = embed(40, [], [[35, 34, 2]]);
  const cases: [string, number[], number[]][] = [
    ['zero pivot, n = 3', embed(3, zero), [3, 3]],
    ['zero pivot, n = 40', embed(40, zero, [[36, 1, 0.5]]), [40, 40]],
    ['negative pivot, n = 40', neg, [40, 40]],
    ['batch', [...spd(5, [], 40), ...neg], [2, 40, 40]],
  ];
  for (const [what, a, shape] of cases) {
    const [l] = compare(what, () => zs.cholesky(tf.tensor(a, shape), { validateArgs: false }));
    assert.ok(l.some(Number.isNaN), `${what}: no NaN`);
    const message = (backend: string) => {
      use(backend);
      try {
        zs.cholesky(tf.tensor(a, shape), { validateArgs: true });
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      } finally {
        use('cpu');
      }
    };
    const m = message('native');
    assert.match(m, /cholesky: `a` must be symmetric positive definite/);
    assert.equal(m, message('cpu'));
  }
  assert.ok(
    compare('zero pivot, n = 3', () => zs.cholesky(tf.tensor(embed(3, zero), [3, 3])), 0)[0].some(
      (v) => v === Infinity,
    ),
  );
});

test('n = 0: empty factors and solutions of the right shapes', () => {
  use('native');
  try {
    assert.deepEqual(zs.cholesky(tf.zeros([2, 0, 0])).shape, [2, 0, 0]);
    assert.deepEqual(zs.triangularSolve(tf.zeros([0, 0]), tf.zeros([2, 0, 3])).shape, [2, 0, 3]);
    const l = tf.engine().runKernel('Cholesky', { x: tf.zeros([3, 0, 0]) }) as tf.Tensor;
    assert.deepEqual(l.shape, [3, 0, 0]);
    const x = tf
      .engine()
      .runKernel(
        'MatrixTriangularSolve',
        { matrix: tf.zeros([2, 1, 0, 0]), rhs: tf.zeros([3, 0, 4]) },
        { lower: true, adjoint: false },
      ) as tf.Tensor;
    assert.deepEqual(x.shape, [2, 3, 0, 4]);
    const y = tf
      .engine()
      .runKernel(
        'MatrixTriangularSolve',
        { matrix: tf.eye(3), rhs: tf.zeros([3, 0]) },
        { lower: true, adjoint: false },
      ) as tf.Tensor;
    assert.deepEqual(y.shape, [3, 0]);
  } finally {
    use('cpu');
  }
});

test('the kernels called directly name themselves and the input at fault', () => {
  use('native');
  try {
    const run =
      (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}) =>
      () =>
        tf.engine().runKernel(name, inputs, attrs);
    assert.throws(run('Cholesky', { x: tf.ones([2, 3]) }), /Cholesky: `x` must hold square/);
    assert.throws(
      run('Cholesky', { x: tf.ones([2, 2], 'int32') }),
      /Cholesky: `x` must be float32, got int32/,
    );
    assert.throws(
      run('MatrixTriangularSolve', { matrix: tf.eye(3), rhs: tf.ones([2, 1]) }),
      /MatrixTriangularSolve: `rhs` \[2,1\] must be \[\.\.\., n, k\] with n = 3 rows/,
    );
    assert.throws(
      run('MatrixTriangularSolve', { matrix: tf.ones([2, 3, 3]), rhs: tf.ones([3, 3, 1]) }),
      /MatrixTriangularSolve: the batch shapes of `matrix` \[2\] and `rhs` \[3\] do not broadcast/,
    );
  } finally {
    use('cpu');
  }
});

test('no tensors leak on native: factor, solve and their gradients', () => {
  use('native');
  try {
    const a = tf.tensor(spd(9, [2], 40), [2, 40, 40]);
    const b = tf.tensor(values(9, [2, 40, 3]), [2, 40, 3]);
    const before = tf.memory().numTensors;
    for (let rep = 0; rep < 2; rep++) {
      const l = zs.cholesky(a, { validateArgs: true });
      const x = zs.triangularSolve(l, b, { adjoint: true, validateArgs: true });
      const g = tf.grads((u: tf.Tensor, v: tf.Tensor) =>
        tf.sum(zs.triangularSolve(zs.cholesky(u), v)),
      )([a, b]);
      tf.dispose([l, x, ...g]);
    }
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([a, b]);
  } finally {
    use('cpu');
  }
});
