/**
 * Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter (kernels/Conv2D.ts
 * and its two gradients; im2col + sgemm in binding/conv.cc) give the cpu
 * backend's values within 1e-5 (relative to the output's largest magnitude:
 * the sums round differently) across strides, padding (same, valid, numbers
 * with each rounding mode, explicit), dilations, 1×1 filters and sizes that
 * span many blocks and pool threads; gradients of conv2d and conv2dTranspose
 * agree within 1e-4.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { addonCalls, rand, sameGradsOnBoth, sameOnBoth, setupNative } from './helpers.js';

before(async () => {
  await setupNative();
});

type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];
type Shape4 = [number, number, number, number];

interface ConvCase {
  x: Shape4;
  f: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dilations?: number | [number, number];
  rounding?: 'floor' | 'round' | 'ceil';
}

const CASES: ConvCase[] = [
  { x: [2, 5, 5, 3], f: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 7, 6, 3], f: [3, 2, 3, 5], strides: 2, pad: 'valid' },
  { x: [2, 8, 7, 3], f: [4, 4, 3, 2], strides: [2, 3], pad: 'same' },
  { x: [1, 9, 9, 2], f: [3, 3, 2, 3], strides: 1, pad: 'same', dilations: 2 },
  { x: [1, 9, 10, 2], f: [2, 3, 2, 3], strides: 1, pad: 'valid', dilations: [3, 2] },
  { x: [2, 8, 8, 4], f: [1, 1, 4, 6], strides: 1, pad: 'valid' },
  { x: [2, 8, 8, 4], f: [1, 1, 4, 6], strides: 2, pad: 'same' },
  {
    x: [1, 6, 7, 2],
    f: [4, 3, 2, 3],
    strides: [2, 1],
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
  },
  { x: [1, 8, 8, 2], f: [3, 3, 2, 2], strides: 2, pad: 1, rounding: 'floor' },
  { x: [1, 8, 8, 2], f: [3, 3, 2, 2], strides: 2, pad: 1, rounding: 'round' },
  { x: [1, 8, 8, 2], f: [3, 3, 2, 2], strides: 2, pad: 1, rounding: 'ceil' },
  // Many blocks of output rows (pool tasks), K = 9 and K = 144.
  { x: [32, 28, 28, 1], f: [3, 3, 1, 16], strides: 1, pad: 'same' },
  { x: [8, 14, 14, 16], f: [3, 3, 16, 32], strides: 2, pad: 'same' },
];

const label = (c: ConvCase) =>
  `x ${c.x} f ${c.f} strides ${c.strides} pad ${JSON.stringify(c.pad)} dilations ${c.dilations ?? 1}` +
  (c.rounding ? ` ${c.rounding}` : '');

const conv = (c: ConvCase, x: tf.Tensor, f: tf.Tensor) =>
  tf.conv2d(
    x as tf.Tensor4D,
    f as tf.Tensor4D,
    c.strides,
    c.pad,
    'NHWC',
    c.dilations ?? 1,
    c.rounding,
  );

describe('Conv2D', () => {
  for (const c of CASES) {
    it(label(c), () =>
      sameOnBoth(() => conv(c, rand(c.x, 1), rand(c.f, 2)), label(c), 1e-5, 0, true),
    );
  }
  it('NCHW runs the cpu kernel', async () => {
    const f = () =>
      tf.conv2d(
        rand([2, 3, 5, 5], 3) as tf.Tensor4D,
        rand([3, 3, 3, 4], 4) as tf.Tensor4D,
        1,
        'same',
        'NCHW',
      );
    await sameOnBoth(f, 'NCHW', 1e-5, 0, true);
    assert.equal(await addonCalls('conv2d', f), 0);
  });
  it('runs natively', async () => {
    assert.equal(
      await addonCalls('conv2d', () => conv(CASES[0], rand(CASES[0].x, 1), rand(CASES[0].f, 2))),
      1,
    );
  });
});

describe('gradients of conv2d (Conv2DBackpropInput, Conv2DBackpropFilter)', () => {
  // tfjs' conv2d gradient needs dilations 1.
  for (const c of CASES.filter((k) => (k.dilations ?? 1) === 1)) {
    it(label(c), async () => {
      const outShape = tf.tidy(() => conv(c, tf.zeros(c.x), tf.zeros(c.f)).shape);
      await sameGradsOnBoth(
        (x, f) => tf.sum(tf.mul(conv(c, x, f), rand(outShape, 5))),
        () => [rand(c.x, 6), rand(c.f, 7)],
        label(c),
      );
    });
  }
  it('run natively', async () => {
    const c = CASES[0];
    const grads = () => tf.grads((x, f) => tf.sum(conv(c, x, f)))([rand(c.x, 8), rand(c.f, 9)]);
    assert.equal(await addonCalls('conv2dBackpropInput', grads), 1);
    assert.equal(await addonCalls('conv2dBackpropFilter', grads), 1);
  });
});

describe('conv2dTranspose (Conv2DBackpropInput forward) and its gradients', () => {
  const cases: Array<[Shape4, Shape4, Shape4, number, 'same' | 'valid']> = [
    [[2, 7, 7, 32], [4, 4, 16, 32], [2, 14, 14, 16], 2, 'same'],
    [[32, 14, 14, 16], [3, 3, 1, 16], [32, 28, 28, 1], 2, 'same'],
    [[2, 3, 3, 4], [3, 3, 2, 4], [2, 7, 7, 2], 2, 'valid'],
    [[1, 5, 5, 3], [2, 2, 3, 3], [1, 5, 5, 3], 1, 'same'],
    [[2, 6, 6, 5], [1, 1, 4, 5], [2, 6, 6, 4], 1, 'valid'],
  ];
  for (const [xs, fs, out, s, pad] of cases) {
    const name = `x ${xs} f ${fs} -> ${out} stride ${s} ${pad}`;
    it(name, async () => {
      const ct = (x: tf.Tensor, f: tf.Tensor) =>
        tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, out, s, pad);
      await sameOnBoth(() => ct(rand(xs, 10), rand(fs, 11)), name, 1e-5, 0, true);
      await sameGradsOnBoth(
        (x, f) => tf.sum(tf.mul(ct(x, f), rand(out, 12))),
        () => [rand(xs, 13), rand(fs, 14)],
        name,
      );
    });
  }
});

describe('FusedConv2D (tf.fused.conv2d)', () => {
  const acts = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const;
  for (const activation of acts) {
    it(`bias and ${activation}`, async () => {
      const run = () =>
        tf.fused.conv2d({
          x: rand([2, 7, 7, 3], 20) as tf.Tensor4D,
          filter: rand([3, 3, 3, 5], 21) as tf.Tensor4D,
          strides: 2,
          pad: 'same',
          bias: rand([5], 22),
          activation,
          preluActivationWeights: activation === 'prelu' ? rand([5], 23, 0, 1) : undefined,
          leakyreluAlpha: 0.3,
        });
      await sameOnBoth(run, `fused ${activation}`, 1e-5, 1e-6, true);
      assert.equal(await addonCalls('conv2d', run), 1);
    });
  }
  it('no bias, a bias over the whole output, and the gradient', async () => {
    const x = () => rand([2, 6, 6, 2], 24) as tf.Tensor4D;
    const f = () => rand([2, 2, 2, 3], 25) as tf.Tensor4D;
    await sameOnBoth(
      () => tf.fused.conv2d({ x: x(), filter: f(), strides: 1, pad: 'valid' }),
      'no bias',
      1e-5,
      0,
      true,
    );
    await sameOnBoth(
      () =>
        tf.fused.conv2d({
          x: x(),
          filter: f(),
          strides: 1,
          pad: 'valid',
          bias: rand([5, 5, 3], 26),
        }),
      'full bias',
      1e-5,
      0,
      true,
    );
    await sameGradsOnBoth(
      (xx, ff, b) =>
        tf.sum(
          tf.square(
            tf.fused.conv2d({
              x: xx as tf.Tensor4D,
              filter: ff as tf.Tensor4D,
              strides: 1,
              pad: 'same',
              bias: b,
            }),
          ),
        ),
      () => [x(), f(), rand([3], 27)],
      'fused conv2d',
    );
  });
});
