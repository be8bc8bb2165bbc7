// The model-zoo workloads that motivated issue 17's kernels, timed on
// `native` against `native-before`: the same backend with the kernels of
// issue 17 taken out (those kernel names run the cpu backend's JavaScript,
// as before the issue) and every group of matrix products on the pool again
// (gemmPoolMinFlops 0: small batched products used to go there too), back
// to back in one process, alternating. Prints the median ms of each and the
// ratio; with --profile, the per-kernel time of one pass on each
// (tf.profile).
//
//   node packages/tfjs-backend-native/bench/zoo-kernels.mjs [--reps 20] [--profile] [--only pmf,bnn]
//
// Workloads (plain tfjs ops, the op structure of the zoo's models):
// - pmf: gradient of a probabilistic matrix factorisation's log joint,
//   u [8,60,5], v [8,40,5] (8 chains), 360 ratings: tf.gather(u, users, 1);
// - bnn: one SGLD step of a Bayesian neural network, 20 chains, inputs 13
//   plus a concatenated column of ones, one hidden layer of 50 (ones
//   concatenated again), batch 100 (thu-ml/zhusuan's bnn_sgmcmc.py);
// - conv: the gradient of a small convolutional VAE-like loss (conv2d,
//   max/avg pooling, conv2dTranspose) on a batch of 32 28x28 images;
// - softmax: gradient of a categorical log-likelihood through softmax, 20
//   chains × 100 rows of 10 classes.
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import {
  NativeBackend,
  nativeKernelConfigs,
  nativeLoadError,
  registerNativeBackend,
} from '../dist/src/index.js';
import { getAddon } from '../dist/src/addon.js';
import { ZOO_KERNELS } from '../dist/src/register.js';

await import('@tensorflow/tfjs'); // registers every gradient into the same tfjs-core
if (!registerNativeBackend()) throw new Error(`native backend unavailable: ${nativeLoadError()}`);
tf.env().set('PROD', true);

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const REPS = Number(opt('--reps', 20));
const PROFILE = args.includes('--profile');
const ONLY = opt('--only', null)?.split(',');

// `native-before`: every native override except the zoo kernels.
const BEFORE = 'native-before';
{
  const zoo = new Set(ZOO_KERNELS);
  const configs = new Map();
  for (const c of tf.getKernelsForBackend('cpu')) configs.set(c.kernelName, c);
  for (const c of nativeKernelConfigs()) if (!zoo.has(c.kernelName)) configs.set(c.kernelName, c);
  for (const c of configs.values()) tf.registerKernel({ ...c, backendName: BEFORE });
  tf.registerBackend(BEFORE, () => new NativeBackend(getAddon()), 0);
}

function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
const randn = (shape, seed) => tf.randomNormal(shape, 0, 1, 'float32', seed);
const LOG_2PI = Math.log(2 * Math.PI);
const normalLogProb = (x, mean, std) =>
  tf.sub(tf.mul(-0.5, tf.square(tf.div(tf.sub(x, mean), std))), 0.5 * LOG_2PI + Math.log(std));

// Each workload: setup() -> state (tensors kept), step(state) -> tensors to dispose.
const workloads = {
  pmf: {
    setup() {
      const r = lcg(1);
      const users = Int32Array.from({ length: 360 }, () => Math.floor(r() * 60));
      const items = Int32Array.from({ length: 360 }, () => Math.floor(r() * 40));
      return {
        u: randn([8, 60, 5], 1),
        v: randn([8, 40, 5], 2),
        users: tf.tensor1d(users, 'int32'),
        items: tf.tensor1d(items, 'int32'),
        ratings: tf.add(tf.mul(randn([360], 3), 0.5), 3),
      };
    },
    step(s) {
      const g = tf.grads((u, v) => {
        const pred = tf.sum(tf.mul(tf.gather(u, s.users, 1), tf.gather(v, s.items, 1)), -1);
        const ll = tf.sum(normalLogProb(s.ratings, pred, 0.5), -1);
        const prior = tf.add(
          tf.sum(normalLogProb(u, 0, 1), [1, 2]),
          tf.sum(normalLogProb(v, 0, 1), [1, 2]),
        );
        return tf.sum(tf.add(ll, prior));
      });
      return g([s.u, s.v]);
    },
  },
  bnn: {
    setup() {
      return {
        x: randn([100, 13], 4),
        y: randn([100], 5),
        w0: tf.variable(tf.mul(randn([20, 50, 14], 6), 0.3)),
        w1: tf.variable(tf.mul(randn([20, 1, 51], 7), 0.3)),
        seed: 8,
      };
    },
    step(s) {
      const withOnes = (h) => tf.concat([h, tf.ones([...h.shape.slice(0, -1), 1])], -1);
      const { grads } = tf.variableGrads(() => {
        let h = tf.tile(tf.expandDims(s.x, 0), [20, 1, 1]); // [20, 100, 13]
        h = withOnes(h);
        h = tf.div(tf.matMul(h, s.w0, false, true), Math.sqrt(14));
        h = tf.relu(h);
        h = withOnes(h);
        h = tf.div(tf.matMul(h, s.w1, false, true), Math.sqrt(51)); // [20, 100, 1]
        const yMean = tf.squeeze(h, [2]);
        const ll = tf.sum(normalLogProb(s.y, yMean, 0.3), -1);
        const prior = tf.add(
          tf.sum(normalLogProb(s.w0, 0, 1), [1, 2]),
          tf.sum(normalLogProb(s.w1, 0, 1), [1, 2]),
        );
        return tf.neg(tf.sum(tf.add(ll, prior)));
      }, [s.w0, s.w1]);
      // SGLD: w <- w - lr/2 * grad + N(0, lr).
      const lr = 1e-4;
      for (const w of [s.w0, s.w1]) {
        w.assign(
          tf.add(
            tf.sub(w, tf.mul(lr / 2, grads[w.name])),
            tf.mul(Math.sqrt(lr), randn(w.shape, s.seed++)),
          ),
        );
      }
      return Object.values(grads);
    },
  },
  conv: {
    setup() {
      return {
        x: tf.sigmoid(randn([32, 28, 28, 1], 9)),
        f1: tf.mul(randn([3, 3, 1, 16], 10), 0.3),
        f2: tf.mul(randn([3, 3, 16, 32], 11), 0.1),
        f3: tf.mul(randn([4, 4, 16, 32], 12), 0.1),
        f4: tf.mul(randn([3, 3, 1, 16], 13), 0.1),
      };
    },
    step(s) {
      return tf.grads((f1, f2, f3, f4) => {
        let h = tf.relu(tf.conv2d(s.x, f1, 1, 'same')); // [32,28,28,16]
        h = tf.maxPool(h, 2, 2, 'valid'); // [32,14,14,16]
        h = tf.relu(tf.conv2d(h, f2, 2, 'same')); // [32,7,7,32]
        h = tf.avgPool(h, 3, 1, 'same');
        h = tf.relu(tf.conv2dTranspose(h, f3, [32, 14, 14, 16], 2, 'same'));
        h = tf.conv2dTranspose(h, f4, [32, 28, 28, 1], 2, 'same');
        return tf.sum(tf.sub(tf.mul(s.x, h), tf.softplus(h)));
      })([s.f1, s.f2, s.f3, s.f4]);
    },
  },
  softmax: {
    setup() {
      const r = lcg(2);
      return {
        logits: randn([20, 100, 10], 14),
        labels: tf.oneHot(
          tf.tensor1d(
            Int32Array.from({ length: 100 }, () => Math.floor(r() * 10)),
            'int32',
          ),
          10,
        ),
      };
    },
    step(s) {
      return [tf.grad((l) => tf.sum(tf.mul(s.labels, tf.log(tf.softmax(l)))))(s.logits)];
    },
  },
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const addon = getAddon();
const { parallelMin, gemmPoolMinFlops } = addon.info();

/** Makes `backend` current, with the GEMM pool threshold it stands for. */
async function use(backend) {
  await tf.setBackend(backend);
  addon.setParallelMin(parallelMin, undefined, backend === BEFORE ? 0 : gemmPoolMinFlops);
}

async function timeOn(backend, w, state) {
  await use(backend);
  const t0 = performance.now();
  tf.dispose(w.step(state));
  return performance.now() - t0;
}

const backends = ['native', BEFORE];
for (const [name, w] of Object.entries(workloads)) {
  if (ONLY && !ONLY.includes(name)) continue;
  const states = {};
  for (const b of backends) {
    await use(b);
    states[b] = w.setup();
    for (let i = 0; i < 3; i++) tf.dispose(w.step(states[b])); // warm-up
  }
  const times = { native: [], [BEFORE]: [] };
  for (let i = 0; i < REPS; i++) {
    for (const b of i % 2 === 0 ? backends : [...backends].reverse()) {
      times[b].push(await timeOn(b, w, states[b]));
    }
  }
  const after = median(times.native);
  const before = median(times[BEFORE]);
  console.log(
    `${name}: native ${after.toFixed(2)} ms, native-before ${before.toFixed(2)} ms, ` +
      `${(before / after).toFixed(1)}x (median of ${REPS}, alternating)`,
  );
  if (PROFILE) {
    for (const b of backends) {
      await use(b);
      const prof = await tf.profile(() => tf.dispose(w.step(states[b])));
      const byKernel = new Map();
      for (const k of prof.kernels) {
        const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
        e.ms += k.kernelTimeMs;
        e.calls++;
        byKernel.set(k.name, e);
      }
      const top = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
      console.log(
        `  ${b}: ` + top.map(([k, e]) => `${k} ${e.ms.toFixed(2)} ms/${e.calls}`).join(', '),
      );
    }
  }
  for (const b of backends) {
    await use(b);
    for (const t of Object.values(states[b])) if (t instanceof tf.Tensor) t.dispose();
  }
}
