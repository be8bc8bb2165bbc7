/**
 * `zs.gather`: tfjs' gather whose gradient sums straight into the gathered
 * tensor's layout (PyTorch's `index_select` backward, one `index_add`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { OPTIONAL_KERNELS, backendHasKernel, ensureGradient } from './kernels.js';

/** Attributes of {@link OPTIONAL_KERNELS.gatherGrad} as the library passes them. */
interface GatherGradAttrs {
  paramShape: number[];
  axis: number;
  batchDims: number;
}

/** `x` [B, O, N, S] as the gather sees it: batch, outer, gathered and slice sizes. */
function layout({ paramShape, axis, batchDims }: GatherGradAttrs) {
  const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
  return {
    batch: size(paramShape.slice(0, batchDims)),
    outer: size(paramShape.slice(batchDims, axis)),
    dim: paramShape[axis],
    slice: size(paramShape.slice(axis + 1)),
  };
}

/**
 * The gradient of the gather for `x`, composed of tfjs ops: `dy` [B, O, P, S]
 * transposed to put the positions first, `UnsortedSegmentSum` over the
 * indices (offset by b·N in each batch b, so that batches never share a
 * segment) and transposed back. tfjs' own GatherV2 gradient for batchDims 0;
 * the same sums, in the same order, as {@link OPTIONAL_KERNELS.gatherGrad}.
 */
function composeGatherGrad(dy: tf.Tensor, indices: tf.Tensor, attrs: GatherGradAttrs): tf.Tensor {
  const { batch, outer, dim, slice } = layout(attrs);
  const n = indices.size / batch;
  return tf.tidy(() => {
    let ids = tf.reshape(indices, [batch, n]);
    if (batch > 1)
      ids = tf.add(ids, tf.reshape(tf.range(0, batch * dim, dim, 'int32'), [batch, 1]));
    let rows = tf.reshape(dy, [batch, outer, n, slice]);
    if (outer > 1) rows = tf.transpose(rows, [0, 2, 1, 3]);
    const sums = tf.unsortedSegmentSum(
      tf.reshape(rows, [batch * n, outer * slice]),
      tf.reshape(ids, [batch * n]),
      batch * dim,
    );
    let g = tf.reshape(sums, [batch, dim, outer, slice]);
    if (outer > 1) g = tf.transpose(g, [0, 2, 1, 3]);
    return tf.reshape(g, attrs.paramShape);
  });
}

/**
 * The kernel's own gradient, for second derivatives: a scatter-add's
 * gradient for dy is the gather of the incoming gradient.
 */
const gatherGradGradient: tf.GradConfig = {
  kernelName: OPTIONAL_KERNELS.gatherGrad,
  inputsToSave: ['indices'],
  gradFunc: (ddx, saved, attrs) => {
    const [indices] = saved;
    const { axis, batchDims } = attrs as unknown as GatherGradAttrs;
    return {
      dy: () => gather(ddx as tf.Tensor, indices, axis, batchDims),
      indices: () => tf.zerosLike(indices),
    };
  },
};

/** The gradient of the gather for `x`: one kernel where the backend has it. */
function gatherGradient(dy: tf.Tensor, indices: tf.Tensor, attrs: GatherGradAttrs): tf.Tensor {
  if (indices.size === 0 || attrs.paramShape.includes(0)) return tf.zeros(attrs.paramShape);
  if (dy.dtype === 'float32' && backendHasKernel(OPTIONAL_KERNELS.gatherGrad)) {
    ensureGradient(gatherGradGradient);
    return tf
      .engine()
      .runKernel(
        OPTIONAL_KERNELS.gatherGrad,
        { dy, indices },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor;
  }
  return composeGatherGrad(dy, indices, attrs);
}

/** `indices` as an int32 tensor: int32 tensors pass, integer arrays are converted. */
function indexTensor(indices: tf.Tensor | tf.TensorLike): { t: tf.Tensor; owned: boolean } {
  if (indices instanceof tf.Tensor) {
    if (indices.dtype !== 'int32') {
      throw new Error(
        `zs.gather: \`indices\` must be an int32 tensor, got ${indices.dtype} ` +
          "(round and cast them first: tf.cast(tf.round(indices), 'int32'))",
      );
    }
    return { t: indices, owned: false };
  }
  const flat = ArrayBuffer.isView(indices)
    ? Array.from(indices as ArrayLike<number>)
    : tf.util.flatten(indices as number[]);
  if (!flat.every((v) => Number.isInteger(v))) {
    const bad = flat.find((v) => !Number.isInteger(v));
    throw new Error(
      `zs.gather: \`indices\` must be integers (an int32 tensor or an array of integers), ` +
        `got ${String(bad)}`,
    );
  }
  return { t: tf.tensor(indices as number[], undefined, 'int32'), owned: true };
}

/** Checks axis and batchDims as tfjs does, and returns them normalised. */
function normaliseAxes(
  x: tf.Tensor,
  indices: tf.Tensor,
  axis: number,
  batchDims: number,
): { axis: number; batchDims: number } {
  const rank = x.rank;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(
      `zs.gather: \`axis\` must be an integer in [${-rank}, ${rank - 1}] for x of shape ` +
        `[${x.shape}], got ${axis}`,
    );
  }
  const a = axis < 0 ? axis + rank : axis;
  const iRank = indices.rank;
  if (!Number.isInteger(batchDims) || batchDims < -iRank || batchDims > iRank) {
    throw new Error(
      `zs.gather: \`batchDims\` must be an integer in [${-iRank}, ${iRank}] for indices of ` +
        `shape [${indices.shape}], got ${batchDims}`,
    );
  }
  const b = batchDims < 0 ? batchDims + iRank : batchDims;
  if (b > a) {
    throw new Error(
      `zs.gather: \`batchDims\` (${b}) must be at most \`axis\` (${a}): the batch axes come first`,
    );
  }
  for (let i = 0; i < b; i++) {
    if (x.shape[i] !== indices.shape[i]) {
      throw new Error(
        `zs.gather: the batch axes of x [${x.shape}] and indices [${indices.shape}] differ ` +
          `at axis ${i} (${x.shape[i]} vs ${indices.shape[i]})`,
      );
    }
  }
  return { axis: a, batchDims: b };
}

/**
 * `tf.gather(x, indices, axis, batchDims)` — the same values, by the same
 * `GatherV2` kernel — whose gradient for `x` sums `dy` straight into x's
 * shape: one kernel where the active backend registers
 * {@link OPTIONAL_KERNELS.gatherGrad} (`@zhusuan/tfjs-backend-native` does),
 * else tfjs' own route (Transpose, UnsortedSegmentSum, Transpose), with the
 * same numbers either way. tfjs' registered gradient of `GatherV2` takes
 * that route for every axis; a gather along a later axis (chains first)
 * pays two transposes per call there.
 *
 * Shapes: `x` [...x.shape[:axis], N, ...rest], `indices` of any shape whose
 * first `batchDims` axes equal x's, entries in [0, N); the result is
 * `x.shape[:axis] + indices.shape[batchDims:] + x.shape[axis+1:]`. With
 * `batchDims` = k, batch b of x is gathered by batch b of the indices.
 * `indices` gets no gradient.
 *
 * @param x the tensor to gather from (rank ≥ 1).
 * @param indices int32 tensor, or an array of integers.
 * @param axis the gathered axis, negative from the end (default 0).
 * @param batchDims leading axes shared by `x` and `indices` (default 0;
 *   negative counts from the end of `indices`' axes, as in tfjs).
 * @example
 * ```ts
 * // u: [chains, users, K]; one row per rating, for every chain at once.
 * const uRated = zs.gather(u, users, 1); // [chains, ratings, K]
 * ```
 */
export function gather(
  x: tf.Tensor,
  indices: tf.Tensor | tf.TensorLike,
  axis = 0,
  batchDims = 0,
): tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new Error('zs.gather: `x` must be a tf.Tensor');
  if (x.rank === 0) throw new Error('zs.gather: `x` must have rank ≥ 1 (got a scalar)');
  const { t: idx, owned } = indexTensor(indices);
  try {
    const axes = normaliseAxes(x, idx, axis, batchDims);
    const attrs: GatherGradAttrs = { paramShape: x.shape, ...axes };
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      // Saved (kept) for the backward pass, so the caller may dispose it.
      (args[1] as tf.GradSaveFunc)([idx]);
      return {
        value: tf.gather(args[0] as tf.Tensor, idx, axes.axis, axes.batchDims),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
          gatherGradient(dy as tf.Tensor, saved[0], attrs),
      };
    });
    return op(x);
  } catch (e) {
    // tfjs' range check ("GatherV2: the index value 7 is not in [0, 4]").
    if (e instanceof Error && e.message.startsWith('GatherV2')) {
      throw new Error(`zs.gather: \`indices\`: ${e.message}`);
    }
    throw e;
  } finally {
    if (owned) idx.dispose();
  }
}
