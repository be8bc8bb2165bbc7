/**
 * Checkpoints: one file, `checkpoint.zsck`, holding a JSON header and the
 * float32 tensors (model weights, then optimizer slots).
 *
 * `ZSCK0002` (written now): the 8-byte magic, a uint32 (little-endian) header
 * length L, the SHA-256 of the header (32 bytes), L bytes of JSON header
 * (padded with spaces so the tensors start 4-byte aligned) and the tensors.
 * The header holds the counters, RNG states, the metrics lines of every epoch
 * so far (the history `metrics.jsonl` is derived from), the tensors' names,
 * shapes and offsets, and the SHA-256 of the tensor bytes. `ZSCK0001` (read
 * only, e.g. the committed results): the same without the digests and the
 * history (which a `ZSCK0002` file may also lack when not written by `train`).
 *
 * Written atomically (temp file, fsync, rename, directory fsync), so a crash
 * leaves the previous good checkpoint. The loader reads only regular files,
 * checks every size against the file's before allocating, verifies both
 * digests and refuses non-finite weights: a corrupt or diverged checkpoint is
 * never evaluated, sampled or served.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  checkMetrics,
  RUN_FILES,
  RUN_LIMITS,
  vaeParameterCount,
  type EpochMetrics,
  type VaeShape,
} from '@zhusuan/vae';
import { FileError, openRegular, readExactly, writeFileAtomic } from './io.js';

const MAGIC_V1 = 'ZSCK0001';
const MAGIC_V2 = 'ZSCK0002';
const MAGIC_LENGTH = 8;
const DIGEST_LENGTH = 32;
/** The longest JSON header accepted (100,000 epochs of history fit in a quarter of it). */
export const MAX_CHECKPOINT_HEADER_BYTES = 64 * 1024 * 1024;
/** The largest checkpoint accepted: the most weights a run may have, with Adam's two slots. */
export const MAX_CHECKPOINT_BYTES =
  MAX_CHECKPOINT_HEADER_BYTES + 3 * 4 * RUN_LIMITS.parameters + 1024;

/** The largest checkpoint a VAE of this shape can have: its weights, Adam's two slots, a header. */
export function maxCheckpointBytes(shape: VaeShape): number {
  return MAX_CHECKPOINT_HEADER_BYTES + 1024 + 3 * 4 * vaeParameterCount(shape);
}

/** One named float32 tensor. */
export interface SavedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Everything a checkpoint holds. */
export interface Checkpoint {
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps taken. */
  step: number;
  /** Free-form JSON state (RNG states, optimizer iteration count...). */
  state: Record<string, unknown>;
  /** Model weights, in the model's variable order. */
  weights: SavedTensor[];
  /** Optimizer slot variables (e.g. Adam's m then v), in the optimizer's order. */
  optimizer: SavedTensor[];
  /**
   * The metrics of epochs 1..epoch, committed with the weights: the history
   * `metrics.jsonl` is restored from after a crash. Absent from `ZSCK0001` files.
   */
  history?: EpochMetrics[];
}

/** A checkpoint file that cannot be read or written; names the file and the fault. */
export class CheckpointError extends FileError {
  override name = 'CheckpointError';
}

type TensorEntry = {
  group: 'weights' | 'optimizer';
  name: string;
  shape: number[];
  offset: number;
};

interface Header {
  epoch: number;
  step: number;
  state: Record<string, unknown>;
  history?: EpochMetrics[];
  tensors: TensorEntry[];
  /** SHA-256 of the tensor bytes, hex (ZSCK0002). */
  dataSha256?: string;
}

/** Path of the checkpoint inside a run directory. */
export function checkpointPath(runDir: string): string {
  return path.join(runDir, RUN_FILES.checkpoint);
}

/** The index of the first NaN or ±Infinity in `data`, or -1. */
export function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    // v - v is NaN exactly when v is NaN or infinite; faster than Number.isFinite.
    if (data[i] - data[i] !== 0) return i;
  }
  return -1;
}

function bytesOf(t: Float32Array): Uint8Array {
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}

/**
 * Writes `ckpt` to `file` atomically as `ZSCK0002`.
 * @param opts.beforeRename runs after the temp file is synced, before the rename (a crash-test hook).
 * @throws CheckpointError when a tensor's shape and data disagree or a value
 *   is not finite (nothing is written); FileError when the write fails.
 */
export function saveCheckpoint(
  file: string,
  ckpt: Checkpoint,
  opts: { beforeRename?: () => void } = {},
): void {
  const tensors: TensorEntry[] = [];
  let offset = 0;
  const all = [
    ...ckpt.weights.map((t) => ({ group: 'weights' as const, t })),
    ...ckpt.optimizer.map((t) => ({ group: 'optimizer' as const, t })),
  ];
  const digest = createHash('sha256');
  for (const { group, t } of all) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new CheckpointError(
        file,
        `cannot save tensor ${t.name}: shape [${t.shape}] but ${t.data.length} values`,
      );
    }
    const bad = firstNonFinite(t.data);
    if (bad >= 0) {
      throw new CheckpointError(
        file,
        `refusing to save tensor ${t.name}: value ${t.data[bad]} at index ${bad} (only finite values are saved)`,
      );
    }
    digest.update(bytesOf(t.data));
    tensors.push({ group, name: t.name, shape: t.shape, offset });
    offset += size;
  }
  const header: Header = {
    epoch: ckpt.epoch,
    step: ckpt.step,
    state: ckpt.state,
    ...(ckpt.history === undefined ? {} : { history: ckpt.history }),
    tensors,
    dataSha256: digest.digest('hex'),
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad the header so the float32 block starts 4-byte aligned (the prefix is 44 bytes).
  json = Buffer.concat([json, Buffer.alloc((4 - (json.length % 4)) % 4, 0x20)]);
  const prefix = Buffer.alloc(MAGIC_LENGTH + 4);
  prefix.write(MAGIC_V2, 0, 'latin1');
  prefix.writeUInt32LE(json.length, MAGIC_LENGTH);
  const headerDigest = createHash('sha256').update(json).digest();
  writeFileAtomic(file, [prefix, headerDigest, json, ...all.map(({ t }) => bytesOf(t.data))], opts);
}

/**
 * The checkpoint without its optimizer state: the weights, counters, RNG
 * states and history only. What a committed result keeps (a third of the
 * size); such a checkpoint evaluates, samples and serves, but cannot resume
 * training.
 */
export function weightsOnly(ckpt: Checkpoint): Checkpoint {
  return { ...ckpt, optimizer: [] };
}

const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Checks the header's structure; returns the number of float32 values it declares. */
function checkHeader(file: string, h: unknown, v2: boolean): number {
  const fail = (what: string): never => {
    throw new CheckpointError(file, `corrupt header: ${what}`);
  };
  if (typeof h !== 'object' || h === null || Array.isArray(h)) fail('not a JSON object');
  const o = h as Record<string, unknown>;
  if (!isInt(o.epoch, 0, RUN_LIMITS.epochs))
    fail(`'epoch' must be an integer ≥ 0, got ${JSON.stringify(o.epoch)}`);
  if (!isInt(o.step, 0)) fail(`'step' must be an integer ≥ 0, got ${JSON.stringify(o.step)}`);
  if (typeof o.state !== 'object' || o.state === null || Array.isArray(o.state)) {
    fail(`'state' must be an object`);
  }
  if (!Array.isArray(o.tensors)) fail(`'tensors' must be an array`);
  let expected = 0;
  (o.tensors as unknown[]).forEach((t, i) => {
    const e = t as Partial<TensorEntry>;
    if (
      typeof e !== 'object' ||
      e === null ||
      (e.group !== 'weights' && e.group !== 'optimizer') ||
      typeof e.name !== 'string' ||
      !Array.isArray(e.shape) ||
      !e.shape.every((d) => isInt(d, 0, 2 ** 31))
    ) {
      fail(`tensor ${i} must have a group, a name and a shape of integers`);
    }
    const size = e.shape!.reduce((a, b) => a * b, 1);
    if (e.offset !== expected) fail(`tensor ${e.name} starts at ${e.offset}, expected ${expected}`);
    expected += size;
    if (expected > MAX_CHECKPOINT_BYTES / 4)
      fail(`tensor ${e.name} declares ${size} values, too many`);
  });
  if (v2) {
    if (typeof o.dataSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.dataSha256)) {
      fail(`'dataSha256' must be 64 hex digits`);
    }
  }
  if (o.history !== undefined) {
    if (!Array.isArray(o.history)) fail(`'history' must be an array of metrics`);
    const history = o.history as unknown[];
    if (history.length !== o.epoch) {
      fail(`'history' has ${history.length} epochs, the checkpoint ${o.epoch as number}`);
    }
    history.forEach((m, i) => {
      const line = checkMetrics(m, `${file}: history[${i}]`);
      if (line.epoch !== i + 1) fail(`history[${i}] is epoch ${line.epoch}, expected ${i + 1}`);
    });
  }
  return expected;
}

/**
 * Reads and checks a checkpoint file (`ZSCK0002`, or `ZSCK0001` without
 * digests): only a regular file of at most `maxBytes`, sizes checked before
 * allocating, digests verified, every value finite.
 * @throws CheckpointError naming the file and what is wrong.
 */
export function loadCheckpoint(file: string, opts: { maxBytes?: number } = {}): Checkpoint {
  const fault = (f: string, m: string) => new CheckpointError(f, m);
  const f = openRegular(
    file,
    { maxBytes: opts.maxBytes ?? MAX_CHECKPOINT_BYTES, what: 'checkpoint' },
    fault,
  );
  try {
    if (f.size < MAGIC_LENGTH + 4) {
      throw fault(file, `not a zhusuan checkpoint (${f.size} bytes, bad magic)`);
    }
    const prefix = Buffer.from(readExactly(f, 0, MAGIC_LENGTH + 4, fault));
    const magic = prefix.toString('latin1', 0, MAGIC_LENGTH);
    if (magic !== MAGIC_V1 && magic !== MAGIC_V2) {
      throw fault(file, 'not a zhusuan checkpoint (bad magic)');
    }
    const v2 = magic === MAGIC_V2;
    const headerLen = prefix.readUInt32LE(MAGIC_LENGTH);
    const headerStart = MAGIC_LENGTH + 4 + (v2 ? DIGEST_LENGTH : 0);
    const dataStart = headerStart + headerLen;
    if (headerLen > MAX_CHECKPOINT_HEADER_BYTES) {
      throw fault(file, `corrupt header: declares ${headerLen} bytes of header`);
    }
    if (dataStart > f.size) {
      throw fault(
        file,
        `truncated header: declares ${headerLen} bytes, the file has ${f.size - headerStart}`,
      );
    }
    const headerBytes = readExactly(f, headerStart, headerLen, fault);
    if (v2) {
      const want = readExactly(f, MAGIC_LENGTH + 4, DIGEST_LENGTH, fault);
      const got = createHash('sha256').update(headerBytes).digest();
      if (!got.equals(want)) {
        throw fault(file, 'header checksum mismatch: the file is corrupt');
      }
    }
    let header: Header;
    try {
      header = JSON.parse(Buffer.from(headerBytes).toString('utf8')) as Header;
    } catch {
      throw fault(file, 'corrupt header (invalid JSON)');
    }
    const values = checkHeader(file, header, v2);
    const dataBytes = f.size - dataStart;
    if (dataBytes !== 4 * values) {
      throw fault(
        file,
        `${dataBytes < 4 * values ? 'truncated: ' : ''}the header declares ${values} float32 values (${4 * values} bytes), the file has ${dataBytes} bytes of data`,
      );
    }
    const data = readExactly(f, dataStart, dataBytes, fault);
    if (v2) {
      const got = createHash('sha256').update(data).digest('hex');
      if (got !== header.dataSha256) {
        throw fault(
          file,
          'data checksum mismatch: the weights are corrupt (flipped bits or a partial copy)',
        );
      }
    }
    const all = new Float32Array(data.buffer, data.byteOffset, values);
    const weights: SavedTensor[] = [];
    const optimizer: SavedTensor[] = [];
    for (const t of header.tensors) {
      const size = t.shape.reduce((a, b) => a * b, 1);
      const values = all.subarray(t.offset, t.offset + size);
      const bad = firstNonFinite(values);
      if (bad >= 0) {
        throw fault(
          file,
          `tensor ${t.name} holds ${values[bad]} at index ${bad}: the checkpoint is corrupt or its training diverged`,
        );
      }
      (t.group === 'weights' ? weights : optimizer).push({
        name: t.name,
        shape: t.shape,
        data: values,
      });
    }
    return {
      epoch: header.epoch,
      step: header.step,
      state: header.state,
      weights,
      optimizer,
      ...(header.history === undefined ? {} : { history: header.history }),
    };
  } finally {
    fs.closeSync(f.fd);
  }
}
