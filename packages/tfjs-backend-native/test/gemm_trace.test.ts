/**
 * traceNativeGemms / nativeGemmShapes: every matrix product the addon runs is
 * recorded under its shape while tracing is on (what `zhusuan bench
 * --profile` reports), and nothing while it is off.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { dense } from '../src/dense.js';
import { nativeGemmShapes, traceNativeGemms } from '../src/info.js';
import { rand, setupNative } from './helpers.js';

before(async () => {
  await setupNative();
});

after(() => {
  traceNativeGemms(false);
});

/** The recorded groups as { products: [calls, flops] }. */
function recorded(): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const r of nativeGemmShapes()) {
    assert.ok(r.seconds >= 0 && Number.isFinite(r.seconds), `${r.products}: ${r.seconds} s`);
    out[r.products] = [r.calls, r.flops];
  }
  return out;
}

describe('GEMM trace', () => {
  it('records products by shape, transposes and batches included', () => {
    assert.equal(traceNativeGemms(true), true);
    tf.tidy(() => {
      const a = rand([3, 4], 1);
      const b = rand([4, 5], 2);
      tf.matMul(a, b);
      tf.matMul(a, b);
      // Aᵀ·B with A stored [4, 3], and A·Bᵀ with B stored [5, 4].
      tf.matMul(rand([4, 3], 3), b, true, false);
      tf.matMul(a, rand([5, 4], 4), false, true);
      // A batch of two products with their own right-hand sides.
      tf.matMul(rand([2, 3, 4], 5), rand([2, 4, 5], 6));
    });
    const flops = 2 * 3 * 4 * 5;
    assert.deepEqual(recorded(), {
      '3x4·4x5': [2, 2 * flops],
      '4x3^T·4x5': [1, flops],
      '3x4·5x4^T': [1, flops],
      '2 × 3x4·4x5': [1, 2 * flops],
    });
  });

  it("records a dense layer's input and weight gradients as one pair run side by side", () => {
    traceNativeGemms(true);
    tf.tidy(() => {
      const x = rand([9, 7], 1);
      const w = rand([7, 5], 2);
      const b = rand([5], 3);
      tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(dense(xx, ww, b, 'relu')))([x, w]);
    });
    const flops = 2 * 9 * 7 * 5;
    assert.deepEqual(recorded(), {
      // Forward x·w, then dz·wᵀ (dx) beside xᵀ·dz (dw).
      '9x7·7x5': [1, flops],
      '9x5·7x5^T | 9x7^T·9x5': [1, 2 * flops],
    });
  });

  it('records nothing while off, and starting again clears what was kept', () => {
    traceNativeGemms(true);
    tf.tidy(() => tf.matMul(rand([2, 2], 1), rand([2, 2], 2)));
    assert.deepEqual(Object.keys(recorded()), ['2x2·2x2']);
    traceNativeGemms(false);
    tf.tidy(() => tf.matMul(rand([2, 3], 1), rand([3, 2], 2)));
    assert.deepEqual(Object.keys(recorded()), ['2x2·2x2']);
    traceNativeGemms(true);
    assert.deepEqual(recorded(), {});
  });
});
