/**
 * The one VAE definition on tfjs' cpu backend: its layer table, the network
 * against a float64 reference, the objectives' values, and the saved-weights
 * factory's errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as zs from 'zhusuan';
import {
  savedWeightLayers,
  shapeFromWeights,
  Vae,
  vaeLayers,
  type NamedWeight,
  type VaeShape,
} from '../src/index.js';

await tf.setBackend('cpu');

const SHAPE: VaeShape = { xDim: 6, zDim: 3, hidden: 5 };

/** Deterministic pseudo-random values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s / 1073741824 - 1;
  }
  return out;
}

function weightsFor(shape: VaeShape): NamedWeight[] {
  return vaeLayers(shape).flatMap((l, k) => [
    {
      name: `${l.name}/kernel`,
      shape: [l.inDim, l.outDim],
      data: values(l.inDim * l.outDim, 11 + k),
    },
    { name: `${l.name}/bias`, shape: [l.outDim], data: values(l.outDim, 101 + k) },
  ]);
}

/** act(x W + b) in float64, for one row x. */
function dense(x: number[], ws: NamedWeight[], name: string, relu: boolean): number[] {
  const w = ws.find((v) => v.name === `${name}/kernel`)!;
  const b = ws.find((v) => v.name === `${name}/bias`)!;
  const [inDim, outDim] = w.shape;
  return Array.from({ length: outDim }, (_, j) => {
    let s = b.data[j];
    for (let i = 0; i < inDim; i++) s += x[i] * w.data[i * outDim + j];
    return relu ? Math.max(0, s) : s;
  });
}

test('vaeLayers: the homework network, decoder then encoder then heads', () => {
  assert.deepEqual(
    vaeLayers({ xDim: 784, zDim: 40, hidden: 500 }).map((l) => [
      l.name,
      l.inDim,
      l.outDim,
      l.activation,
    ]),
    [
      ['gen/h1', 40, 500, 'relu'],
      ['gen/h2', 500, 500, 'relu'],
      ['gen/x_logits', 500, 784, 'linear'],
      ['q/h1', 784, 500, 'relu'],
      ['q/h2', 500, 500, 'relu'],
      ['q/z_mean', 500, 40, 'linear'],
      ['q/z_logstd', 500, 40, 'linear'],
    ],
  );
});

test('Vae over saved weights: decode, encoder mean and log-std against float64', () => {
  const ws = weightsFor(SHAPE);
  assert.deepEqual(shapeFromWeights(ws), SHAPE);
  const before = tf.memory().numTensors;
  const vae = new Vae(SHAPE, savedWeightLayers(ws));
  assert.deepEqual(
    vae.weightNames,
    ws.map((w) => w.name),
  );
  const z = [0.3, -1.2, 0.7];
  const want = dense(
    dense(dense(z, ws, 'gen/h1', true), ws, 'gen/h2', true),
    ws,
    'gen/x_logits',
    false,
  );
  const got = tf.tidy(() => vae.decode(tf.tensor2d([z])).dataSync());
  want.forEach((v, j) =>
    assert.ok(Math.abs(got[j] - v) < 1e-5, `x_logits[${j}] ${got[j]} vs ${v}`),
  );
  // Rank-3 input (particles × batch) gives the same rows.
  const got3 = tf.tidy(() => vae.decode(tf.tensor3d([[z, z]])).dataSync());
  assert.deepEqual(Array.from(got3.subarray(6)), Array.from(got));

  const x = Array.from(values(6, 5), (v) => (v + 1) / 2);
  const h = dense(dense(x, ws, 'q/h1', true), ws, 'q/h2', true);
  const mean = tf.tidy(() => vae.encodeMean(tf.tensor2d([x])).dataSync());
  dense(h, ws, 'q/z_mean', false).forEach((v, j) => assert.ok(Math.abs(mean[j] - v) < 1e-5));
  // q(z|x) is N(mean, exp(logstd)^2): log q of its mean is −Σ logstd − (d/2) log 2π.
  const logstd = dense(h, ws, 'q/z_logstd', false);
  const logq = tf.tidy(() => {
    const q = vae.variational(tf.tensor2d([x]), 1);
    return q
      .node('z')
      .dist.logProb(tf.tensor3d([[Array.from(mean)]]))
      .dataSync()[0];
  });
  const wantLogq = -logstd.reduce((a, b) => a + b, 0) - 1.5 * Math.log(2 * Math.PI);
  assert.ok(Math.abs(logq - wantLogq) < 1e-4, `${logq} vs ${wantLogq}`);
  vae.dispose();
  assert.equal(tf.memory().numTensors, before, 'the Vae leaks or keeps tensors after dispose');
});

test('Vae objectives: the ELBO cost is the bound negated; IS-LL ≥ ELBO on average', () => {
  const vae = new Vae(SHAPE, savedWeightLayers(weightsFor(SHAPE)));
  const x = tf.tensor2d(Array.from({ length: 4 }, (_, r) => [1, 0, 1, r % 2, 0, 1]));
  zs.random.setSeed(3);
  const before = tf.memory().numTensors;
  for (const kind of ['elbo', 'iwae', 'vimco'] as const) {
    // Callers run objectives in a scope (the optimizer's minimize), as here.
    const [cost, bound] = tf.tidy(() => {
      const o = vae.objective(x, kind, kind === 'elbo' ? 1 : 4);
      return [o.cost.dataSync()[0], o.bound.dataSync()[0]];
    });
    if (kind !== 'vimco') assert.ok(Math.abs(cost + bound) < 1e-5, `${kind}: ${cost} vs ${bound}`);
    assert.ok(Number.isFinite(bound), kind);
  }
  zs.random.setSeed(4);
  const elbo = tf.tidy(() => tf.mean(vae.elbo(x)).dataSync()[0]);
  const ll = tf.tidy(() => tf.mean(vae.isLoglikelihood(x, 200)).dataSync()[0]);
  assert.ok(ll > elbo, `IS-LL ${ll} should exceed the one-sample ELBO ${elbo}`);
  assert.ok(ll < 0 && ll > -6 * Math.log(2) * 4, `${ll}`);
  const s = vae.sample(5);
  assert.deepEqual(s.shape, [5, 6]);
  assert.ok(s.dataSync().every((v) => v > 0 && v < 1));
  const r = vae.reconstruct(x);
  assert.deepEqual(r.shape, [4, 6]);
  tf.dispose([s, r]);
  assert.equal(tf.memory().numTensors, before, 'objectives leak tensors');
  x.dispose();
  vae.dispose();
});

test('savedWeightLayers names the missing or misshapen weight and frees what it made', () => {
  const ws = weightsFor(SHAPE);
  const before = tf.memory().numTensors;
  const cases: [NamedWeight[], RegExp][] = [
    [ws.filter((w) => w.name !== 'q/z_logstd/bias'), /T: weight 'q\/z_logstd\/bias' missing/],
    [
      ws.map((w) => (w.name === 'q/h2/kernel' ? { ...w, shape: [4, 5], data: values(20, 1) } : w)),
      /T: layer 'q\/h2' takes 4 inputs, expected 5/,
    ],
    [
      ws.map((w) => (w.name === 'q/z_mean/bias' ? { ...w, shape: [2], data: values(2, 1) } : w)),
      /T: layer 'q\/z_mean' has kernel \[5,3\] and bias \[2\]/,
    ],
  ];
  for (const [bad, message] of cases) {
    assert.throws(() => new Vae(SHAPE, savedWeightLayers(bad, 'T')), message);
  }
  assert.throws(() => shapeFromWeights(ws.slice(2), 'T'), /T: weight 'gen\/h1\/kernel' missing/);
  assert.equal(tf.memory().numTensors, before, 'a refused construction leaks tensors');
});
