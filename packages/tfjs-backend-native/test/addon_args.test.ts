/**
 * The addon's argument checks (binding/napi_args.h and each entry point):
 * a wrong array type, a short array or inconsistent sizes throw a TypeError
 * or RangeError naming the function and the argument, before any kernel
 * reads past a buffer; valid calls of the same shapes compute.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getAddon, nativeLoadError, type NativeAddon } from '../src/addon.js';
import { BinaryOp, ReduceOp } from '../src/addon.js';

let addon: NativeAddon;

before(() => {
  const a = getAddon();
  if (a === null) throw new Error(`native addon unavailable: ${nativeLoadError()}`);
  addon = a;
});

/** Asserts that `f` throws an error of class `type` whose message matches `message`. */
function throwsLike(f: () => void, type: ErrorConstructor, message: RegExp): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

const f32 = (n: number): Float32Array => new Float32Array(n);

describe('addon argument checks', () => {
  it('matMul: multiplies, and names a non-array, a wrong type and a short output', () => {
    const a = Float32Array.of(1, 2, 3, 4, 5, 6); // [2, 3]
    const b = Float32Array.of(1, 0, 0, 1, 1, 1); // [3, 2]
    const c = f32(4);
    addon.matMul(a, b, c, 1, 1, 2, 2, 3, false, false);
    assert.deepEqual([...c], [4, 5, 10, 11]);
    throwsLike(
      () => addon.matMul([1] as unknown as Float32Array, b, c, 1, 1, 2, 2, 3, false, false),
      TypeError,
      /^native\.matMul: argument 0 must be a typed array$/,
    );
    throwsLike(
      () => addon.matMul(a, new Int32Array(6) as never, c, 1, 1, 2, 2, 3, false, false),
      TypeError,
      /^native\.matMul: argument 1 must be a Float32Array$/,
    );
    throwsLike(
      () => addon.matMul(a, b, f32(3), 1, 1, 2, 2, 3, false, false),
      RangeError,
      /^native\.matMul: argument 2 has 3 elements, needs 4$/,
    );
  });

  it('fusedMatMul: an optional bias of N elements', () => {
    const a = Float32Array.of(1, 2); // [1, 2]
    const b = Float32Array.of(1, 1, 1, -1); // [2, 2]
    const c = f32(2);
    addon.fusedMatMul(a, b, c, 1, 1, 1, 2, 2, false, false, null, 0, 0);
    assert.deepEqual([...c], [3, -1]);
    addon.fusedMatMul(a, b, c, 1, 1, 1, 2, 2, false, false, Float32Array.of(1, 1), 1, 0);
    assert.deepEqual([...c], [4, 0]);
    throwsLike(
      () => addon.fusedMatMul(a, b, c, 1, 1, 1, 2, 2, false, false, f32(1), 0, 0),
      RangeError,
      /^native\.fusedMatMul: argument 10 has 1 elements, needs 2$/,
    );
  });

  it('binary and reduce: shapes that do not fit', () => {
    const s = (...d: number[]) => Int32Array.from(d);
    throwsLike(
      () => addon.binary(BinaryOp.Add, f32(2), s(2), f32(3), s(3), f32(3)),
      RangeError,
      /^native\.binary: shapes do not broadcast \(or rank > 8\)$/,
    );
    throwsLike(
      () => addon.binary(BinaryOp.Less, f32(2), s(2), f32(2), s(2), f32(2)),
      TypeError,
      /^native\.binary: argument 5 must be a Uint8Array of the output size$/,
    );
    throwsLike(
      () => addon.reduce(ReduceOp.Sum, f32(6), f32(2), s(2, 3), s(0)),
      RangeError,
      /^native\.reduce: shape and axis mask differ or rank > 8$/,
    );
  });

  it('slice and transpose: their meta array', () => {
    const x = Float32Array.of(1, 2, 3, 4, 5, 6);
    const out = f32(2);
    addon.slice(x, out, Int32Array.of(2, 2, 3, 1, 1, 1, 2));
    assert.deepEqual([...out], [5, 6]);
    throwsLike(
      () => addon.slice(x, out, Int32Array.of(0)),
      RangeError,
      /^native\.slice: bad meta$/,
    );
    throwsLike(
      () => addon.slice(x, out, Int32Array.of(2, 2, 3, 1, 1)),
      RangeError,
      /^native\.slice: bad meta$/,
    );
    throwsLike(
      () => addon.slice(x, out, Int32Array.of(1, 6, 5, 2)),
      RangeError,
      /^native\.slice: window outside the input$/,
    );
    const t = f32(6);
    addon.transpose(x, t, Int32Array.of(2, 2, 3, 1, 0));
    assert.deepEqual([...t], [1, 4, 2, 5, 3, 6]);
    throwsLike(
      () => addon.transpose(x, t, Int32Array.of(2, 2, 3, 1)),
      RangeError,
      /^native\.transpose: bad meta$/,
    );
  });

  it('log-densities: inner and the operand lengths', () => {
    const one = Float32Array.of(0);
    throwsLike(
      () => addon.bernoulliLogProb(f32(4), f32(4), f32(4), 0),
      RangeError,
      /^native\.bernoulliLogProb: inner < 1$/,
    );
    throwsLike(
      () => addon.normalLogProb(f32(4), f32(3), one, f32(4), 1),
      RangeError,
      /^native\.normalLogProb: operand lengths do not broadcast periodically$/,
    );
    throwsLike(
      () => addon.normalLogProbGrad(f32(6), one, one, f32(1), f32(6), f32(6), 4),
      RangeError,
      /^native\.normalLogProbGrad: bad inner$/,
    );
    throwsLike(
      () => addon.bernoulliLogProbGrad(f32(6), f32(6), f32(2), f32(6), 4),
      RangeError,
      /^native\.bernoulliLogProbGrad: bad inner$/,
    );
    throwsLike(
      () => addon.countsDotGrad(f32(6), f32(6), f32(2), f32(6), 4, true),
      RangeError,
      /^native\.countsDotGrad: bad inner$/,
    );
    throwsLike(
      () => addon.countsDotGrad(f32(6), f32(4), f32(3), f32(6), 2, true),
      RangeError,
      /^native\.countsDotGrad: operand lengths do not broadcast periodically$/,
    );
    throwsLike(
      () => addon.normalSample(one, one, new Int32Array(2) as never, f32(2)),
      TypeError,
      /^native\.normalSample: argument 2 must be a Float32Array$/,
    );
  });

  it('random draws: a string seed and a Float32Array output', () => {
    throwsLike(
      () => addon.randomUniform(f32(2), 3 as unknown as string, 0, 1),
      TypeError,
      /^native\.randomUniform: argument 1 must be a string$/,
    );
    throwsLike(
      () => addon.randomNormal(new Float64Array(2) as never, '3', 0, 1),
      TypeError,
      /^native\.randomNormal: argument 0 must be a Float32Array$/,
    );
  });

  it('bernoulliSample: parameters whose length divides the output, a string seed', () => {
    throwsLike(
      () => addon.bernoulliSample(f32(3), f32(4), '1', true),
      RangeError,
      /^native\.bernoulliSample: the parameters' length must divide the output's$/,
    );
    throwsLike(
      () => addon.bernoulliSample(f32(0), f32(4), '1', false),
      RangeError,
      /^native\.bernoulliSample: the parameters' length must divide the output's$/,
    );
    throwsLike(
      () => addon.bernoulliSample(f32(2), f32(4), 1 as unknown as string, true),
      TypeError,
      /^native\.bernoulliSample: argument 2 must be a string$/,
    );
  });

  it('matMul: batch index arrays (broadcast batches)', () => {
    const a = Float32Array.of(1, 2); // two [1, 1] matrices
    const b = Float32Array.of(10, 100, 1000); // three [1, 1] matrices
    const c = f32(6);
    addon.matMul(
      a,
      b,
      c,
      2,
      3,
      1,
      1,
      1,
      false,
      false,
      Int32Array.of(0, 0, 0, 1, 1, 1),
      Int32Array.of(0, 1, 2, 0, 1, 2),
    );
    assert.deepEqual([...c], [10, 100, 1000, 20, 200, 2000]);
    throwsLike(
      () =>
        addon.matMul(
          a,
          b,
          c,
          2,
          3,
          1,
          1,
          1,
          false,
          false,
          Int32Array.of(0, 2),
          Int32Array.of(0, 1),
        ),
      RangeError,
      /^native\.matMul: batch index outside the operand$/,
    );
    throwsLike(
      () =>
        addon.matMul(a, b, c, 2, 3, 1, 1, 1, false, false, Int32Array.of(0), Int32Array.of(0, 1)),
      RangeError,
      /^native\.matMul: the batch index arrays differ in length$/,
    );
  });

  it('gather and unsortedSegmentSum: indices and sizes', () => {
    const x = Float32Array.of(1, 2, 3, 4, 5, 6); // [3, 2]
    const out = f32(4);
    assert.equal(addon.gather(x, Int32Array.of(2, 0), out, 1, 1, 3, 2), -1);
    assert.deepEqual([...out], [5, 6, 1, 2]);
    // A bad index: its position comes back and nothing is written.
    out.fill(7);
    assert.equal(addon.gather(x, Int32Array.of(1, 3), out, 1, 1, 3, 2), 1);
    assert.deepEqual([...out], [7, 7, 7, 7]);
    throwsLike(
      () => addon.gather(x, Int32Array.of(0, 1), new Int32Array(4), 1, 1, 3, 2),
      TypeError,
      /^native\.gather: argument 2 must be an array of x's type and the output's size$/,
    );
    throwsLike(
      () => addon.gather(x, Int32Array.of(0, 1, 2), out, 2, 1, 3, 1),
      RangeError,
      /^native\.gather: bad sizes$/,
    );
    const sums = f32(2);
    // One segment: ids 1 and -1 drop every row.
    addon.unsortedSegmentSum(x, Int32Array.of(1, -1, 1), sums, 2, 1);
    assert.deepEqual([...sums], [0, 0]);
    const sums2 = f32(4);
    addon.unsortedSegmentSum(x, Int32Array.of(1, 5, 1), sums2, 2, 2);
    assert.deepEqual([...sums2], [0, 0, 6, 8]);
    throwsLike(
      () => addon.unsortedSegmentSum(x, Int32Array.of(0, 1, 2, 0), sums2, 2, 2),
      RangeError,
      /^native\.unsortedSegmentSum: argument 0 has 6 elements, needs 8$/,
    );
  });

  it('gatherGrad: sums by index, bad indices and sizes', () => {
    // dy [2 outer, 3 positions, 1] into out [2, 2, 1] by indices [1, 0, 1].
    const dy = Float32Array.of(1, 2, 3, 10, 20, 30);
    const out = f32(4);
    assert.equal(addon.gatherGrad(dy, Int32Array.of(1, 0, 1), out, 1, 2, 2, 1), -1);
    assert.deepEqual([...out], [2, 4, 20, 40]);
    // A bad index: its position comes back and nothing is written.
    out.fill(7);
    assert.equal(addon.gatherGrad(dy, Int32Array.of(1, 2, -1), out, 1, 2, 2, 1), 1);
    assert.deepEqual([...out], [7, 7, 7, 7]);
    throwsLike(
      () => addon.gatherGrad(dy, Int32Array.of(0, 1, 0), f32(3), 1, 2, 2, 1),
      RangeError,
      /^native\.gatherGrad: argument 2 has 3 elements, needs 4$/,
    );
    throwsLike(
      () => addon.gatherGrad(dy, Int32Array.of(0, 1, 0), out, 2, 2, 2, 1),
      RangeError,
      /^native\.gatherGrad: bad sizes$/,
    );
    throwsLike(
      () => addon.gatherGrad(dy, Int32Array.of(0, 1, 0), out, 1, 2, 2, 2),
      RangeError,
      /^native\.gatherGrad: argument 0 has 6 elements, needs 12$/,
    );
  });

  it('cholesky and triangularSolve: sizes and batch indices', () => {
    const a = Float32Array.of(4, NaN, 2, 5); // lower triangle of [[4, 2], [2, 5]]
    const l = f32(4);
    addon.cholesky(a, l, 1, 2);
    assert.deepEqual([...l], [2, 0, 1, 2]);
    throwsLike(
      () => addon.cholesky(a, f32(4), 2, 2),
      RangeError,
      /^native\.cholesky: argument 0 has 4 elements, needs 8$/,
    );
    throwsLike(() => addon.cholesky(a, l, -1, 2), RangeError, /^native\.cholesky: bad sizes$/);
    const x = f32(2);
    const one = Int32Array.of(0);
    addon.triangularSolve(l, Float32Array.of(2, 9), x, 2, 1, true, false, one, one);
    assert.deepEqual([...x], [1, 4]);
    addon.triangularSolve(l, Float32Array.of(4, 4), x, 2, 1, true, true, one, one);
    assert.deepEqual([...x], [1, 2]);
    throwsLike(
      () => addon.triangularSolve(l, f32(2), x, 2, 1, true, false, one, Int32Array.of(1)),
      RangeError,
      /^native\.triangularSolve: a batch index is outside its operand$/,
    );
    throwsLike(
      () => addon.triangularSolve(l, f32(2), x, 2, 1, true, false, one, Int32Array.of(0, 0)),
      RangeError,
      /^native\.triangularSolve: bad sizes$/,
    );
    throwsLike(
      () =>
        addon.triangularSolve(
          l,
          f32(2),
          f32(2),
          2,
          1,
          true,
          false,
          Int32Array.of(0, 0),
          Int32Array.of(0, 0),
        ),
      RangeError,
      /^native\.triangularSolve: argument 2 has 2 elements, needs 4$/,
    );
  });

  it('tile, pad and copy2d: types and windows', () => {
    const x = Int32Array.of(1, 2, 3);
    const t = new Int32Array(6);
    addon.tile(x, t, Int32Array.of(1, 3, 2));
    assert.deepEqual([...t], [1, 2, 3, 1, 2, 3]);
    throwsLike(
      () => addon.tile(x, f32(6), Int32Array.of(1, 3, 2)),
      TypeError,
      /^native\.tile: argument 1 must be arrays of one type \(float32, int32, uint8\) of the sizes$/,
    );
    const p = new Int32Array(5);
    addon.pad(x, p, Int32Array.of(1, 5, 1, 3), -1);
    assert.deepEqual([...p], [-1, 1, 2, 3, -1]);
    throwsLike(
      () => addon.pad(x, p, Int32Array.of(1, 5, 3, 3), 0),
      RangeError,
      /^native\.pad: window outside the output$/,
    );
    throwsLike(
      () => addon.copy2d(f32(4), 0, 2, new Int32Array(4), 0, 2, 2, 2),
      TypeError,
      /^native\.copy2d: argument 3 must be a Float32Array or Int32Array, as argument 0$/,
    );
    throwsLike(
      () => addon.copy2d(f32(4), 1, 2, f32(4), 0, 2, 2, 2),
      RangeError,
      /^native\.copy2d: rows outside the arrays$/,
    );
  });

  it('convolutions, pooling and softmax: their geometry and sizes', () => {
    // x [1, 2, 2, 1] with a 1×1 filter of 2 output channels: y = x·[1, 10].
    const geom = Int32Array.of(1, 2, 2, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0);
    const y = f32(8);
    addon.conv2d(Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 10), y, geom);
    assert.deepEqual([...y], [1, 10, 2, 20, 3, 30, 4, 40]);
    throwsLike(
      () => addon.conv2d(f32(4), f32(2), y, geom.subarray(0, 14)),
      RangeError,
      /^native\.conv2d: the geometry needs 15 numbers$/,
    );
    throwsLike(
      () => addon.conv2dBackpropInput(f32(8), f32(2), f32(3), geom),
      RangeError,
      /^native\.conv2dBackpropInput: argument 2 has 3 elements, needs 4$/,
    );
    throwsLike(
      () =>
        addon.conv2dBackpropFilter(
          f32(4),
          f32(8),
          f32(2),
          Int32Array.of(1, 2, 2, 1, 2, 2, 2, 1, 1, 0, 1, 1, 1, 0, 0),
        ),
      RangeError,
      /^native\.conv2dBackpropFilter: bad geometry$/,
    );
    // 2×2 max pooling of one 2×2 image.
    const pg = Int32Array.of(1, 2, 2, 1, 1, 1, 2, 2, 2, 2, 0, 0);
    const m = f32(1);
    addon.pool2d(Float32Array.of(1, 4, 3, 2), m, true, pg);
    assert.deepEqual([...m], [4]);
    throwsLike(
      () => addon.maxPoolGrad(f32(1), f32(3), f32(4), pg),
      RangeError,
      /^native\.maxPoolGrad: argument 1 has 3 elements, needs 4$/,
    );
    throwsLike(
      () => addon.softmax(f32(6), f32(6), 4),
      RangeError,
      /^native\.softmax: rows of cols elements$/,
    );
  });

  it('logSumExp and its gradient: the shape, mask and sizes', () => {
    // Rows [0, log 3] and [1, 1] of x [2, 2] over the last axis.
    const x = Float32Array.of(0, Math.log(3), 1, 1);
    const out = f32(2);
    addon.logSumExp(x, f32(4), out, Int32Array.of(2, 2), Int32Array.of(0, 1));
    assert.ok(Math.abs(out[0] - Math.log(4)) < 1e-6 && Math.abs(out[1] - (1 + Math.log(2))) < 1e-6);
    const dx = f32(4);
    addon.logSumExpGrad(x, Float32Array.of(1, 2), dx, Int32Array.of(2, 2), Int32Array.of(0, 1));
    [0.25, 0.75, 1, 1].forEach((want, i) => assert.ok(Math.abs(dx[i] - want) < 1e-6, `dx[${i}]`));
    throwsLike(
      () => addon.logSumExp(x, f32(4), out, Int32Array.of(2, 2), Int32Array.of(1)),
      RangeError,
      /^native\.logSumExp: shape and axis mask differ or rank > 8$/,
    );
    throwsLike(
      () => addon.logSumExp(x, f32(3), out, Int32Array.of(2, 2), Int32Array.of(0, 1)),
      RangeError,
      /^native\.logSumExp: argument 1 has 3 elements, needs 4$/,
    );
    throwsLike(
      () => addon.logSumExpGrad(x, f32(1), dx, Int32Array.of(2, 2), Int32Array.of(0, 1)),
      RangeError,
      /^native\.logSumExpGrad: argument 1 has 1 elements, needs 2$/,
    );
  });
});
