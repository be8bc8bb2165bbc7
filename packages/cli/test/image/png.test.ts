import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, decodePng, encodePng } from '../../src/image/png.js';
import { imageGrid, pairGrid } from '../../src/image/grid.js';

test('PNG encode/decode round trip, gray and RGB', () => {
  for (const channels of [1, 3] as const) {
    const data = Uint8Array.from({ length: 7 * 5 * channels }, (_, i) => (i * 13) % 256);
    const png = encodePng({ width: 7, height: 5, channels, data });
    assert.deepEqual(
      png.subarray(0, 8),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    assert.equal(png.readUInt32BE(16), 7); // IHDR width
    assert.equal(png.readUInt32BE(20), 5); // IHDR height
    const img = decodePng(png);
    assert.deepEqual([img.width, img.height, img.channels], [7, 5, channels]);
    assert.deepEqual(img.data, data);
  }
});

test('CRC-32 matches the standard check value; corruption is detected', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  const png = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) });
  png[20] ^= 1;
  assert.throws(() => decodePng(png), /CRC mismatch in chunk IHDR/);
  assert.throws(() => decodePng(Buffer.from('not a png at all')), /bad signature/);
  assert.throws(
    () => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }),
    /3 bytes for 2x2x1/,
  );
});

test('grids have the right size and put pixels in place', () => {
  const n = 7;
  const images = new Float32Array(n * 4).fill(1);
  const g = imageGrid(images, n, 2, 2, { padding: 1 });
  // 3 columns x 3 rows of 2x2 images with 1-pixel padding.
  assert.deepEqual([g.width, g.height], [3 * 2 + 4, 3 * 2 + 4]);
  assert.equal(g.data[1 * g.width + 1], 255);
  assert.equal(g.data[0], 128);
  const p = pairGrid(new Float32Array(3 * 4), new Float32Array(3 * 4).fill(1), 3, 2, 2, 10);
  assert.equal(p.width, 6 * 2 + 7 * 2); // 3 pairs on one row, default padding 2
  assert.equal(p.data[2 * p.width + 2], 0); // first original
  assert.equal(p.data[2 * p.width + 6], 255); // its reconstruction
});
