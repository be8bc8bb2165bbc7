// One bench model's training step on `native` in consecutive windows of one
// process: ms a step in each, with the matrix products' share (the addon's
// GEMM clock) and their GFLOP/s. It shows how much the machine drifts
// within seconds, and whether the products move with the rest. (For a
// paired comparison of two settings in one process, scripts/kernel-ab.mjs.)
//
//   npm run build && node scripts/step-probe.mjs MODEL [seconds 4] [windows 3]
//
// It warms up for 3 s first. Run it with nothing else on the machine
// (docs/benchmarks.md).
import { performance } from 'node:perf_hooks';
import { nativeInfo } from '@zhusuan/tfjs-backend-native';
import { ZOO_BENCH_MODELS } from '@zhusuan/examples/bench';
import { loadNative, useBackend } from '../packages/cli/dist/src/backend.js';
import { VAE_BENCH_MODELS } from '../packages/cli/dist/src/bench/vae_models.js';
import { prepareOptimizers } from '../packages/cli/dist/src/vae/optimizer.js';

const [name, secondsArg, windowsArg] = process.argv.slice(2);
const models = [...VAE_BENCH_MODELS, ...ZOO_BENCH_MODELS];
const model = models.find((m) => m.name === name);
if (model === undefined) {
  console.error(
    'usage: node scripts/step-probe.mjs MODEL [seconds] [windows]\n' +
      `models: ${models.map((m) => m.name).join(', ')}`,
  );
  process.exit(2);
}
const seconds = Number(secondsArg ?? 4);
const windows = Number(windowsArg ?? 3);
const status = await loadNative();
if (!status.available) throw new Error(`native backend unavailable: ${status.reason}`);
await useBackend('native');
await prepareOptimizers();

const state = model.setup({ backend: 'native', steps: 1_000_000 });
const warm = performance.now();
while (performance.now() - warm < 3000) state.step();
for (let w = 0; w < windows; w++) {
  const before = nativeInfo();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    state.step();
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
state.dispose?.();
