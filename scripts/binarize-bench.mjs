// The data pipeline's dynamic binarisation, 128 rows of 784 values (a VAE
// batch), timed in JavaScript (`Rng.bernoulli`'s loop) and in the native
// addon (`bernoulliRows`), alternating, best of 4 × 2000 calls each; with
// MNIST's intensities (--mnist) or uniform probabilities (the default).
//
//   npm run build && node scripts/binarize-bench.mjs [--mnist]
import { performance } from 'node:perf_hooks';
import { bernoulliRows } from '@zhusuan/tfjs-backend-native';
import { loadNative } from '../packages/cli/dist/src/backend.js';
import { Rng, setNativeBernoulliRows } from '../packages/cli/dist/src/rng.js';
import { loadDataset, toFloat } from '../packages/cli/dist/src/data/index.js';

const status = await loadNative();
if (!status.available) throw new Error(`native backend unavailable: ${status.reason}`);
const mnist = process.argv.includes('--mnist');
const x = mnist
  ? toFloat(loadDataset('mnist', { split: 'train' }).images)
  : Float32Array.from(
      { length: 1000 * 784 },
      (_, i) => ((i * 2654435761) % 4294967296) / 4294967296,
    );
const n = x.length / 784;
const rows = Int32Array.from({ length: 128 }, (_, i) => (i * 37) % n);
const out = new Float32Array(128 * 784);
const rng = new Rng(1);
const best = { js: Infinity, native: Infinity };
for (let round = 0; round < 4; round++) {
  for (const [name, fill] of [
    ['native', bernoulliRows],
    ['js', null],
  ]) {
    setNativeBernoulliRows(fill);
    for (let i = 0; i < 200; i++) rng.bernoulliRows(x, 784, rows, out);
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) rng.bernoulliRows(x, 784, rows, out);
    best[name] = Math.min(best[name], ((performance.now() - t0) / 2000) * 1000);
  }
}
console.log(
  `${mnist ? 'MNIST' : 'uniform'} probabilities, 128 x 784: JavaScript ${best.js.toFixed(1)} us, ` +
    `native ${best.native.toFixed(1)} us`,
);
