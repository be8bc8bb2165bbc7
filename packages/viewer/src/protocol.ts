/**
 * What `zhusuan serve` sends the viewer: the run's description (`/api/run`)
 * and its weights (`/api/weights`) in one binary message, written by the
 * server and read by the page with the same code.
 *
 * Weights message: a uint32 (little-endian) byte length L, then L bytes of
 * UTF-8 JSON `{ epoch, weights: [{ name, shape }] }` padded with spaces to a
 * multiple of 4, then the float32 values (little-endian) of each weight in
 * that order.
 */
import type { EvalReport, NamedWeight, RunConfig } from '@zhusuan/vae';

/** `/api/run`: what the page shows about the run, and what `/api/images` holds. */
export interface RunInfo {
  /** The run directory's name. */
  name: string;
  config: RunConfig;
  /** Epochs completed by the checkpoint served. */
  epoch: number;
  /** The run's `eval.json` and `eval-valid.json`, when present. */
  eval: EvalReport | null;
  evalValid: EvalReport | null;
  /** `/api/images`: `n` images of height×width bytes (0-255), from `split`. */
  images: { n: number; height: number; width: number; split: string; binarized: boolean };
}

/** Encodes weights as the `/api/weights` message. */
export function encodeWeights(epoch: number, weights: NamedWeight[]): Uint8Array {
  const header = { epoch, weights: weights.map((w) => ({ name: w.name, shape: w.shape })) };
  let json = JSON.stringify(header);
  json += ' '.repeat((4 - ((4 + new TextEncoder().encode(json).length) % 4)) % 4);
  const head = new TextEncoder().encode(json);
  const total = weights.reduce((s, w) => s + w.data.length, 0);
  const out = new Uint8Array(4 + head.length + 4 * total);
  const view = new DataView(out.buffer);
  view.setUint32(0, head.length, true);
  out.set(head, 4);
  let offset = 4 + head.length;
  for (const w of weights) {
    for (let i = 0; i < w.data.length; i++, offset += 4) view.setFloat32(offset, w.data[i], true);
  }
  return out;
}

/**
 * Decodes a `/api/weights` message, checking its structure, every size
 * against the message's length before allocating, and every value finite.
 * @throws Error saying what is malformed.
 */
export function parseWeights(buf: ArrayBuffer): { epoch: number; weights: NamedWeight[] } {
  const view = new DataView(buf);
  if (buf.byteLength < 4) throw new Error('weights message: shorter than its length field');
  const len = view.getUint32(0, true);
  if (4 + len > buf.byteLength) throw new Error('weights message: truncated header');
  let header: { epoch: number; weights: { name: string; shape: number[] }[] };
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, len)));
  } catch {
    throw new Error('weights message: header is not JSON');
  }
  const dim = (d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= 0;
  if (
    typeof header !== 'object' ||
    header === null ||
    !Number.isInteger(header.epoch) ||
    !Array.isArray(header.weights) ||
    !header.weights.every(
      (w) => typeof w?.name === 'string' && Array.isArray(w.shape) && w.shape.every(dim),
    )
  ) {
    throw new Error('weights message: header must hold an epoch and weights with names and shapes');
  }
  let offset = 4 + len;
  const weights = header.weights.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    // Checked before allocating: the sizes must fit in what arrived.
    if (offset + 4 * size > buf.byteLength) {
      throw new Error(`weights message: truncated data for ${name}`);
    }
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++, offset += 4) {
      data[i] = view.getFloat32(offset, true);
      if (!Number.isFinite(data[i])) {
        throw new Error(`weights message: ${name} holds ${data[i]} at index ${i}`);
      }
    }
    return { name, shape, data };
  });
  if (offset !== buf.byteLength) {
    throw new Error(`weights message: ${buf.byteLength - offset} bytes after the last weight`);
  }
  return { epoch: header.epoch, weights };
}
