/**
 * The examples' data: Boston housing from Debian's python3-sklearn (extracted
 * by scripts/fetch-datasets.sh into data/sklearn/), and the random
 * train/test splits of the UCI benchmarks (Hernández-Lobato & Adams, 2015).
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as zs from 'zhusuan';

/** A regression dataset: row-major inputs [n, d] and targets [n]. */
export interface Regression {
  x: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
}

/** Where scripts/fetch-datasets.sh puts Boston housing. */
export const BOSTON_CSV = fileURLToPath(
  new URL('../../../../data/sklearn/boston_house_prices.csv', import.meta.url),
);

/**
 * Boston housing: 506 houses, 13 inputs, the median value (MEDV, $1000s) as
 * the target. The copy is sklearn's `boston_house_prices.csv` from Debian's
 * python3-sklearn 1.2.1 package.
 * @throws Error naming the file and how to get it, or what is malformed.
 */
export function loadBoston(file = BOSTON_CSV): Regression {
  if (!fs.existsSync(file)) {
    throw new Error(
      `${file} not found: run 'bash scripts/fetch-datasets.sh' (it extracts it from Debian's python3-sklearn)`,
    );
  }
  const lines = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const [n, d] = lines[0].split(',').map(Number);
  if (!(n > 0) || !(d > 0) || lines.length !== n + 2) {
    throw new Error(
      `${file}: expected a '${n},${d}' header and ${n} data rows, got ${lines.length - 2}`,
    );
  }
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = lines[i + 2].split(',').map(Number);
    if (v.length !== d + 1 || v.some((u) => !Number.isFinite(u))) {
      throw new Error(`${file}:${i + 3}: expected ${d + 1} numbers`);
    }
    x.set(v.slice(0, d), i * d);
    y[i] = v[d];
  }
  return { x, y, n, d };
}

/** A train/test split of row indices. */
export interface Split {
  train: Uint32Array;
  test: Uint32Array;
}

/**
 * `count` random splits with `testFraction` of the rows held out, drawn from
 * the library's random stream seeded with `seed` (each split is a fresh
 * permutation), as the UCI regression benchmarks do (20 splits, 10 %).
 */
export function randomSplits(
  n: number,
  count: number,
  testFraction: number,
  seed: number,
): Split[] {
  zs.random.setSeed(seed);
  const nTest = Math.round(n * testFraction);
  const out: Split[] = [];
  for (let s = 0; s < count; s++) {
    const perm = Uint32Array.from({ length: n }, (_, i) => i);
    const words = zs.random.seedWords(zs.random.nextSeed());
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(zs.random.uniform53(words) * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    out.push({ test: perm.slice(0, nTest), train: perm.slice(nTest) });
  }
  return out;
}

/** Rows `idx` of a dataset, with inputs and targets standardised by the statistics of `ref` rows. */
export function standardised(
  data: Regression,
  idx: Uint32Array,
  ref: Uint32Array,
): { x: Float32Array; y: Float32Array; yMean: number; yStd: number } {
  const { d } = data;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const r of ref) for (let j = 0; j < d; j++) mean[j] += data.x[r * d + j] / ref.length;
  for (const r of ref)
    for (let j = 0; j < d; j++) std[j] += (data.x[r * d + j] - mean[j]) ** 2 / ref.length;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]) || 1;
  let yMean = 0;
  let yVar = 0;
  for (const r of ref) yMean += data.y[r] / ref.length;
  for (const r of ref) yVar += (data.y[r] - yMean) ** 2 / ref.length;
  const yStd = Math.sqrt(yVar) || 1;
  const x = new Float32Array(idx.length * d);
  const y = new Float32Array(idx.length);
  idx.forEach((r, i) => {
    for (let j = 0; j < d; j++) x[i * d + j] = (data.x[r * d + j] - mean[j]) / std[j];
    y[i] = (data.y[r] - yMean) / yStd;
  });
  return { x, y, yMean, yStd };
}
