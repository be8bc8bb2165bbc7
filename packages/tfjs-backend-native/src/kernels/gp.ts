/**
 * The zhusuan library's optional Gaussian-process kernels (see
 * OPTIONAL_KERNELS in the library for the contracts):
 *
 * - `ZsRbfKernel` (inputs x [n, d], y [m, d], scale [d]): the RBF kernel
 *   matrix k [n, m] = exp(−½ Σ_j (x_j − y_j)²/scale_j), the squared distance
 *   taken as |x|² + |y|² − 2x·y of the scaled rows and clipped at 0, and kh,
 *   k where the clip did not act and 0 where it did, in one call with one
 *   matrix product instead of ~17 kernels.
 * - `ZsRbfKernelGrad` (inputs dk, kh, x, y, scale): the gradients for x, y
 *   and scale, with two matrix products side by side, instead of ~20.
 */
import { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelArgs, nativeKernel, requireF32 } from './util.js';

export const ZS_RBF_KERNEL = 'ZsRbfKernel';
export const ZS_RBF_KERNEL_GRAD = 'ZsRbfKernelGrad';

/** n, m and d of x [n, d], y [m, d] and scale [d], checked. */
function rbfShape(kernel: string, inputs: KernelArgs['inputs']) {
  const { x, y, scale } = inputs;
  if (x === undefined || y === undefined || scale === undefined) {
    throw new Error(`${kernel}: inputs x, y and scale are required`);
  }
  if (x.shape.length !== 2 || y.shape.length !== 2 || scale.shape.length !== 1) {
    throw new Error(
      `${kernel}: x and y must be matrices and scale a vector, got [${x.shape}], [${y.shape}] and [${scale.shape}]`,
    );
  }
  const [n, d] = x.shape;
  if (y.shape[1] !== d || scale.shape[0] !== d) {
    throw new Error(
      `${kernel}: x [${x.shape}], y [${y.shape}] and scale [${scale.shape}] must share their last axis`,
    );
  }
  return { n, m: y.shape[0], d };
}

function rbfKernel({ inputs, backend }: KernelArgs): TensorInfo[] {
  const { n, m, d } = rbfShape(ZS_RBF_KERNEL, inputs);
  const [x, y, scale] = ['x', 'y', 'scale'].map((k) =>
    requireF32(ZS_RBF_KERNEL, backend, inputs, k),
  );
  const k = backend.allocF32(n * m);
  const kh = backend.allocF32(n * m);
  backend.addon.rbfKernel(x, y, scale, k, kh, n, m, d);
  return [backend.makeOutputF32([n, m], k), backend.makeOutputF32([n, m], kh)];
}

function rbfKernelGrad({ inputs, backend }: KernelArgs): TensorInfo[] {
  const { n, m, d } = rbfShape(ZS_RBF_KERNEL_GRAD, inputs);
  for (const name of ['dk', 'kh']) {
    const t = inputs[name];
    if (t !== undefined && (t.shape.length !== 2 || t.shape[0] !== n || t.shape[1] !== m)) {
      throw new Error(
        `${ZS_RBF_KERNEL_GRAD}: ${name} has shape [${t.shape}], expected [${n},${m}]`,
      );
    }
  }
  const [dk, kh, x, y, scale] = ['dk', 'kh', 'x', 'y', 'scale'].map((k) =>
    requireF32(ZS_RBF_KERNEL_GRAD, backend, inputs, k),
  );
  const dx = backend.allocF32(n * d);
  const dy = backend.allocF32(m * d);
  const ds = backend.allocF32(d);
  backend.addon.rbfKernelGrad(dk, kh, x, y, scale, dx, dy, ds, n, m, d);
  return [
    backend.makeOutputF32([n, d], dx),
    backend.makeOutputF32([m, d], dy),
    backend.makeOutputF32([d], ds),
  ];
}

export const gpConfigs: KernelConfig[] = [
  nativeKernel(ZS_RBF_KERNEL, rbfKernel),
  nativeKernel(ZS_RBF_KERNEL_GRAD, rbfKernelGrad),
];
