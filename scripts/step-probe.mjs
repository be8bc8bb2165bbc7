// One zoo bench model's training step on `native`, timed in one process:
//
//   node scripts/step-probe.mjs windows MODEL [seconds 4] [windows 3]
//     ms a step in consecutive windows of `seconds`, with the matrix
//     products' share (the addon's GEMM clock) and their GFLOP/s: how much
//     the machine drifts within a process, and whether the products move
//     with it;
//   node scripts/step-probe.mjs pool-ab MODEL [rounds 16] [steps 300]
//     blocks of `steps` steps alternating the products on the addon's pool
//     (the default) and on the calling thread alone (setParallelMin's third
//     argument), A B then B A: the median ms of each and of the paired ratios.
//
// Each warms up for 3 s first. Run it with nothing else on the machine
// (docs/benchmarks.md). Needs `npm run build` and the native addon.
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { nativeInfo } from '@zhusuan/tfjs-backend-native';
import { loadNative, useBackend } from '../packages/cli/dist/src/backend.js';
import { prepareOptimizers } from '../packages/cli/dist/src/vae/optimizer.js';
import { zooModels } from '../packages/cli/dist/src/bench/run_zoo.js';

const [mode, name, a3, a4] = process.argv.slice(2);
const usage = 'usage: node scripts/step-probe.mjs windows|pool-ab MODEL [n] [m]';
if (!['windows', 'pool-ab'].includes(mode) || name === undefined) {
  console.error(usage);
  process.exit(2);
}
const loaded = await loadNative();
if (!loaded.available) {
  console.error(`step-probe: the native backend did not load: ${loaded.reason}`);
  process.exit(1);
}
await useBackend('native');
await prepareOptimizers();
const { models } = await zooModels();
const model = models.find((m) => m.name === name);
if (model === undefined) {
  console.error(`step-probe: no bench model '${name}' (${models.map((m) => m.name).join(', ')})`);
  process.exit(2);
}
const stepper = model.setup({ backend: 'native', steps: 1_000_000 });
const warmEnd = performance.now() + 3000;
while (performance.now() < warmEnd) stepper.step();
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

if (mode === 'windows') {
  const seconds = Number(a3 ?? 4);
  const windows = Number(a4 ?? 3);
  for (let w = 0; w < windows; w++) {
    const before = nativeInfo();
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < seconds * 1000) {
      stepper.step();
      n++;
    }
    const ms = (performance.now() - t0) / n;
    const after = nativeInfo();
    const gemmMs = ((after.gemmSeconds - before.gemmSeconds) * 1000) / n;
    const gflops = (after.gemmFlops - before.gemmFlops) / n / (gemmMs * 1e6);
    console.log(
      `${name}: ${ms.toFixed(3)} ms a step over ${n} steps; products ${gemmMs.toFixed(3)} ms, ` +
        `${gflops.toFixed(1)} GFLOP/s`,
    );
  }
} else {
  const rounds = Number(a3 ?? 16);
  const steps = Number(a4 ?? 300);
  const addon = tf.backend().addon;
  const setGemmPoolMin = (flops) => addon.setParallelMin(32768, undefined, flops);
  const block = () => {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) stepper.step();
    return (performance.now() - t0) / steps;
  };
  const pool = [];
  const caller = [];
  for (let r = 0; r < rounds; r++) {
    for (const onPool of r % 2 === 0 ? [true, false] : [false, true]) {
      setGemmPoolMin(onPool ? 4e6 : 1e15);
      (onPool ? pool : caller).push(block());
    }
  }
  setGemmPoolMin(4e6);
  console.log(
    `${name}: products on the pool ${median(pool).toFixed(3)} ms a step, on the caller ` +
      `${median(caller).toFixed(3)}; median paired ratio (caller / pool) ` +
      `${median(caller.map((c, i) => c / pool[i])).toFixed(3)}`,
  );
}
stepper.dispose();
