/**
 * `ZsnBroadcastTo`: x broadcast to `shape` (same rank; each axis of x is 1
 * or `shape`'s), the tile kernel's copy with the gradient of a broadcast:
 * one sum over the broadcast axes (tfjs' Tile gradient adds dy's slices one
 * repeat at a time and has none above rank 4). The native backend's
 * gradients of Sum and Mean (../gradients.ts) send dy back through it.
 */
import { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tileConfig } from './Tile.js';
import { KernelArgs, nativeKernel } from './util.js';

export const ZSN_BROADCAST_TO = 'ZsnBroadcastTo';

/** The attributes of {@link ZSN_BROADCAST_TO}. */
export interface BroadcastToAttrs {
  /** The output's shape, of x's rank. */
  shape: number[];
}

/** The repetitions that take `from` to `to` (same rank, each axis of `from` 1 or `to`'s). */
function broadcastReps(from: number[], to: number[]): number[] {
  if (from.length !== to.length || from.some((d, i) => d !== to[i] && d !== 1)) {
    throw new Error(`${ZSN_BROADCAST_TO}: cannot broadcast [${from}] to [${to}]`);
  }
  return to.map((d, i) => (from[i] === d ? 1 : d));
}

function broadcastTo({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x } = inputs;
  const { shape } = attrs as unknown as BroadcastToAttrs;
  const reps = broadcastReps(x.shape, shape);
  // The native Tile kernel (it runs the cpu kernel for the dtypes it does not take).
  return tileConfig.kernelFunc({
    inputs: { x },
    backend,
    attrs: { reps },
  } as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
}

export const broadcastToConfig = nativeKernel(ZSN_BROADCAST_TO, broadcastTo);
