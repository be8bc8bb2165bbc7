/**
 * The zoo's bench models (`zhusuan bench --model`): each runs real steps on
 * cpu that change its state, frees what it made, hands its PyTorch peer
 * consistent arrays, and reports the exact initial loss where it has one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { plannedSteps, useBackend } from '@zhusuan/cli';
import * as zs from 'zhusuan';
import { ZOO_BENCH_MODELS } from '../src/bench.js';
import { EXAMPLES } from '../src/index.js';

test('every example has a bench model of its name', () => {
  assert.deepEqual(
    ZOO_BENCH_MODELS.map((m) => m.name),
    EXAMPLES.map((e) => e.name),
  );
});

/**
 * cpu, except where tfjs-cpu's JavaScript kernels take minutes for two steps
 * (pmf_hmc's gather gradients: one pass per segment in UnsortedSegmentSum;
 * the MNIST examples' full-size networks, e.g. IWAE's 6400-row products and
 * vae_conv's Conv2DBackpropFilter).
 */
const TEST_BACKEND: Record<string, 'cpu' | 'native'> = {
  pmf_hmc: 'native',
  vae_conv: 'native',
  iwae: 'native',
  vae_nf: 'native',
  bernoulli_latent_vae: 'native',
  sbn_vimco: 'native',
  sbn_rws: 'native',
  vae_ssl: 'native',
  nice_mnist: 'native',
};

for (const m of ZOO_BENCH_MODELS) {
  const backend = TEST_BACKEND[m.name] ?? 'cpu';
  test(`${m.name}: two steps on ${backend} change its state and leak nothing`, async () => {
    await useBackend(backend);
    zs.random.setSeed(1);
    const before = tf.memory().numTensors;
    const s = m.setup({ backend, steps: plannedSteps(2) });
    const start = s.variables().map((v) => Float32Array.from(v.dataSync()));
    s.step();
    s.step();
    const moved = s.variables().some((v, i) => v.dataSync().some((x, j) => x !== start[i][j]));
    assert.ok(moved, `${m.name}: two steps left every variable as it was`);
    for (const v of s.variables()) {
      assert.ok(
        v.dataSync().every((x) => Number.isFinite(x)),
        `${m.name}: a variable is not finite`,
      );
    }
    for (const [k, a] of Object.entries(s.torch.arrays)) {
      assert.equal(
        a.shape.reduce((p, q) => p * q, 1),
        a.data.length,
        `${m.name}: torch array ${k}`,
      );
    }
    if (s.torch.arrays.order !== undefined) {
      // The batches' rows, for every step the bench runs.
      assert.equal(s.torch.arrays.order.data.length % plannedSteps(2), 0);
    }
    if (s.initialLoss !== undefined) assert.ok(Number.isFinite(s.initialLoss));
    s.dispose();
    assert.equal(tf.memory().numTensors, before, `${m.name}: tensors leaked`);
  });
}

test('toy_gaussian and the mixture report the exact negative log density at the start', async () => {
  await useBackend('cpu');
  const byName = (n: string) => ZOO_BENCH_MODELS.find((m) => m.name === n)!;
  zs.random.setSeed(1);
  const g = byName('toy_gaussian').setup({ backend: 'cpu', steps: 1 });
  const x0 = g.torch.arrays.x0.data;
  const std = g.torch.arrays.std.data;
  let want = 0;
  for (let i = 0; i < x0.length; i++) {
    const s = std[i % std.length];
    want += 0.5 * Math.log(2 * Math.PI) + Math.log(s) + 0.5 * (x0[i] / s) ** 2;
  }
  assert.ok(Math.abs(g.initialLoss! - want) < 1e-5 * Math.abs(want), `${g.initialLoss} vs ${want}`);
  g.dispose();
  zs.random.setSeed(1);
  const mix = byName('gaussian_mixture_sgnht').setup({ backend: 'cpu', steps: 1 });
  let wantMix = 0;
  // Each component's Normal log density, log σ and ½ log 2π included.
  const c = -Math.log(0.5) - 0.5 * Math.log(2 * Math.PI);
  for (const x of mix.torch.arrays.x0.data) {
    const a1 = -0.5 * ((x + 1) / 0.5) ** 2 + c;
    const a2 = -0.5 * ((x - 3) / 0.5) ** 2 + c;
    const m = Math.max(a1, a2);
    wantMix -= m + Math.log(Math.exp(a1 - m) + Math.exp(a2 - m));
  }
  assert.ok(Math.abs(mix.initialLoss! - wantMix) < 1e-5 * Math.abs(wantMix));
  mix.dispose();
});
