/**
 * The data pipeline's dynamic binarisation in the native addon
 * (`bernoulliRows`, which `loadNative` installs for `Rng.bernoulliRows`):
 * the same numbers and the same generator state after as the JavaScript
 * loop, for Int32Array and Uint32Array rows, repeated and out-of-order rows,
 * rows of 1 and 784 values, probabilities 0 and 1, and several draws in a
 * row; a row index outside x is an error naming it, and the state is then
 * unchanged.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { bernoulliRows } from '@zhusuan/tfjs-backend-native';
import { loadNative } from '../src/backend.js';
import { Rng, setNativeBernoulliRows } from '../src/rng.js';
import { binarizeBatch } from '../src/vae/trainer.js';
import { lcgValues } from './helpers.js';

before(async () => {
  const status = await loadNative();
  assert.ok(status.available, `native addon unavailable: ${status.reason}`);
});

/** Binarises `rows` three times in a row with each path; the outputs and the final states. */
function both(x: Float32Array, xDim: number, rows: Int32Array | Uint32Array, seed: number) {
  const run = (native: boolean) => {
    setNativeBernoulliRows(native ? bernoulliRows : null);
    try {
      const rng = new Rng(seed);
      const outs: number[][] = [];
      for (let k = 0; k < 3; k++) {
        const out = new Float32Array(rows.length * xDim).fill(-1);
        binarizeBatch(x, xDim, rows, rng, out);
        outs.push(Array.from(out));
      }
      return { outs, state: rng.getState() };
    } finally {
      setNativeBernoulliRows(bernoulliRows);
    }
  };
  return { native: run(true), js: run(false) };
}

test('native: bernoulliRows draws what the JavaScript loop draws, and leaves its state', () => {
  const cases: Array<[number, number, Int32Array | Uint32Array]> = [
    [784, 20, Int32Array.of(3, 0, 19, 3, 7)],
    [784, 20, Uint32Array.of(12, 11, 10)],
    [1, 9, Int32Array.of(8, 0, 4, 4)],
    [5, 4, new Int32Array(0)],
  ];
  for (const [xDim, n, rows] of cases) {
    const x = lcgValues(n * xDim, 7, 0, 1);
    // Probabilities exactly 0 and 1 (never and always 1), and a row of each.
    for (let i = 0; i < x.length; i += 11) x[i] = i % 2 === 0 ? 0 : 1;
    const { native, js } = both(x, xDim, rows, 42 + xDim);
    assert.deepEqual(native.outs, js.outs, `xDim ${xDim}, rows [${rows}]`);
    assert.deepEqual(native.state, js.state, `xDim ${xDim}: state`);
    for (const out of native.outs) assert.ok(out.every((v) => v === 0 || v === 1));
  }
});

test('native: loadNative installs the native fill (a bad row index reaches it)', () => {
  const x = new Float32Array(3 * 4).fill(0.5);
  const rng = new Rng(1);
  const before = rng.getState();
  assert.throws(
    () => binarizeBatch(x, 4, Int32Array.of(0, 3), rng, new Float32Array(8)),
    /bernoulliRows: row 3 is outside x's 3/,
  );
  assert.throws(
    () => binarizeBatch(x, 4, Uint32Array.of(4294967295), rng, new Float32Array(4)),
    /row 4294967295 is outside/,
  );
  assert.deepEqual(rng.getState(), before, 'state unchanged');
});
