/**
 * `zhusuan bench --model` and `--sweep`: flag errors, the JSON contract on a
 * tiny model (never its speed), the helpers in closed form, and the VAE's
 * bench steps on cpu.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../src/backend.js';
import {
  geomean,
  SWEEP_POINTS,
  type SweepResult,
  type ZooBenchResult,
} from '../src/bench/run_zoo.js';
import { VAE_BENCH_MODELS } from '../src/bench/vae_models.js';
import { blockSteps, timeSteps } from '../src/bench/timing.js';
import { blockPlan, npyBytes, plannedSteps } from '../src/bench/zoo.js';
import { prepareOptimizers } from '../src/vae/optimizer.js';

const BIN = fileURLToPath(new URL('../../bin/zhusuan.js', import.meta.url));
const bench = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, 'bench', ...args], { encoding: 'utf8', timeout: 300_000 });

test('--model nosuch names the known models, exit 2', () => {
  const r = bench('--model', 'nosuch');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--model: no model 'nosuch'; known: all, vae_elbo, vae_iwae, vae_vimco/);
  // The examples' models are found through @zhusuan/examples/bench.
  for (const n of ['toy_gaussian', 'bnn_vi', 'bnn_sgmcmc']) assert.match(r.stderr, new RegExp(n));
});

test('--model with --sweep, and an unknown --sweep axis, are usage errors', () => {
  const both = bench('--model', 'all', '--sweep', 'batch');
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--model and --sweep/);
  const neg = bench('--model', 'toy_gaussian', '--warmup-seconds', '-1');
  assert.equal(neg.status, 2);
  assert.match(neg.stderr, /--warmup-seconds: must be at least 0, got -1/);
  const bad = bench('--sweep', 'width');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--sweep: must be one of batch\|hidden\|particles\|all/);
});

test('bench --model NAME --json prints the per-model fields and their geometric mean', () => {
  const r = bench(
    '--model',
    'toy2d_intractable',
    '--steps',
    '2',
    '--wasm-steps',
    '1',
    '--torch',
    'skip',
    '--warmup-seconds',
    '0.05',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as ZooBenchResult;
  assert.equal(out.warmup_seconds, 0.05);
  assert.equal(out.min_block_seconds, 0.2, 'the default');
  assert.equal(out.models.length, 1);
  const [m] = out.models;
  assert.equal(m.name, 'toy2d_intractable');
  assert.ok(m.native_ms !== null && m.native_ms > 0, `native_ms ${m.native_ms}`);
  assert.ok(m.wasm_ms !== null && m.wasm_ms > 0, `wasm_ms ${m.wasm_ms}`);
  assert.equal(m.torch_ms, null);
  assert.equal(m.speedup_vs_torch, null);
  assert.equal(m.torch_loss_check, null);
  assert.equal(out.geomean_speedup_vs_torch, null);
  assert.equal(out.geomean_models, 0);
  assert.match(out.torch_note, /skipped/);
  assert.equal(out.steps, 2);
  assert.equal(out.wasm_steps, 1);
});

test('with torch: the peer runs the same HMC from the same state (loss check); without: nulls', () => {
  const r = bench(
    '--model',
    'toy_gaussian',
    '--steps',
    '1',
    '--wasm-steps',
    '0',
    '--warmup-seconds',
    '0',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as ZooBenchResult;
  const [m] = out.models;
  const py = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
  const torchThere =
    py.status === 0 ||
    spawnSync('python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  if (torchThere) {
    assert.ok(m.torch_ms !== null && m.torch_ms > 0, `${out.torch_note} ${m.torch_note}`);
    assert.equal(m.speedup_vs_torch, m.torch_ms / m.native_ms!);
    assert.ok(m.torch_loss_check !== null, 'no loss check');
    assert.ok(m.torch_loss_check.rel_diff < 1e-5, JSON.stringify(m.torch_loss_check));
    assert.equal(out.geomean_models, 1);
  } else {
    assert.equal(m.torch_ms, null);
    assert.equal(m.speedup_vs_torch, null);
    assert.match(out.torch_note, /import torch/);
  }
});

test('bench --sweep batch --json: one row per batch size, native timed, torch skipped', () => {
  const r = bench(
    '--sweep',
    'batch',
    '--steps',
    '1',
    '--torch',
    'skip',
    '--warmup-seconds',
    '0',
    '--min-block-seconds',
    '0',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as SweepResult;
  assert.equal(out.warmup_seconds, 0);
  assert.equal(out.min_block_seconds, 0);
  assert.deepEqual(
    out.sweep.map((p) => [p.axis, p.batch_size, p.hidden, p.objective, p.particles]),
    [32, 64, 128, 256, 512, 1024].map((b) => ['batch', b, 500, 'elbo', 1]),
  );
  for (const p of out.sweep) {
    assert.ok(p.native_ms !== null && p.native_ms > 0, JSON.stringify(p));
    assert.equal(p.torch_ms, null);
    assert.equal(p.speedup_vs_torch, null);
  }
  assert.match(out.torch_note, /skipped/);
});

test('geomean: the geometric mean of the non-null values', () => {
  assert.deepEqual(geomean([2, null, 8]), { value: 4, n: 2 });
  assert.deepEqual(geomean([null]), { value: null, n: 0 });
});

test('blockPlan: up to 10 warm-up steps, 5 blocks of steps/5', () => {
  assert.deepEqual(blockPlan(300), { warmup: 10, blocks: 5, per: 60 });
  assert.deepEqual(blockPlan(2), { warmup: 2, blocks: 5, per: 1 });
  assert.equal(plannedSteps(300), 310);
  assert.equal(plannedSteps(2), 7);
});

test('timeSteps warms up for the plan steps and then until warmupSeconds have passed', () => {
  // The timed blocks (the last 5 steps of blockPlan(5)) start only once the
  // warm-up has lasted 0.1 s (1 ms of slack for the clock read before the
  // first step); without a floor, the plan's steps alone run.
  let starts: number[] = [];
  let disposed = 0;
  const stepper = () => ({
    step: () => void starts.push(performance.now()),
    dispose: () => void disposed++,
  });
  const plan = blockPlan(5); // 5 warm-up steps, 5 blocks of 1
  timeSteps(stepper(), 5);
  assert.equal(starts.length, plan.warmup + plan.blocks * plan.per, 'no floor: the plan alone');
  starts = [];
  timeSteps(stepper(), 5, undefined, 0.1);
  const timed = starts.length - plan.blocks * plan.per;
  assert.ok(timed > plan.warmup, `${timed} warm-up steps`);
  assert.ok(starts[timed] - starts[0] >= 99, `warm-up of ${starts[timed] - starts[0]} ms`);
  assert.equal(disposed, 2);
});

test("blockSteps: the plan's steps, or enough to last minBlockSeconds at the pace given", () => {
  assert.equal(blockSteps(60, 0, 0.05), 60, 'no minimum');
  assert.equal(blockSteps(60, 0.2, 0.05), 4000, '0.2 s of 0.05 ms steps');
  assert.equal(blockSteps(60, 0.2, 10), 60, 'slow steps: the plan');
  assert.equal(blockSteps(60, 0.2, 0.3), 667, 'rounded up');
  assert.equal(blockSteps(60, 0.2, 0), 60, 'no pace measured');
});

test('timeSteps with minBlockSeconds runs blocks that last about that long', () => {
  // Steps of ~0.2 ms (a busy wait): blocks of 0.02 s are ~100 steps each, where
  // the plan alone has 1. The steps that start after the 0.02 s warm-up (and
  // 1 ms of slack) are the timed ones.
  const starts: number[] = [];
  const stepper = {
    step: () => {
      starts.push(performance.now());
      const end = performance.now() + 0.2;
      while (performance.now() < end);
    },
    dispose: () => {},
  };
  const t0 = performance.now();
  const t = timeSteps(stepper, 5, undefined, 0.02, 0.02);
  const timed = starts.filter((s) => s > t0 + 21).length;
  assert.ok(timed >= 5 * 10, `${timed} timed steps: blocks of the plan's 1 step would be 5`);
  assert.ok(t.ms >= 0.19, `${t.ms} ms a step`);
});

test('npyBytes writes NumPy format 1.0: magic, padded header, raw little-endian data', () => {
  const b = npyBytes({ data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3] });
  assert.deepEqual([...b.subarray(0, 8)], [0x93, 78, 85, 77, 80, 89, 1, 0]);
  const len = b[8] | (b[9] << 8);
  assert.equal((10 + len) % 64, 0);
  const header = new TextDecoder().decode(b.subarray(10, 10 + len));
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
  const data = new Float32Array(b.slice(10 + len).buffer);
  assert.deepEqual([...data], [1, 2, 3, 4, 5, 6]);
  const i = npyBytes({ data: Int32Array.from([7]), shape: [1] });
  assert.match(new TextDecoder().decode(i.subarray(10, 64)), /'<i4'.*'shape': \(1,\)/);
  assert.throws(() => npyBytes({ data: new Float32Array(3), shape: [2, 2] }), /shape \[2,2\]/);
});

test('the sweep covers the issue: batch 32-1024, hidden 250-2000, IWAE particles 1-50', () => {
  assert.deepEqual(
    SWEEP_POINTS.batch.map((p) => p.batchSize),
    [32, 64, 128, 256, 512, 1024],
  );
  assert.deepEqual(
    SWEEP_POINTS.hidden.map((p) => p.hidden),
    [250, 500, 1000, 2000],
  );
  assert.deepEqual(
    SWEEP_POINTS.particles.map((p) => [p.objective, p.particles]),
    [
      ['iwae', 1],
      ['iwae', 5],
      ['iwae', 10],
      ['iwae', 50],
    ],
  );
});

for (const m of VAE_BENCH_MODELS) {
  test(`${m.name}: two trainer steps on cpu change the weights and leak nothing`, async () => {
    await useBackend('cpu');
    await prepareOptimizers();
    const before = tf.memory().numTensors;
    const s = m.setup({ backend: 'cpu', steps: 2 });
    const w0 = s.variables().map((v) => Float32Array.from(v.dataSync()));
    s.step();
    s.step();
    assert.ok(s.variables().every((v, i) => v.dataSync().some((x, j) => x !== w0[i][j])));
    assert.equal(s.torch.arrays.order.data.length, 2 * 128);
    assert.equal(s.torch.args.objective, m.name.slice(4));
    s.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
}
