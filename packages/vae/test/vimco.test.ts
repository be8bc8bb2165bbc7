/**
 * The gradient `zhusuan train --objective vimco` trains with: on a tiny VAE,
 * the gradient of `Vae.objective(x, 'vimco', K).cost` in every weight equals
 * the VIMCO estimator written out by hand (Mnih & Rezende, 2016) for the
 * same draws of z, differentiated by float64 central differences:
 *
 *   −(1/n) Σ_i [ Σ_k c_ik log q(z_ik | x_i) + log (1/K) Σ_k w_ik ],
 *   c_ik = L_i − L_i^(−k) held constant, with L_i = log (1/K) Σ_k w_ik and
 *   L_i^(−k) the same with w_ik replaced by the geometric mean of the others.
 *
 * This file registers tfjs' gradients (the union package) for the library.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from 'zhusuan';
import { denseApply, Vae, vaeLayers, type LayerFactory, type VaeShape } from '../src/index.js';

await tf.setBackend('cpu');

const SHAPE: VaeShape = { xDim: 4, zDim: 2, hidden: 3 };
const K = 3;
const X = [
  [1, 0, 1, 1],
  [0, 1, 1, 0],
];

/** Deterministic weights in [-1, 1), one Float64Array per weight, in checkpoint order. */
function initialWeights(): Map<string, { shape: number[]; data: Float64Array }> {
  let s = 12345;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  };
  const out = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const l of vaeLayers(SHAPE)) {
    out.set(`${l.name}/kernel`, {
      shape: [l.inDim, l.outDim],
      data: Float64Array.from({ length: l.inDim * l.outDim }, next),
    });
    out.set(`${l.name}/bias`, {
      shape: [l.outDim],
      data: Float64Array.from({ length: l.outDim }, next),
    });
  }
  return out;
}

type Weights = ReturnType<typeof initialWeights>;

/** act(x W + b) in float64. */
function dense(x: number[], ws: Weights, name: string, relu: boolean): number[] {
  const w = ws.get(`${name}/kernel`)!;
  const b = ws.get(`${name}/bias`)!.data;
  const [inDim, outDim] = w.shape;
  return Array.from({ length: outDim }, (_, j) => {
    let v = b[j];
    for (let i = 0; i < inDim; i++) v += x[i] * w.data[i * outDim + j];
    return relu ? Math.max(0, v) : v;
  });
}

const LOG_2PI = Math.log(2 * Math.PI);
const softplus = (v: number) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
const logMeanExp = (a: number[]) => {
  const m = Math.max(...a);
  return m + Math.log(a.reduce((s, v) => s + Math.exp(v - m), 0) / a.length);
};

/** log q(z | x) and log w = log p(x, z) − log q(z | x), float64. */
function logTerms(ws: Weights, x: number[], z: number[]): { logQ: number; logW: number } {
  const h = dense(dense(x, ws, 'q/h1', true), ws, 'q/h2', true);
  const mean = dense(h, ws, 'q/z_mean', false);
  const logstd = dense(h, ws, 'q/z_logstd', false);
  const logQ = z.reduce(
    (a, zj, j) => a - logstd[j] - 0.5 * LOG_2PI - 0.5 * ((zj - mean[j]) / Math.exp(logstd[j])) ** 2,
    0,
  );
  const logits = dense(
    dense(dense(z, ws, 'gen/h1', true), ws, 'gen/h2', true),
    ws,
    'gen/x_logits',
    false,
  );
  const logPx = logits.reduce((a, l, d) => a + x[d] * l - softplus(l), 0);
  const logPz = z.reduce((a, zj) => a - 0.5 * LOG_2PI - 0.5 * zj * zj, 0);
  return { logQ, logW: logPx + logPz - logQ };
}

/** The leave-one-out learning signals c_ik at the given weights (constants of the estimator). */
function signals(ws: Weights, z: number[][][]): number[][] {
  return X.map((x, i) => {
    const lw = z.map((zk) => logTerms(ws, x, zk[i]).logW);
    const bound = logMeanExp(lw);
    return lw.map((_, k) => {
      const others = lw.filter((_, j) => j !== k);
      const geo = others.reduce((a, b) => a + b, 0) / others.length;
      return bound - logMeanExp([...others, geo]);
    });
  });
}

/** The hand-written VIMCO surrogate at weights `ws`, with z and the signals c fixed. */
function surrogate(ws: Weights, z: number[][][], c: number[][]): number {
  let total = 0;
  X.forEach((x, i) => {
    const t = z.map((zk) => logTerms(ws, x, zk[i]));
    const score = t.reduce((a, tk, k) => a + c[i][k] * tk.logQ, 0);
    total -= score + logMeanExp(t.map((tk) => tk.logW));
  });
  return total / X.length;
}

test("Vae.objective(x, 'vimco', K): its gradient is the hand-written VIMCO estimator's", () => {
  const ws = initialWeights();
  const layer: LayerFactory<tf.Variable> = (spec) => {
    const k = ws.get(`${spec.name}/kernel`)!;
    const b = ws.get(`${spec.name}/bias`)!;
    const kernel = tf.variable(tf.tensor2d(Float32Array.from(k.data), k.shape as [number, number]));
    const bias = tf.variable(tf.tensor1d(Float32Array.from(b.data)));
    return { spec, kernel, bias, apply: (v) => denseApply(v, kernel, bias, spec.activation) };
  };
  const vae = new Vae(SHAPE, layer);
  // The float64 weights are the float32 ones exactly.
  for (const w of ws.values()) w.data = Float64Array.from(Float32Array.from(w.data));
  const x = tf.tensor2d(X);
  const before = tf.memory().numTensors;

  // The draws the objective makes: q's samples come first from the library's stream.
  zs.random.setSeed(7);
  const z = tf.tidy(() => vae.variational(x, K).get('z').arraySync() as number[][][]);
  zs.random.setSeed(7);
  let bound = 0;
  const { value, grads } = tf.variableGrads(() => {
    const o = vae.objective(x, 'vimco', K);
    bound = o.bound.dataSync()[0];
    return o.cost;
  }, vae.weights);
  const c = signals(ws, z);
  // The bound is the mean over images of log (1/K) Σ_k w_ik.
  const want = X.reduce(
    (a, xi, i) => a + logMeanExp(z.map((zk) => logTerms(ws, xi, zk[i]).logW)),
    0,
  );
  assert.ok(Math.abs(bound - want / X.length) < 1e-4, `bound ${bound} vs ${want / X.length}`);
  assert.ok(Math.abs(value.dataSync()[0] - surrogate(ws, z, c)) < 1e-4, 'surrogate value');

  const h = 1e-6;
  let checked = 0;
  vae.weights.forEach((v, wi) => {
    const name = vae.weightNames[wi];
    const got = grads[v.name].dataSync();
    const data = ws.get(name)!.data;
    data.forEach((orig, e) => {
      data[e] = orig + h;
      const up = surrogate(ws, z, c);
      data[e] = orig - h;
      const down = surrogate(ws, z, c);
      data[e] = orig;
      const fd = (up - down) / (2 * h);
      assert.ok(
        Math.abs(got[e] - fd) <= 1e-4 + 1e-3 * Math.abs(fd),
        `${name}[${e}]: ${got[e]} vs float64 ${fd}`,
      );
      checked++;
    });
  });
  assert.equal(
    checked,
    vae.weights.reduce((a, v) => a + v.size, 0),
  );
  // The encoder's weights get a gradient (the score-function terms), not only the decoder's.
  assert.ok(
    grads[vae.weights[vae.weightNames.indexOf('q/z_logstd/bias')].name]
      .dataSync()
      .some((g) => g !== 0),
  );
  tf.dispose([value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before, 'the objective leaks tensors');
  x.dispose();
  vae.dispose();
});
