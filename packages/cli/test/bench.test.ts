/**
 * `zhusuan bench`: the step's GEMM FLOP count in closed form, and a very short
 * run of the command that checks the JSON contract (never its speed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  benchConfig,
  evalGemmFlopsPerImage,
  stepGemmFlops,
  type BenchResult,
} from '../src/commands/bench.js';

const BIN = fileURLToPath(new URL('../../bin/zhusuan.js', import.meta.url));

test('stepGemmFlops counts forward, weight-gradient and input-gradient products', () => {
  // One layer 3 -> 2 per net, written out by hand: encoder x->h, h->h, two heads h->z;
  // decoder z->h, h->h, h->x. With x=3, h=2, z=1, batch 4:
  // sum(in*out) = 3*2 + 2*2 + 2*(2*1) + 1*2 + 2*2 + 2*3 = 26; forward 2*4*26 = 208;
  // backward doubles it, less the data's input gradient 2*4*3*2 = 48.
  assert.equal(stepGemmFlops({ batchSize: 4, xDim: 3, zDim: 1, hidden: 2 }), 3 * 208 - 48);
  // The default model (784-500-500-40, batch 128): sum(in*out) = 1,344,000, so
  // 3 * 2*128*1,344,000 - 2*128*784*500 = 931,840,000 (DESIGN.md rounds to 0.94 GFLOP).
  assert.equal(stepGemmFlops(benchConfig(784)), 931_840_000);
});

test('evalGemmFlopsPerImage counts the decoder products of every particle', () => {
  // z -> h, h -> h, h -> x per particle: 2·(40·500 + 500·500 + 500·784) = 1,324,000 FLOPs.
  assert.equal(evalGemmFlopsPerImage(benchConfig(784), 1000), 1_324_000_000);
  assert.equal(evalGemmFlopsPerImage({ xDim: 3, zDim: 1, hidden: 2 }, 5), 2 * 5 * (2 + 4 + 6));
});

test('bench --json prints the documented fields; --profile adds per-kernel and per-product rows', () => {
  const r = spawnSync(
    process.execPath,
    [
      BIN,
      'bench',
      '--steps',
      '5',
      '--wasm-steps',
      '0',
      '--eval-images',
      '1',
      '--torch',
      'skip',
      '--profile',
      '--profile-steps',
      '3',
      '--json',
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const b = JSON.parse(r.stdout.trim()) as BenchResult;
  for (const k of [
    'ms_per_step',
    'gemm_gflops',
    'step_gemm_floor_ms',
    'ratio_to_floor',
    'eval_ms_per_1000_particle_image',
    'eval_gemm_floor_ms',
    'eval_ratio_to_floor',
  ] as const) {
    assert.ok(Number.isFinite(b[k]) && b[k] > 0, `${k} = ${b[k]}`);
  }
  assert.ok(
    Math.abs(b.eval_ratio_to_floor - b.eval_ms_per_1000_particle_image / b.eval_gemm_floor_ms) <
      1e-9 * b.eval_ratio_to_floor,
  );
  assert.ok(Math.abs(b.eval_gemm_floor_ms - (1.324e9 / (b.gemm_gflops * 1e9)) * 1000) < 1e-6);
  // The floor's rate is the fastest of three measurements over the run.
  assert.equal(b.gemm_gflops_runs.length, 3);
  assert.ok(b.gemm_gflops_runs.every((g) => Number.isFinite(g) && g > 0));
  assert.equal(b.gemm_gflops, Math.max(...b.gemm_gflops_runs));
  // On native the addon's clock splits the step: products take part of it.
  assert.ok(b.step_gemm_ms !== null && b.step_gemm_ms > 0 && b.step_gemm_ms < b.ms_per_step);
  assert.equal(b.torch_ms_per_step, null);
  assert.match(b.torch_note, /skipped/);
  assert.ok(b.profile !== undefined, 'no profile');
  const names = b.profile.kernels.map((k) => k.kernel);
  // The step's products run as matrix-product kernels, whatever their fused names.
  assert.ok(
    names.some((n) => /MatMul|Dense/i.test(n)),
    `no matrix-product kernel in ${names.join(', ')}`,
  );
  const sum = b.profile.kernels.reduce((s, k) => s + k.ms, 0);
  assert.ok(Math.abs(sum - b.profile.kernel_ms) < 1e-6 * Math.max(1, sum));
  // On native the addon's trace lists the step's products by shape; their
  // FLOPs add up to the step's closed-form count (every product is seen once).
  const products = b.profile.products;
  assert.ok(products !== undefined && products.length > 0, 'no products by shape');
  for (const r of products) assert.ok(r.calls > 0 && r.ms > 0 && r.gflops > 0, JSON.stringify(r));
  assert.ok(
    products.some((r) => r.products === '128x784·784x500'),
    'no first encoder layer',
  );
  const stepFlops = products.reduce((s, r) => s + r.gflops * 1e9 * (r.ms / 1000), 0);
  assert.ok(
    Math.abs(stepFlops - stepGemmFlops(benchConfig(784))) < 1e-6 * stepFlops,
    `${stepFlops}`,
  );
});

test('bench rejects a bad flag value with exit code 2', () => {
  const r = spawnSync(process.execPath, [BIN, 'bench', '--steps', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--steps/);
});
