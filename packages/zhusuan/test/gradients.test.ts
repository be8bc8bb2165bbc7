/**
 * A program with tfjs-core and a backend but no gradients registered: what
 * needs a gradient says so, with the one-line fix, and evaluation without a
 * gradient still works. This file imports tfjs-core alone (not the
 * `@tensorflow/tfjs` union that registers the gradients, nor ../helpers.ts,
 * which imports it); node --test runs each file in its own process.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as zs from '../src/index.js';

before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
});

const model = zs.metaBayesianNet((bn: zs.BayesianNet) => {
  const z = bn.normal('z', tf.zeros([1]), { std: 1 });
  bn.normal('x', z, { std: 1 });
});
const q = (m: tf.Tensor) => {
  const bn = new zs.BayesianNet();
  bn.normal('z', m, { std: 1, nSamples: 3 });
  return bn;
};
const x = tf.tensor1d([0.5]);
const FIX = /no gradients are registered with tfjs.*import '@tensorflow\/tfjs' once in the program/;

test('without registered gradients, objectives under a gradient name the missing registration', () => {
  const under = (f: (m: tf.Tensor) => tf.Tensor) => () => tf.grads(f)([tf.tensor1d([0])]);
  assert.throws(
    under((m) => tf.sum(zs.elbo(model, { x }, { variational: q(m), axis: 0 }).sgvb())),
    new RegExp(`^Error: elbo: ${FIX.source}`),
  );
  assert.throws(
    under((m) =>
      tf.sum(zs.importanceWeightedObjective(model, { x }, { variational: q(m), axis: 0 }).vimco()),
    ),
    new RegExp(`importanceWeightedObjective: ${FIX.source}`),
  );
  assert.throws(
    under((m) => tf.sum(zs.klpq(model, { x }, { variational: q(m), axis: 0 }).importance())),
    new RegExp(`klpq: ${FIX.source}`),
  );
  // Values need no gradient: evaluation works as before.
  const lb = zs.elbo(model, { x }, { variational: q(tf.tensor1d([0])), axis: 0 });
  assert.ok(Number.isFinite(lb.tensor.dataSync()[0]));
  const ll = zs.isLoglikelihood(model, { x }, { proposal: q(tf.tensor1d([0])), axis: 0 });
  assert.ok(Number.isFinite(ll.dataSync()[0]));
});

test('without registered gradients, the samplers name the missing registration, not a comparison', () => {
  const z = tf.variable(tf.zeros([1]));
  const hmc = new zs.HMC({ stepSize: 0.1, nLeapfrogs: 2 });
  assert.throws(() => hmc.step(model, { x }, { z }), new RegExp(`HMC\\.step: ${FIX.source}`));
  assert.throws(
    () => new zs.SGLD({ learningRate: 0.01 }).step(model, { x }, { z }),
    new RegExp(`SGLD\\.step: ${FIX.source}`),
  );
  hmc.dispose();
  z.dispose();
});

test('the fix the message names works', async () => {
  await import('@tensorflow/tfjs');
  const [g] = tf.grads((m: tf.Tensor) =>
    tf.sum(zs.elbo(model, { x }, { variational: q(m), axis: 0 }).sgvb()),
  )([tf.tensor1d([0])]);
  assert.ok(Number.isFinite(g.dataSync()[0]));
  const z = tf.variable(tf.zeros([1]));
  const hmc = new zs.HMC({ stepSize: 0.1, nLeapfrogs: 2 });
  assert.ok(hmc.step(model, { x }, { z }).acceptanceRate >= 0);
  hmc.dispose();
});
