/**
 * MADE's autoregressive property (Germain et al., 2015) and the IAF step
 * built on it: the Jacobian of every output with respect to the input,
 * reordered by the chosen order, is strictly lower triangular (exact zeros
 * where the masks cut), and dense below the diagonal when the hidden layers
 * are wide enough; the IAF step's Jacobian is lower triangular with the gate
 * on its diagonal.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { assertClose, useCpu } from '../helpers.js';
import { jacobians, perturb } from './oracles.js';

before(useCpu);

/** J reordered by `order`: R[k][l] = J[order[k]][order[l]]. */
function reorder(j: number[][], order: readonly number[]): number[][] {
  return order.map((r) => order.map((c) => j[r][c]));
}

/** Asserts R is zero on and above the diagonal and, with `dense`, non-zero below it. */
function assertStrictlyLower(r: number[][], dense: boolean, what: string): void {
  for (let k = 0; k < r.length; k++) {
    for (let l = 0; l < r.length; l++) {
      if (l >= k) assert.equal(r[k][l], 0, `${what}: [${k}][${l}] = ${r[k][l]}`);
      else if (dense) assert.notEqual(r[k][l], 0, `${what}: [${k}][${l}] is zero`);
    }
  }
}

const ORDER = [3, 0, 4, 1, 2];

for (const [name, hiddenSizes] of [
  ['linear (linear_ar)', []],
  ['one hidden layer', [12]],
  ['two hidden layers', [12, 9]],
] as const) {
  test(`MADE (${name}): every output is strictly lower triangular in the order`, () => {
    const before = tf.memory().numTensors;
    const made = new zs.MADE(5, {
      hiddenSizes: [...hiddenSizes],
      order: ORDER,
      nParams: 3,
      activation: 'tanh',
      seed: 4,
    });
    perturb(made, 0.5, 40);
    const x = tf.randomNormal([3, 5], 0, 1, 'float32', 9);
    for (let p = 0; p < 3; p++) {
      const js = jacobians((v) => made.apply(v)[p], x);
      for (const j of js) assertStrictlyLower(reorder(j, ORDER), true, `output ${p}`);
    }
    const outs = made.apply(x);
    assert.deepEqual(
      outs.map((o) => o.shape),
      [
        [3, 5],
        [3, 5],
        [3, 5],
      ],
    );
    tf.dispose([x, ...outs]);
    made.dispose();
    assert.equal(tf.memory().numTensors, before, 'tensors left');
  });
}

test('MADE with one dimension: the outputs are their biases', () => {
  const made = new zs.MADE(1, { hiddenSizes: [4], outputBias: [0.5, -1], seed: 1 });
  perturb(made, 0.5, 3);
  tf.tidy(() => {
    const a = made.apply(tf.tensor2d([[0.3], [-2]]));
    const b = made.apply(tf.tensor2d([[7], [1]]));
    for (let p = 0; p < 2; p++) assert.deepEqual(a[p].dataSync(), b[p].dataSync());
  });
  made.dispose();
});

test('MADE: the output layer starts at zero, its outputs at outputBias', () => {
  const made = new zs.MADE(3, { hiddenSizes: [6], outputBias: [0, 2], seed: 1 });
  tf.tidy(() => {
    const [m, s] = made.apply(tf.randomNormal([4, 3]));
    assert.ok(m.dataSync().every((v) => v === 0));
    assert.ok(s.dataSync().every((v) => v === 2));
  });
  made.dispose();
});

test('an IAF step: triangular Jacobian in the order, the gate σ on its diagonal', () => {
  for (const update of ['gru', 'normal'] as const) {
    const iaf = new zs.InverseAutoregressiveFlow(5, {
      hiddenSizes: [10],
      order: ORDER,
      update,
      seed: 2,
    });
    perturb(iaf, 0.4, 7);
    const x = tf.randomNormal([2, 5], 0, 1, 'float32', 3);
    const js = jacobians((v) => iaf.forward(v).y, x);
    const [, s] = iaf.made.apply(x);
    const sv = s.dataSync();
    js.forEach((j, n) => {
      const r = reorder(j, ORDER);
      for (let k = 0; k < 5; k++) for (let l = k + 1; l < 5; l++) assert.equal(r[k][l], 0);
      const gate = (i: number) => {
        const si = sv[n * 5 + i];
        return update === 'gru' ? 1 / (1 + Math.exp(-si)) : Math.exp(si);
      };
      assertClose(
        j.map((row, i) => row[i]),
        [0, 1, 2, 3, 4].map(gate),
        1e-5,
        1e-6,
        `${update}: diagonal`,
      );
    });
    tf.dispose([x, s]);
    iaf.dispose();
  }
});

test('MADE and IAF errors name the argument', () => {
  assert.throws(() => new zs.MADE(0), /^Error: MADE: `dim` must be a positive integer, got 0/);
  assert.throws(
    () => new zs.MADE(3, { order: [0, 0, 1] }),
    /^Error: MADE: `order` must hold each of 0, …, 2 once, got \[0,0,1\]/,
  );
  assert.throws(() => new zs.MADE(3, { hiddenSizes: [4, 0] }), /^Error: MADE: `hiddenSizes/);
  assert.throws(() => new zs.MADE(3, { nParams: 0 }), /^Error: MADE: `nParams`/);
  assert.throws(
    () => new zs.MADE(3, { activation: 'gelu' as 'relu' }),
    /^Error: MADE: `activation` must be 'relu' or 'tanh', got 'gelu'/,
  );
  const made = new zs.MADE(3, { seed: 1 });
  const [x4, x3] = [tf.zeros([2, 4]), tf.zeros([2, 3])];
  assert.throws(
    () => made.apply(x4),
    /^Error: MADE.apply: the last axis of `x` \[2,4\] must have size 3/,
  );
  made.dispose();
  assert.throws(() => made.apply(x3), /^Error: MADE.apply: the network was disposed/);
  tf.dispose([x4, x3]);
  assert.throws(
    () => new zs.InverseAutoregressiveFlow(3, { update: 'lstm' as 'gru' }),
    /^Error: InverseAutoregressiveFlow: `update` must be 'gru' or 'normal', got 'lstm'/,
  );
});
