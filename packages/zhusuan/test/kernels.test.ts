/**
 * Optional backend kernels: without them the library composes tfjs ops; with
 * one registered (here a JavaScript stand-in on the backend the tests run on,
 * cpu in Node, webgl or cpu in the browser suite) the library
 * dispatches to it, and the gradient it registers for the fused Bernoulli
 * log-probability equals the composite's, broadcasting included.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../src/index.js';
import {
  assertClose,
  assertNoGradientPath,
  noLeak,
  rng,
  softplus,
  uniform,
  useCpu,
} from './helpers.js';

before(useCpu);

const BERNOULLI = zs.OPTIONAL_KERNELS.bernoulliLogProb;
let calls = 0;

type Cpu = {
  readSync(id: unknown): Float32Array;
  makeTensorInfo(shape: number[], dtype: string, v: Float32Array): tf.TensorInfo;
};

/**
 * Registers on the active backend a JavaScript stand-in for a backend's fused
 * element-wise kernel: float64 math on the broadcast inputs (named in
 * `names`), one output per function in `outs`. With the attribute
 * `groupNdims` = k, a forward kernel sums its values over the last k axes,
 * and a gradient kernel (an input named `dy`) reads dy at that summed shape.
 */
function registerStandIn(
  kernelName: string,
  names: string[],
  outs: Array<(...v: number[]) => number>,
): void {
  tf.registerKernel({
    kernelName,
    backendName: tf.getBackend(),
    kernelFunc: ({ inputs, backend, attrs }) => {
      calls++;
      const cpu = backend as unknown as Cpu;
      const k = (attrs as { groupNdims?: number }).groupNdims ?? 0;
      const infos = names.map((n) => (inputs as Record<string, tf.TensorInfo>)[n]);
      const shape = infos
        .filter((_, i) => names[i] !== 'dy')
        .reduce<number[]>((s, t) => tf.backend_util.assertAndGetBroadcastShape(s, t.shape), []);
      const reduced = shape.slice(0, shape.length - k);
      const bufs = infos.map((t) => tf.buffer(t.shape, 'float32', cpu.readSync(t.dataId)));
      const at = (name: string, b: tf.TensorBuffer<tf.Rank>, idx: number[]) =>
        name === 'dy'
          ? tf.buffer(reduced, 'float32', b.values).get(...idx.slice(0, reduced.length))
          : b.get(
              ...idx.slice(idx.length - b.shape.length).map((v, i) => (b.shape[i] === 1 ? 0 : v)),
            );
      const full = outs.map(() => tf.buffer(shape, 'float32'));
      for (let i = 0; i < full[0].size; i++) {
        const idx = full[0].indexToLoc(i);
        const v = bufs.map((b, j) => at(names[j], b, idx));
        outs.forEach((f, o) => (full[o].values[i] = f(...v)));
      }
      const grad = names.includes('dy');
      const results = full.map((r) => {
        if (grad || k === 0) return r;
        const sums = tf.buffer(reduced, 'float32');
        const inner = r.size / Math.max(sums.size, 1);
        for (let i = 0; i < r.size; i++) sums.values[Math.floor(i / inner)] += r.values[i];
        return sums;
      });
      const infosOut = results.map((r) =>
        cpu.makeTensorInfo(r.shape, 'float32', r.values as Float32Array),
      );
      return infosOut.length === 1 ? infosOut[0] : infosOut;
    },
  });
}

const LOG_2PI_HALF = 0.5 * Math.log(2 * Math.PI);
const STAND_INS = {
  [BERNOULLI]: () =>
    registerStandIn(BERNOULLI, ['logits', 'given'], [(l, x) => x * l - softplus(l)]),
  [zs.OPTIONAL_KERNELS.bernoulliLogProbGrad]: () =>
    registerStandIn(
      zs.OPTIONAL_KERNELS.bernoulliLogProbGrad,
      ['dy', 'logits', 'given'],
      [(dy, l, x) => dy * (x - 1 / (1 + Math.exp(-l)))],
    ),
  [zs.OPTIONAL_KERNELS.normalLogProb]: () =>
    registerStandIn(
      zs.OPTIONAL_KERNELS.normalLogProb,
      ['given', 'mean', 'logstd'],
      [(x, m, s) => -0.5 * ((x - m) * Math.exp(-s)) ** 2 - LOG_2PI_HALF - s],
    ),
  [zs.OPTIONAL_KERNELS.normalLogProbGrad]: () =>
    registerStandIn(
      zs.OPTIONAL_KERNELS.normalLogProbGrad,
      ['dy', 'given', 'mean', 'logstd'],
      [
        (dy, x, m, s) => -((x - m) * Math.exp(-s) * Math.exp(-s)) * dy,
        (dy, x, m, s) => (((x - m) * Math.exp(-s)) ** 2 - 1) * dy,
      ],
    ),
};

/** Registers `kernelFunc` under `kernelName` on the active backend, counting its calls in `calls`. */
function registerCounted(kernelName: string, kernelFunc: tf.KernelFunc): void {
  tf.registerKernel({
    kernelName,
    backendName: tf.getBackend(),
    kernelFunc: (args) => {
      calls++;
      return kernelFunc(args);
    },
  });
}

/**
 * A stand-in for the fused reparameterised Normal sample: draws ε with
 * tf.randomNormal (the numbers the contract names) and rounds each step to
 * float32 as Exp, Multiply and Add do.
 */
function registerSampleStandIn(): void {
  registerCounted(zs.OPTIONAL_KERNELS.normalSample, ({ inputs, backend, attrs }) => {
    const cpu = backend as unknown as Cpu;
    const { shape, seed } = attrs as unknown as { shape: number[]; seed: string };
    const { mean, logstd } = inputs as Record<string, tf.TensorInfo>;
    const eps = tf.randomNormal(shape, 0, 1, 'float32', Number(seed));
    const ev = eps.dataSync() as Float32Array;
    eps.dispose();
    const m = tf.buffer(mean.shape, 'float32', cpu.readSync(mean.dataId));
    const s = tf.buffer(logstd.shape, 'float32', cpu.readSync(logstd.dataId));
    const z = tf.buffer(shape, 'float32');
    const noise = tf.buffer(shape, 'float32');
    const at = (b: tf.TensorBuffer<tf.Rank>, idx: number[]) =>
      b.get(...idx.slice(idx.length - b.shape.length).map((v, i) => (b.shape[i] === 1 ? 0 : v)));
    for (let i = 0; i < z.size; i++) {
      const idx = z.indexToLoc(i);
      noise.values[i] = Math.fround(ev[i] * Math.fround(Math.exp(at(s, idx))));
      z.values[i] = noise.values[i] + at(m, idx);
    }
    return [z, noise].map((b) => cpu.makeTensorInfo(shape, 'float32', b.values as Float32Array));
  });
}

/**
 * A stand-in for the fused Bernoulli sample: u from tf.randomUniform (the
 * numbers the contract names), p the probabilities or the logits' sigmoid
 * rounded to float32 as the cpu Sigmoid kernel rounds, u < p as 0 or 1.
 */
function registerBernoulliSampleStandIn(): void {
  registerCounted(zs.OPTIONAL_KERNELS.bernoulliSample, ({ inputs, backend, attrs }) => {
    const cpu = backend as unknown as Cpu;
    const { shape, seed, dtype } = attrs as unknown as {
      shape: number[];
      seed: string;
      dtype: 'float32' | 'int32';
    };
    const [kind, param] = Object.entries(inputs as Record<string, tf.TensorInfo>)[0];
    const u = tf.randomUniform(shape, 0, 1, 'float32', Number(seed));
    const uv = u.dataSync() as Float32Array;
    u.dispose();
    const pv = cpu.readSync(param.dataId);
    const out = tf.buffer(shape, dtype);
    for (let i = 0; i < out.size; i++) {
      const v = pv[i % pv.length]; // the parameter's shape is the sample's trailing shape here
      const p = kind === 'logits' ? Math.fround(1 / (1 + Math.exp(-v))) : v;
      out.values[i] = uv[i] < p ? 1 : 0;
    }
    return cpu.makeTensorInfo(shape, dtype, out.values as Float32Array);
  });
}

/** `run` with the library's composites, then with `register`'s stand-in; `n`: its calls. */
function beforeAndAfter<T>(register: () => void, run: () => T): { base: T; got: T; n: number } {
  const base = run();
  register();
  calls = 0;
  const got = run();
  return { base, got, n: calls };
}

function unregisterStandIns(): void {
  const backend = tf.getBackend();
  for (const name of [zs.OPTIONAL_KERNELS.normalSample, zs.OPTIONAL_KERNELS.bernoulliSample]) {
    if (tf.getKernel(name, backend) !== undefined) tf.unregisterKernel(name, backend);
  }
  for (const name of Object.keys(STAND_INS)) {
    if (tf.getKernel(name, backend) !== undefined) tf.unregisterKernel(name, backend);
  }
}
after(unregisterStandIns);

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

for (const groupNdims of [0, 1, 2]) {
  test(`Bernoulli.logProb from logits (groupNdims ${groupNdims}) uses registered fused kernels, with the composite's values and gradients`, () => {
    const r = rng(5 + groupNdims);
    const lv = uniform(r, 4 * 3 * 5, -30, 30);
    const xv = uniform(r, 3 * 5, 0, 1).map((u) => (u < 0.5 ? 0 : 1));
    const logits = tf.tensor(lv, [4, 3, 5]);
    const given = tf.tensor(xv, [3, 5]);
    const wShape = [4, 3, 5].slice(0, 3 - groupNdims);
    const w = tf.tensor(
      uniform(
        r,
        wShape.reduce((a, b) => a * b, 1),
        -1,
        1,
      ),
      wShape,
    );
    // A weighted sum so that the upstream gradient is not all ones.
    const loss = (l: tf.Tensor, x: tf.Tensor) =>
      tf.sum(tf.mul(new zs.Bernoulli({ logits: l, groupNdims }).logProb(x), w));
    const grads = () =>
      noLeak('gradients', () => {
        const { value, grads: g } = tf.valueAndGrads(loss)([logits, given]);
        const out = [value.dataSync()[0], Array.from(g[0].dataSync()), Array.from(g[1].dataSync())];
        tf.dispose([value, ...g]);
        return out as [number, number[], number[]];
      });
    const [v0, gl0, gx0] = grads();
    STAND_INS[BERNOULLI]();
    for (const withGradKernel of [false, true]) {
      if (withGradKernel) STAND_INS[zs.OPTIONAL_KERNELS.bernoulliLogProbGrad]();
      calls = 0;
      const [v1, gl1, gx1] = grads();
      // One forward call (the group sum inside it), plus one for d/dlogits.
      assert.equal(calls, withGradKernel ? 2 : 1, 'kernel calls');
      assertClose(v1, v0, 1e-5, 1e-4, 'value');
      assertClose(gl1, gl0, 1e-5, 1e-6, 'd/dlogits');
      assertClose(gx1, gx0, 1e-5, 1e-5, 'd/dgiven (summed over the broadcast particles)');
      assert.equal(gx1.length, 15);
    }
    unregisterStandIns();
    tf.dispose([logits, given, w]);
  });
}

test('a group wider than the broadcast shape is refused by name', () => {
  const l = tf.zeros([3]);
  assert.throws(
    () => zs.bernoulliLogProbFromLogits(l, l, 2),
    /bernoulliLogProbFromLogits: groupNdims must be an integer in \[0, 1\].*got 2/,
  );
  assert.throws(
    () => zs.normalLogProbFromLogstd(l, l, l, -1),
    /normalLogProbFromLogstd: groupNdims must be an integer in \[0, 1\].*got -1/,
  );
  l.dispose();
});

test('Normal.logProb uses registered fused kernels (forward, then gradient too), with the composite gradient', () => {
  const r = rng(9);
  const z = tf.tensor(uniform(r, 4 * 3 * 5, -3, 3), [4, 3, 5]);
  const mean = tf.tensor(uniform(r, 15, -1, 1), [3, 5]);
  const logstd = tf.tensor(uniform(r, 15, -1, 1), [3, 5]);
  const w = tf.tensor(uniform(r, 4 * 3, -1, 1), [4, 3]);
  // A posterior with logstd, and a prior with std (a scalar), over the same z.
  const loss = (zz: tf.Tensor, m: tf.Tensor, s: tf.Tensor) =>
    tf.sum(
      tf.mul(
        tf.add(
          new zs.Normal({ mean: m, logstd: s, groupNdims: 1 }).logProb(zz),
          new zs.Normal({ mean: tf.zerosLike(m), std: 2, groupNdims: 1 }).logProb(zz),
        ),
        w,
      ),
    );
  const grads = () =>
    noLeak('gradients', () => {
      const { value, grads: g } = tf.valueAndGrads(loss)([z, mean, logstd]);
      const out = [value.dataSync()[0], ...g.map((t) => Array.from(t.dataSync()))];
      tf.dispose([value, ...g]);
      return out as [number, number[], number[], number[]];
    });
  const base = grads();
  STAND_INS[zs.OPTIONAL_KERNELS.normalLogProb]();
  for (const withGradKernel of [false, true]) {
    if (withGradKernel) STAND_INS[zs.OPTIONAL_KERNELS.normalLogProbGrad]();
    calls = 0;
    const got = grads();
    // 2 forward calls, plus 2 gradient calls with the gradient kernel.
    assert.equal(calls, withGradKernel ? 4 : 2, 'kernel calls');
    assertClose(got[0], base[0], 1e-5, 1e-4, 'value');
    assertClose(got[1], base[1], 1e-4, 1e-5, 'd/dz');
    assertClose(got[2], base[2], 1e-4, 1e-5, 'd/dmean (summed over particles)');
    assertClose(got[3], base[3], 1e-4, 1e-5, 'd/dlogstd (summed over particles)');
  }
  unregisterStandIns();
  tf.dispose([z, mean, logstd, w]);
});

test('Normal.sample from logstd uses a registered fused sample kernel: the same numbers, the same gradients', () => {
  const r = rng(21);
  const mean = tf.tensor(uniform(r, 3 * 5, -1, 1), [3, 5]);
  const logstd = tf.tensor(uniform(r, 5, -1, 1), [5]); // broadcast along the batch
  const w = tf.tensor(uniform(r, 4 * 3 * 5, -1, 1), [4, 3, 5]);
  const run = () =>
    noLeak('sample and gradients', () => {
      zs.random.setSeed(8);
      const f = (m: tf.Tensor, s: tf.Tensor) =>
        tf.sum(tf.mul(new zs.Normal({ mean: m, logstd: s }).sample(4), w));
      const { value, grads } = tf.valueAndGrads(f)([mean, logstd]);
      zs.random.setSeed(8);
      const z = new zs.Normal({ mean, logstd }).sample(4);
      const out = {
        z: Array.from(z.dataSync()),
        value: value.dataSync()[0],
        gMean: Array.from(grads[0].dataSync()),
        gLogstd: Array.from(grads[1].dataSync()),
      };
      tf.dispose([z, value, ...grads]);
      return out;
    });
  const { base, got, n } = beforeAndAfter(registerSampleStandIn, run);
  assert.equal(n, 2, 'the registered kernel draws both samples');
  // The stand-in rounds as the composite does: bit for bit.
  assert.deepEqual(got.z, base.z);
  assertClose(got.value, base.value, 1e-6, 1e-6, 'value');
  assertClose(got.gMean, base.gMean, 1e-6, 1e-6, 'd/dmean (summed over samples)');
  assertClose(got.gLogstd, base.gLogstd, 1e-5, 1e-6, 'd/dlogstd (summed over samples and batch)');
  unregisterStandIns();
  tf.dispose([mean, logstd, w]);
});

test('Bernoulli.sample uses a registered fused sample kernel: the same numbers, no gradient path', () => {
  const r = rng(33);
  // Logits over (−8, 8) with 0 and ±100 among them; probabilities with 0 and 1.
  const lv = uniform(r, 3 * 5, -8, 8);
  [lv[0], lv[1], lv[2]] = [0, 100, -100];
  const pv = uniform(r, 3 * 5, 0, 1);
  [pv[0], pv[1]] = [0, 1];
  const logits = tf.tensor(lv, [3, 5]);
  const probs = tf.tensor(pv, [3, 5]);
  const run = () =>
    noLeak('samples and gradients', () => {
      zs.random.setSeed(12);
      const out: number[][] = [];
      for (const dtype of ['float32', 'int32'] as const) {
        for (const opts of [{ logits }, { probs }]) {
          const x = new zs.Bernoulli({ ...opts, dtype }).sample(40);
          assert.equal(x.dtype, dtype);
          assert.deepEqual(x.shape, [40, 3, 5]);
          out.push(Array.from(x.dataSync()));
          x.dispose();
        }
      }
      // The sample has no gradient path to the logits (the stand-in kernel
      // has no gradient registered, and none is asked for); a
      // log-probability of it keeps its own gradient.
      assertNoGradientPath(
        (l) => tf.sum(new zs.Bernoulli({ logits: l }).sample(2)),
        [logits],
        'Bernoulli sample',
      );
      const f = (l: tf.Tensor) => {
        const b = new zs.Bernoulli({ logits: l, groupNdims: 1 });
        return tf.sum(b.logProb(b.sample(6)));
      };
      const { value, grads } = tf.valueAndGrads(f)([logits]);
      out.push([value.dataSync()[0]], Array.from(grads[0].dataSync()));
      tf.dispose([value, ...grads]);
      return out;
    });
  const { base, got, n } = beforeAndAfter(registerBernoulliSampleStandIn, run);
  assert.equal(n, 6, 'the registered kernel draws every sample');
  // The stand-in rounds as the composite does: the very same draws.
  for (let i = 0; i < 4; i++) assert.deepEqual(got[i], base[i], `draw ${i}`);
  const mean = base[0].reduce((a, b) => a + b, 0) / base[0].length;
  assert.ok(mean > 0.2 && mean < 0.8, `a draw, not a constant (mean ${mean})`);
  assertClose(got[4], base[4], 1e-6, 1e-6, 'log-probability of the sample');
  assertClose(got[5], base[5], 1e-5, 1e-6, 'its gradient');
  unregisterStandIns();
  tf.dispose([logits, probs]);
});
