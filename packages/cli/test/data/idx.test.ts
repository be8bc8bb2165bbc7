import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { IdxError, readIdx, readIdxImages, readIdxLabels } from '../../src/data/idx.js';
import { idxBytes, tempDir } from '../helpers.js';

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(tempDir(), name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Asserts that `fn(file)` throws an IdxError for `file` whose message matches. */
function rejects(
  file: string,
  pattern: RegExp,
  fn: (f: string) => unknown = (f) => readIdx(f),
): void {
  assert.throws(
    () => fn(file),
    (e: unknown) => {
      assert.ok(e instanceof IdxError, `not an IdxError: ${e}`);
      assert.equal(e.file, file);
      assert.ok(e.message.startsWith(`${file}: `), e.message);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('raw and gzipped IDX files load to the same data', () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  const raw = write('x-idx3-ubyte', idxBytes([2, 3, 4], data));
  const gz = write('x-idx3-ubyte.gz', gzipSync(idxBytes([2, 3, 4], data)));
  // gzip is detected by content, not by name.
  const gzNoSuffix = write('y-idx3-ubyte', gzipSync(idxBytes([2, 3, 4], data)));
  const a = readIdxImages(raw);
  assert.deepEqual([a.n, a.rows, a.cols], [2, 3, 4]);
  assert.deepEqual(a.images, data);
  assert.deepEqual(readIdxImages(gz).images, a.images);
  assert.deepEqual(readIdxImages(gzNoSuffix).images, a.images);
  const r = readIdx(raw);
  assert.equal(r.dtype, 'uint8');
  assert.deepEqual(r.shape, [2, 3, 4]);
});

test('readIdx finds path.gz when path is absent', () => {
  const dir = tempDir();
  fs.writeFileSync(
    path.join(dir, 'l-idx1-ubyte.gz'),
    gzipSync(idxBytes([3], Uint8Array.of(4, 5, 6))),
  );
  assert.deepEqual(Array.from(readIdx(path.join(dir, 'l-idx1-ubyte')).data), [4, 5, 6]);
  rejects(path.join(dir, 'missing'), /file not found \(nor .*missing\.gz\)/);
});

test('wider IDX types decode big-endian', () => {
  const be = (dtype: number, dims: number[], payload: Buffer) => {
    const h = Buffer.alloc(4 + 4 * dims.length);
    h[2] = dtype;
    h[3] = dims.length;
    dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([h, payload]);
  };
  const i16 = Buffer.alloc(4);
  i16.writeInt16BE(-2, 0);
  i16.writeInt16BE(300, 2);
  const a = readIdx(write('i16', be(0x0b, [2], i16)));
  assert.equal(a.dtype, 'int16');
  assert.deepEqual(Array.from(a.data), [-2, 300]);
  const f32 = Buffer.alloc(8);
  f32.writeFloatBE(1.5, 0);
  f32.writeFloatBE(-0.25, 4);
  const b = readIdx(write('f32', be(0x0d, [1, 2], f32)));
  assert.ok(b.data instanceof Float32Array);
  assert.deepEqual(Array.from(b.data), [1.5, -0.25]);
  const f64 = Buffer.alloc(8);
  f64.writeDoubleBE(Math.PI, 0);
  assert.deepEqual(Array.from(readIdx(write('f64', be(0x0e, [1], f64))).data), [Math.PI]);
  // The size check counts bytes per element: 3 int32 need 12 bytes.
  rejects(
    write('i32', be(0x0c, [3], Buffer.alloc(8))),
    /header says 3 = 12 bytes of data, file has 8/,
  );
  // Image files must be unsigned bytes.
  rejects(
    write('f32img', be(0x0d, [1, 1, 2], f32)),
    /data type float32 \(code 0x0d\), expected uint8/,
    (f) => readIdxImages(f),
  );
});

test('malformed IDX files are rejected with the file and the fault named', () => {
  const good = idxBytes([2, 2, 2], new Uint8Array(8));
  rejects(
    write('trunc', good.subarray(0, good.length - 3)),
    /truncated: header says 2x2x2 = 8 bytes of data, file has 5/,
  );
  rejects(
    write('trailing', Buffer.concat([good, Buffer.from([1, 2])])),
    /2 trailing bytes after 2x2x2 = 8 bytes/,
  );
  const magic = Buffer.from(good);
  magic[0] = 1;
  rejects(write('magic', magic), /bad magic number 0x01 0x00/);
  const dtype = Buffer.from(good);
  dtype[2] = 0x0a;
  rejects(write('dtype', dtype), /unknown data type code 0x0a/);
  rejects(write('short', Buffer.from([0, 0])), /too short for an IDX header/);
  rejects(write('hdr', Buffer.from([0, 0, 8, 3, 0, 0])), /truncated header/);
  rejects(write('rank', good), /rank 3 in header, expected 1/, (f) => readIdxLabels(f));
  rejects(write('rank1', idxBytes([4], new Uint8Array(4))), /rank 1 in header, expected 3/, (f) =>
    readIdxImages(f),
  );
  rejects(write('dims', good), /dimensions 2x2x2 in header, expected Nx28x28/, (f) =>
    readIdxImages(f, [28, 28]),
  );
  rejects(write('dims2', good), /dimensions 2x2x2 in header, expected 2x3x2/, (f) =>
    readIdx(f, { expectDims: [2, 3, 2] }),
  );
  rejects(write('gz', Buffer.from([0x1f, 0x8b, 1, 2, 3])), /corrupt gzip data/);
  const gzTrunc = gzipSync(good);
  rejects(write('gzcut.gz', gzTrunc.subarray(0, gzTrunc.length - 6)), /corrupt gzip data/);
});

test('a truncated MNIST-sized file reports the header product', () => {
  const hdr = idxBytes([60000, 28, 28], new Uint8Array(0));
  rejects(
    write('train-images-idx3-ubyte', Buffer.concat([hdr, Buffer.alloc(1234)])),
    /truncated: header says 60000x28x28 = 47040000 bytes of data, file has 1234$/,
    (f) => readIdxImages(f),
  );
});

test('labels are range-checked and counted against the images', () => {
  const labels = write('labels', idxBytes([3], Uint8Array.from([1, 9, 10])));
  rejects(labels, /label 10 at index 2 is out of range \[0, 10\)/, (f) => readIdxLabels(f));
  const ok = write('ok', idxBytes([3], Uint8Array.from([1, 9, 0])));
  assert.deepEqual(Array.from(readIdxLabels(ok)), [1, 9, 0]);
  rejects(ok, /label 9 at index 1 is out of range \[0, 5\)/, (f) =>
    readIdxLabels(f, { numClasses: 5 }),
  );
  rejects(ok, /3 labels, but the image file has 4 images/, (f) =>
    readIdxLabels(f, { expectCount: 4 }),
  );
});
