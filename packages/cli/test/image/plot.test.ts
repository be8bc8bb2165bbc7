import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linePlot, niceTicks, upscale } from '../../src/image/plot.js';

const pixel = (img: { width: number; data: Uint8Array }, x: number, y: number) =>
  Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

test('niceTicks: steps of 1, 2 or 5 times a power of ten, about six over the range', () => {
  assert.deepEqual(niceTicks(0, 10), { ticks: [0, 2, 4, 6, 8, 10], digits: 0 });
  assert.deepEqual(niceTicks(-100.5, -89.2), { ticks: [-100, -98, -96, -94, -92, -90], digits: 0 });
  assert.deepEqual(niceTicks(0, 0.3), { ticks: [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3], digits: 2 });
});

test('linePlot: axes, series colours and data mapped to pixels', () => {
  const red = [200, 30, 30] as const;
  const blue = [20, 40, 220] as const;
  const img = linePlot(
    [
      { x: [0, 10], y: [0, 10], rgb: red },
      { x: [5], y: [5], rgb: blue },
    ],
    { width: 200, height: 100 },
  );
  assert.deepEqual([img.width, img.height, img.channels, img.data.length], [200, 100, 3, 60000]);
  // Margins: left 70, right 20, top 15, bottom 35. The axes are black.
  assert.deepEqual(pixel(img, 120, 65), [0, 0, 0], 'x axis at y = height - 35');
  assert.deepEqual(pixel(img, 70, 40), [0, 0, 0], 'y axis at x = 70');
  assert.deepEqual(pixel(img, 199, 0), [255, 255, 255], 'background');
  // y spans [-0.5, 10.5] (5 % headroom): the line from (0, 0) to (10, 10) passes
  // through the middle of the plotting area; the single point is drawn as a dot.
  const px = (x: number) => Math.round(70 + (x / 10) * 110);
  const py = (y: number) => Math.round(65 - ((y + 0.5) / 11) * 50);
  assert.deepEqual(pixel(img, px(5), py(5)), [...blue], 'the dot is drawn last, over the line');
  assert.deepEqual(pixel(img, px(2.5), py(2.5)), [...red]);
  assert.deepEqual(pixel(img, px(7.5), py(7.5)), [...red]);
});

test('linePlot refuses what it cannot draw', () => {
  assert.throws(() => linePlot([]), /no points to plot/);
  assert.throws(
    () => linePlot([{ x: [1, 2], y: [1], rgb: [0, 0, 0] }]),
    /2 x values and 1 y values/,
  );
});

test('upscale: nearest neighbour, every channel', () => {
  const img = { width: 2, height: 1, channels: 3 as const, data: Uint8Array.of(1, 2, 3, 4, 5, 6) };
  const big = upscale(img, 2);
  assert.deepEqual([big.width, big.height, big.channels], [4, 2, 3]);
  const row = [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6];
  assert.deepEqual(Array.from(big.data), [...row, ...row]);
  assert.throws(() => upscale(img, 1.5), /scale must be a positive integer, got 1.5/);
});
