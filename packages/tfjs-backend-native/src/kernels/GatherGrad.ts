/**
 * `ZsGatherGrad`, the zhusuan library's optional gradient of a gather
 * (`OPTIONAL_KERNELS.gatherGrad`, the library's `zs.gather`): dy summed by
 * index straight into the gathered tensor's shape in one pass, instead of
 * tfjs' Transpose, UnsortedSegmentSum and Transpose. The sums are in double
 * over the positions in `indices` in order, rounded once: the numbers of
 * that route (on cpu, and with this backend's UnsortedSegmentSum), bit for
 * bit for finite dy. Threads take whole (batch, outer) blocks of the
 * output (the chains of an MCMC run), so no two add into one row.
 */
import { TensorInfo, util } from '@tensorflow/tfjs-core';
import { KernelArgs, f32, nativeKernel, sizeOf } from './util.js';

export const ZS_GATHER_GRAD = 'ZsGatherGrad';

/** The attributes the library passes (see OPTIONAL_KERNELS.gatherGrad). */
interface GatherGradAttrs {
  paramShape: number[];
  axis: number;
  batchDims: number;
}

function gatherGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, indices } = inputs;
  const { paramShape, axis, batchDims } = attrs as unknown as GatherGradAttrs;
  const rank = paramShape.length;
  if (
    !Number.isInteger(axis) ||
    !Number.isInteger(batchDims) ||
    batchDims < 0 ||
    batchDims > axis ||
    axis >= rank ||
    batchDims > indices.shape.length ||
    paramShape.slice(0, batchDims).some((d, i) => d !== indices.shape[i])
  ) {
    throw new Error(
      `${ZS_GATHER_GRAD}: need 0 <= batchDims <= axis < rank(paramShape) and the batch axes ` +
        `of paramShape and indices equal; got paramShape [${paramShape}], axis ${axis}, ` +
        `batchDims ${batchDims}, indices [${indices.shape}]`,
    );
  }
  const dyShape = [
    ...paramShape.slice(0, axis),
    ...indices.shape.slice(batchDims),
    ...paramShape.slice(axis + 1),
  ];
  if (!util.arraysEqual(dy.shape, dyShape)) {
    throw new Error(`${ZS_GATHER_GRAD}: dy has shape [${dy.shape}], expected [${dyShape}]`);
  }
  const dyv = f32(backend, dy);
  if (dyv === null) throw new Error(`${ZS_GATHER_GRAD}: dy must be a float32 tensor`);
  const iv = backend.data.get(indices.dataId).values;
  if (indices.dtype !== 'int32' || !(iv instanceof Int32Array)) {
    throw new Error(`${ZS_GATHER_GRAD}: indices must be an int32 tensor, got ${indices.dtype}`);
  }
  const batch = sizeOf(paramShape.slice(0, batchDims));
  const out = backend.allocF32(sizeOf(paramShape));
  if (out.length > 0) {
    const bad = backend.addon.gatherGrad(
      dyv,
      iv,
      out,
      batch,
      sizeOf(paramShape.slice(batchDims, axis)),
      paramShape[axis],
      sizeOf(paramShape.slice(axis + 1)),
    );
    if (bad >= 0) {
      backend.releaseF32(out);
      throw new Error(
        `${ZS_GATHER_GRAD}: the index value ${iv[bad]} is not in [0, ${paramShape[axis] - 1}]`,
      );
    }
  }
  return backend.makeOutputF32(paramShape, out);
}

export const gatherGradConfig = nativeKernel(ZS_GATHER_GRAD, gatherGrad);
