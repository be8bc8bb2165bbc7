/**
 * Tile (tf.tile, tf.broadcastTo) as native row copies, each output row
 * filled by doubling memcpys; float32, int32 and bool.
 */
import { TensorInfo, Tile, TileAttrs } from '@tensorflow/tfjs-core';
import { KernelArgs, allocLike, elements, nativeKernel, sizeOf } from './util.js';

function tile({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs;
  const { reps } = attrs as unknown as TileAttrs;
  const xv = elements(backend, x);
  const rank = x.shape.length;
  if (xv === null || rank === 0 || rank > 8 || reps.length !== rank) return null;
  if (reps.some((r) => !(r >= 0))) return null;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = allocLike(backend, x.dtype, sizeOf(outShape));
  const meta = new Int32Array(1 + 2 * rank);
  meta[0] = rank;
  for (let i = 0; i < rank; i++) {
    meta[1 + i] = x.shape[i];
    meta[1 + rank + i] = reps[i];
  }
  backend.addon.tile(xv, out, meta);
  return backend.makeTensorInfo(outShape, x.dtype, out);
}

export const tileConfig = nativeKernel(Tile, tile);
