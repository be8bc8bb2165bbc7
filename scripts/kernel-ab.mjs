// One bench model's training step on `native` with and without some of the
// backend's kernels, in one process: blocks of steps alternate between the
// two (A B, then B A, ...), so that the machine's drift over minutes falls
// on both alike. Without a kernel, a tfjs kernel name runs the cpu
// backend's JavaScript kernel again, and an optional zhusuan kernel (Zs...)
// is unregistered, so that the library composes it from tfjs ops. Prints
// the median ms a step of each and the median of the paired ratios. A name
// `grad:KERNEL` (`grad:Sum`, `grad:Mean`) swaps a gradient instead: without
// it, tfjs' own gradient of KERNEL runs, as registered before the native
// backend wrapped it (src/gradients.ts). The name `pool:gemm` swaps where
// the matrix products run: without it, all on the calling thread (the
// addon's setParallelMin), none on the pool.
//
//   npm run build && node scripts/kernel-ab.mjs MODEL KERNEL[,KERNEL...] [rounds 20] [steps 100]
//
// e.g. `node scripts/kernel-ab.mjs svgp ZsRbfKernel,ZsRbfKernelGrad` or
// `node scripts/kernel-ab.mjs pmf_hmc grad:Sum,grad:Mean 10 20` or
// `node scripts/kernel-ab.mjs svgp pool:gemm 16 300`. Run it
// with nothing else on the machine (docs/benchmarks.md).
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { loadNative, useBackend } from '../packages/cli/dist/src/backend.js';
import { prepareOptimizers } from '../packages/cli/dist/src/vae/optimizer.js';
import { nativeInfo } from '@zhusuan/tfjs-backend-native';
import { ZOO_BENCH_MODELS } from '@zhusuan/examples/bench';
import { VAE_BENCH_MODELS } from '../packages/cli/dist/src/bench/vae_models.js';

const [name, kernelList, roundsArg, stepsArg] = process.argv.slice(2);
const models = [...VAE_BENCH_MODELS, ...ZOO_BENCH_MODELS];
const model = models.find((m) => m.name === name);
if (model === undefined || kernelList === undefined) {
  console.error(
    `usage: node scripts/kernel-ab.mjs MODEL KERNEL[,KERNEL...] [rounds] [steps]\n` +
      `models: ${models.map((m) => m.name).join(', ')}`,
  );
  process.exit(2);
}
const rounds = Number(roundsArg ?? 20);
const steps = Number(stepsArg ?? 100);
const allNames = kernelList.split(',');
const poolNames = allNames.filter((k) => k.startsWith('pool:'));
if (poolNames.some((k) => k !== 'pool:gemm')) {
  console.error(`kernel-ab: of the pool: names only pool:gemm is known, got ${poolNames}`);
  process.exit(2);
}
const gradNames = allNames.filter((k) => k.startsWith('grad:')).map((k) => k.slice(5));
// tfjs' gradients as its import registered them, before the backend wraps them.
const tfjsGrads = gradNames.map((k) => {
  const g = tf.getGradient(k);
  if (g === undefined) {
    console.error(`kernel-ab: no gradient is registered for ${k}`);
    process.exit(2);
  }
  return g;
});
const status = await loadNative();
if (!status.available) throw new Error(`native backend unavailable: ${status.reason}`);
await useBackend('native');
await prepareOptimizers();

const names = allNames.filter((k) => !k.startsWith('grad:') && !k.startsWith('pool:'));
// The products' pool setting as the backend set it, and a setter of it.
const { parallelMin, gemmPoolMinFlops } = nativeInfo();
const gemmPool = (minFlops) => tf.backend().addon.setParallelMin(parallelMin, undefined, minFlops);
const swapPool = poolNames.length > 0;
const nativeGrads = gradNames.map((k) => tf.getGradient(k));
const configs = names.map((k) => {
  const c = tf.getKernel(k, 'native');
  if (c === undefined) {
    console.error(`kernel-ab: ${k} is not registered on native`);
    process.exit(2);
  }
  return c;
});
const without = () => {
  if (swapPool) gemmPool(Number.MAX_VALUE);
  for (const g of tfjsGrads) tf.registerGradient(g);
  for (const k of names) {
    tf.unregisterKernel(k, 'native');
    const cpu = tf.getKernel(k, 'cpu');
    if (cpu !== undefined) tf.registerKernel({ ...cpu, backendName: 'native' });
  }
};
const withKernels = () => {
  if (swapPool) gemmPool(gemmPoolMinFlops);
  for (const g of nativeGrads) tf.registerGradient(g);
  for (const c of configs) {
    if (tf.getKernel(c.kernelName, 'native') !== undefined) {
      tf.unregisterKernel(c.kernelName, 'native');
    }
    tf.registerKernel(c);
  }
};

const state = model.setup({ backend: 'native', steps: 2000 });
const warm = performance.now();
while (performance.now() - warm < 3000) state.step();
const times = { with: [], without: [] };
for (let r = 0; r < rounds; r++) {
  for (const v of r % 2 === 0 ? ['with', 'without'] : ['without', 'with']) {
    if (v === 'without') without();
    for (let i = 0; i < 5; i++) state.step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) state.step();
    times[v].push((performance.now() - t0) / steps);
    if (v === 'without') withKernels();
  }
}
state.dispose?.();
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const ratios = times.with.map((w, i) => times.without[i] / w);
console.log(
  `${name}: ${median(times.with).toFixed(4)} ms a step with ${allNames.join(', ')}, ` +
    `${median(times.without).toFixed(4)} ms without; median paired ratio ` +
    `${median(ratios).toFixed(3)} (${rounds} rounds of ${steps} steps)`,
);
