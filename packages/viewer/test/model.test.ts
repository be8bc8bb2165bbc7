/**
 * The viewer's model and helpers, in Node on tfjs' cpu backend (the backend
 * the page uses in the browser).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  interpolate,
  latentActivity,
  traverse,
  ViewerVae,
  type NamedWeight,
} from '../src/model.js';
import { encodeWeights, parseWeights } from '../src/protocol.js';

await tf.setBackend('cpu');

// The network the viewer must rebuild, stated independently of the code:
// the decoder z → h1 → h2 → x_logits and the encoder x → h1 → h2 → z_mean,
// hidden layers ReLU, heads linear, named as the trainer's checkpoints.
const DECODER_LAYERS = ['gen/h1', 'gen/h2', 'gen/x_logits'];
const ENCODER_LAYERS = ['q/h1', 'q/h2'];
const Z_MEAN_LAYER = 'q/z_mean';

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

/** Weights of a small VAE: xDim 6, hidden 5, zDim 3, named as the trainer's checkpoints. */
function smallWeights(): NamedWeight[] {
  const dims: [string, number, number][] = [
    [DECODER_LAYERS[0], 3, 5],
    [DECODER_LAYERS[1], 5, 5],
    [DECODER_LAYERS[2], 5, 6],
    [ENCODER_LAYERS[0], 6, 5],
    [ENCODER_LAYERS[1], 5, 5],
    [Z_MEAN_LAYER, 5, 3],
    ['q/z_logstd', 5, 3],
  ];
  return dims.flatMap(([name, i, o], k) => [
    { name: `${name}/kernel`, shape: [i, o], data: values(i * o, 11 + k) },
    { name: `${name}/bias`, shape: [o], data: values(o, 101 + k) },
  ]);
}

/** y = act(x W + b) in plain float64 arithmetic, row-major. */
function dense(x: number[], w: NamedWeight, b: NamedWeight, relu: boolean): number[] {
  const [inDim, outDim] = w.shape;
  return Array.from({ length: outDim }, (_, j) => {
    let s = b.data[j];
    for (let i = 0; i < inDim; i++) s += x[i] * w.data[i * outDim + j];
    return relu ? Math.max(0, s) : s;
  });
}

function mlp(ws: NamedWeight[], names: readonly string[], x: number[]): number[] {
  const get = (n: string) => ws.find((w) => w.name === n)!;
  return names.reduce(
    (h, name, i) => dense(h, get(`${name}/kernel`), get(`${name}/bias`), i < names.length - 1),
    x,
  );
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

test('ViewerVae decodes and encodes like the trainer’s network (ReLU hidden, linear heads)', () => {
  const ws = smallWeights();
  const vae = new ViewerVae(ws);
  assert.equal(vae.zDim, 3);
  assert.equal(vae.xDim, 6);
  const z = values(2 * 3, 7);
  const x = decodeRows(vae.decode(z), 6);
  for (let r = 0; r < 2; r++) {
    const want = mlp(ws, DECODER_LAYERS, Array.from(z.subarray(3 * r, 3 * r + 3))).map(sigmoid);
    want.forEach((v, j) => assert.ok(Math.abs(x[r][j] - v) < 1e-6, `x[${r}][${j}]`));
  }
  const img = values(2 * 6, 9).map((v) => (v + 1) / 2);
  const m = decodeRows(vae.encode(img), 3);
  for (let r = 0; r < 2; r++) {
    const want = mlp(
      ws,
      [...ENCODER_LAYERS, Z_MEAN_LAYER],
      Array.from(img.subarray(6 * r, 6 * r + 6)),
    );
    want.forEach((v, j) => assert.ok(Math.abs(m[r][j] - v) < 1e-5, `z[${r}][${j}]`));
  }
  assert.deepEqual(vae.reconstruct(img), vae.decode(vae.encode(img)));
  vae.dispose();
});

function decodeRows(v: Float32Array, width: number): number[][] {
  return Array.from({ length: v.length / width }, (_, r) =>
    Array.from(v.subarray(r * width, (r + 1) * width)),
  );
}

test('ViewerVae.sample: pixel means of prior draws, reproducible from the seed', () => {
  const vae = new ViewerVae(smallWeights());
  const before = tf.memory().numTensors;
  const a = vae.sample(4, 3);
  assert.equal(tf.memory().numTensors, before, 'sample leaks tensors');
  assert.equal(a.length, 4 * 6);
  assert.ok(a.every((v) => v > 0 && v < 1));
  assert.deepEqual(vae.sample(4, 3), a);
  assert.notDeepEqual(vae.sample(4, 4), a);
  vae.dispose();
});

test('ViewerVae names the missing or misshapen weight', () => {
  const ws = smallWeights();
  assert.throws(
    () => new ViewerVae(ws.filter((w) => w.name !== 'gen/h2/bias')),
    /'gen\/h2\/bias' missing/,
  );
  const bad = ws.map((w) =>
    w.name === 'q/h1/kernel' ? { ...w, shape: [5, 5], data: values(25, 1) } : w,
  );
  assert.throws(() => new ViewerVae(bad), /'q\/h1' takes 5 inputs, expected 6/);
  const vae = new ViewerVae(ws);
  assert.throws(
    () => vae.decode(new Float32Array(4)),
    /4 values is not a whole number of 3-vectors/,
  );
  vae.dispose();
});

test('interpolate: both ends included, evenly spaced', () => {
  const a = Float32Array.of(0, 2);
  const b = Float32Array.of(4, -2);
  assert.deepEqual(Array.from(interpolate(a, b, 3)), [0, 2, 2, 0, 4, -2]);
  assert.throws(() => interpolate(a, b, 1), /steps must be an integer ≥ 2/);
  assert.throws(() => interpolate(a, Float32Array.of(1), 2), /2 and 1 dimensions/);
});

test('traverse: one coordinate swept, the others kept', () => {
  const z = Float32Array.of(1, 2, 3);
  assert.deepEqual(Array.from(traverse(z, 1, [-1, 5])), [1, -1, 3, 1, 5, 3]);
  assert.throws(() => traverse(z, 3, [0]), /dimension 3 is outside 0..2/);
});

test('latentActivity: per-dimension variance over images, most active first', () => {
  // Three images, d = 3: dimension 2 varies most (variance 1), 0 a little
  // (0.0025, below the 0.01 threshold), 1 not at all.
  const m = Float32Array.of(0, 5, 0, 0.05, 5, 1, 0.1, 5, 2);
  const { variance, order, active } = latentActivity(m, 3);
  assert.ok(Math.abs(variance[2] - 1) < 1e-6);
  assert.ok(Math.abs(variance[0] - 0.0025) < 1e-7);
  assert.equal(variance[1], 0);
  assert.deepEqual(order, [2, 0, 1]);
  assert.equal(active, 1);
  assert.throws(() => latentActivity(Float32Array.of(1, 2), 2), /at least two 2-vectors/);
});

test('weights message: round trip, and truncation is an error', () => {
  const ws = smallWeights();
  const msg = encodeWeights(7, ws);
  const back = parseWeights(msg.buffer.slice(0) as ArrayBuffer);
  assert.equal(back.epoch, 7);
  assert.deepEqual(
    back.weights.map((w) => [w.name, w.shape]),
    ws.map((w) => [w.name, w.shape]),
  );
  back.weights.forEach((w, i) => assert.deepEqual(w.data, ws[i].data));
  assert.throws(
    () => parseWeights(msg.buffer.slice(0, msg.length - 4) as ArrayBuffer),
    /truncated data for q\/z_logstd\/bias/,
  );
  assert.throws(() => parseWeights(new Uint8Array([9, 0, 0, 0, 1]).buffer), /truncated header/);
  const extra = new Uint8Array(msg.length + 4);
  extra.set(msg);
  assert.throws(() => parseWeights(extra.buffer), /4 bytes after the last weight/);
  const json = (header: unknown) => {
    const text = new TextEncoder().encode(JSON.stringify(header));
    const m = new Uint8Array(4 + text.length + 4);
    new DataView(m.buffer).setUint32(0, text.length, true);
    m.set(text, 4);
    return m.buffer;
  };
  assert.throws(() => parseWeights(json({ epoch: 1 })), /header must hold an epoch and weights/);
  assert.throws(
    () => parseWeights(json({ epoch: 1, weights: [{ name: 'w', shape: [-1] }] })),
    /header must hold/,
  );
  assert.throws(
    () => parseWeights(json({ epoch: 1, weights: [{ name: 'w', shape: [1e9, 1e9] }] })),
    /truncated data for w/,
  );
  const nan = json({ epoch: 1, weights: [{ name: 'w', shape: [1] }] });
  new DataView(nan).setFloat32(nan.byteLength - 4, NaN, true);
  assert.throws(() => parseWeights(nan), /w holds NaN at index 0/);
});
