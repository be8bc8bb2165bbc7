/**
 * Optional backend kernels: without them the library composes tfjs ops; with
 * one registered (here a JavaScript stand-in on the cpu backend) the library
 * dispatches to it, and the gradient it registers for the fused Bernoulli
 * log-probability equals the composite's, broadcasting included.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../src/index.js';
import { assertClose, noLeak, rng, softplus, uniform, useCpu } from './helpers.js';

before(useCpu);

const BERNOULLI = zs.OPTIONAL_KERNELS.bernoulliLogProb;
let calls = 0;

/** A cpu stand-in for a backend's fused kernel: float64 math, broadcasting. */
function registerStandIn(): void {
  tf.registerKernel({
    kernelName: BERNOULLI,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend }) => {
      calls++;
      const { logits, given } = inputs as { logits: tf.TensorInfo; given: tf.TensorInfo };
      const cpu = backend as unknown as {
        readSync(id: unknown): Float32Array;
        makeTensorInfo(shape: number[], dtype: string, v: Float32Array): tf.TensorInfo;
      };
      const shape = tf.backend_util.assertAndGetBroadcastShape(logits.shape, given.shape);
      const l = tf.buffer(logits.shape, 'float32', cpu.readSync(logits.dataId));
      const x = tf.buffer(given.shape, 'float32', cpu.readSync(given.dataId));
      const out = tf.buffer(shape, 'float32');
      const at = (b: tf.TensorBuffer<tf.Rank>, idx: number[]) =>
        b.get(...idx.slice(idx.length - b.shape.length).map((v, i) => (b.shape[i] === 1 ? 0 : v)));
      for (let i = 0; i < out.size; i++) {
        const idx = out.indexToLoc(i);
        const lv = at(l, idx);
        out.values[i] = at(x, idx) * lv - softplus(lv);
      }
      return cpu.makeTensorInfo(shape, 'float32', out.values as Float32Array);
    },
  });
}

after(() => {
  if (tf.getKernel(BERNOULLI, 'cpu') !== undefined) tf.unregisterKernel(BERNOULLI, 'cpu');
});

test('without the kernels the library composes tfjs ops and draws tfjs numbers', () => {
  assert.equal(zs.backendHasKernel(zs.OPTIONAL_KERNELS.randomNormal), false);
  const a = zs.seededNormal([3, 4], 77, 1, 2);
  const b = tf.randomNormal([3, 4], 1, 2, 'float32', 77);
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  const u = zs.seededUniform([5], 78, -1, 1);
  const v = tf.randomUniform([5], -1, 1, 'float32', 78);
  assert.deepEqual(Array.from(u.dataSync()), Array.from(v.dataSync()));
  tf.dispose([a, b, u, v]);
});

test('the random stream never hands tfjs a seed of 0 (which tfjs reads as "unseeded")', () => {
  // xoshiro128** outputs 0 whenever its second word is 0.
  zs.random.setState({ s: [1, 0, 0, 0] });
  assert.equal(zs.random.nextSeed(), 1);
  zs.random.setSeed(3);
  for (let i = 0; i < 1000; i++) {
    const s = zs.random.nextSeed();
    assert.ok(Number.isInteger(s) && s >= 1 && s < 2 ** 31, `seed ${s}`);
  }
});

test('Bernoulli.logProb from logits uses a registered fused kernel, with the composite gradient', () => {
  const r = rng(5);
  const lv = uniform(r, 4 * 3 * 5, -30, 30);
  const xv = uniform(r, 3 * 5, 0, 1).map((u) => (u < 0.5 ? 0 : 1));
  const logits = tf.tensor(lv, [4, 3, 5]);
  const given = tf.tensor(xv, [3, 5]);
  const w = tf.tensor(uniform(r, 4 * 3 * 5, -1, 1), [4, 3, 5]);
  // A weighted sum so that the upstream gradient is not all ones.
  const loss = (l: tf.Tensor, x: tf.Tensor) =>
    tf.sum(tf.mul(new zs.Bernoulli({ logits: l }).logProb(x), w));
  const grads = () =>
    noLeak('gradients', () => {
      const { value, grads: g } = tf.valueAndGrads(loss)([logits, given]);
      const out = [value.dataSync()[0], Array.from(g[0].dataSync()), Array.from(g[1].dataSync())];
      tf.dispose([value, ...g]);
      return out as [number, number[], number[]];
    });
  const [v0, gl0, gx0] = grads();
  registerStandIn();
  calls = 0;
  const [v1, gl1, gx1] = grads();
  assert.ok(calls > 0, 'the registered kernel was not called');
  assertClose(v1, v0, 1e-5, 1e-4, 'value');
  assertClose(gl1, gl0, 1e-5, 1e-6, 'd/dlogits');
  assertClose(gx1, gx0, 1e-5, 1e-5, 'd/dgiven (summed over the broadcast particles)');
  assert.equal(gx1.length, 15);
  tf.unregisterKernel(BERNOULLI, 'cpu');
  tf.dispose([logits, given, w]);
});
