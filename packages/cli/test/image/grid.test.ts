import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageGrid, pairGrid } from '../../src/image/grid.js';

test('grid size for n images, grid columns and padding', () => {
  const cases: [n: number, gridCols: number | undefined, padding: number, w: number, h: number][] =
    [
      // 100 MNIST images: 10x10 of 28 px, 11 gaps of 2 px.
      [100, undefined, 2, 10 * 28 + 11 * 2, 10 * 28 + 11 * 2],
      // 7 images: ceil(sqrt 7) = 3 columns, 3 rows.
      [7, undefined, 1, 3 * 28 + 4, 3 * 28 + 4],
      [16, 8, 0, 8 * 28, 2 * 28],
      [1, undefined, 2, 28 + 4, 28 + 4],
      // More columns than images: the grid shrinks to n columns.
      [3, 10, 2, 3 * 28 + 8, 28 + 4],
    ];
  for (const [n, gridCols, padding, w, h] of cases) {
    const g = imageGrid(new Float32Array(n * 784), n, 28, 28, { gridCols, padding });
    assert.deepEqual([g.width, g.height, g.channels, g.data.length], [w, h, 1, w * h], `n=${n}`);
  }
});

test('pixels land in place, clamped and scaled to bytes, on the background', () => {
  const n = 7;
  const images = new Float32Array(n * 4).fill(1);
  images[4 * 4 + 3] = 0.5; // image 4, bottom-right pixel
  images[0] = 2; // out of range: clamped
  const g = imageGrid(images, n, 2, 2, { padding: 1, background: 50 });
  assert.equal(g.data[0], 50); // border
  assert.equal(g.data[1 * g.width + 1], 255); // image 0, top-left (clamped)
  // Image 4 is grid row 1, column 1: its top-left at (1 + 3, 1 + 3).
  assert.equal(g.data[(4 + 1) * g.width + 4 + 1], 128);
  // The cells past the last image are background.
  assert.equal(g.data[7 * g.width + 7], 50);
  assert.throws(() => imageGrid(new Float32Array(3), 1, 2, 2), /3 values for 1 images of 2x2/);
});

test('pairGrid puts each original just left of its reconstruction', () => {
  const p = pairGrid(new Float32Array(3 * 4), new Float32Array(3 * 4).fill(1), 3, 2, 2, 10);
  assert.equal(p.width, 6 * 2 + 7 * 2); // 3 pairs on one row, default padding 2
  assert.equal(p.height, 2 + 2 * 2);
  for (let k = 0; k < 3; k++) {
    assert.equal(p.data[2 * p.width + 2 + 2 * k * 4], 0, `original ${k}`);
    assert.equal(p.data[2 * p.width + 6 + 2 * k * 4], 255, `reconstruction ${k}`);
  }
  // Two pairs per row: 4 columns, 2 rows; 28x28 by default.
  const q = pairGrid(
    new Float32Array(3 * 784),
    new Float32Array(3 * 784),
    3,
    undefined,
    undefined,
    2,
  );
  assert.deepEqual([q.width, q.height], [4 * 28 + 5 * 2, 2 * 28 + 3 * 2]);
});
