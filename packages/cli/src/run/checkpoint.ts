/**
 * Checkpoints: one file, `checkpoint.zsck`, holding a JSON header and the
 * float32 tensors (model weights, then optimizer slots). Written to a
 * temporary file, synced, then renamed over the old one, so a crash never
 * leaves a half-written checkpoint and never destroys the previous good one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES } from '@zhusuan/vae';

const MAGIC = 'ZSCK0001';

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
}

/** A checkpoint file that cannot be read; names the file and the fault. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

interface Header {
  epoch: number;
  step: number;
  state: Record<string, unknown>;
  tensors: { group: 'weights' | 'optimizer'; name: string; shape: number[]; offset: number }[];
}

/** Path of the checkpoint inside a run directory. */
export function checkpointPath(runDir: string): string {
  return path.join(runDir, RUN_FILES.checkpoint);
}

/** Writes `ckpt` to `file` atomically (temp file, fsync, rename). */
export function saveCheckpoint(file: string, ckpt: Checkpoint): void {
  const tensors: Header['tensors'] = [];
  let offset = 0;
  const all = [
    ...ckpt.weights.map((t) => ({ group: 'weights' as const, t })),
    ...ckpt.optimizer.map((t) => ({ group: 'optimizer' as const, t })),
  ];
  for (const { group, t } of all) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new Error(
        `saveCheckpoint: tensor ${t.name} has shape [${t.shape}] but ${t.data.length} values`,
      );
    }
    tensors.push({ group, name: t.name, shape: t.shape, offset });
    offset += size;
  }
  const header: Header = { epoch: ckpt.epoch, step: ckpt.step, state: ckpt.state, tensors };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad the header so the float32 block starts 4-byte aligned.
  const pad = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const prefix = Buffer.alloc(MAGIC.length + 4);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, MAGIC.length);

  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, prefix);
    fs.writeSync(fd, json);
    for (const { t } of all) {
      fs.writeSync(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

/**
 * The checkpoint without its optimizer state: the weights, counters and RNG
 * states only. What a committed result keeps (a third of the size); such a
 * checkpoint evaluates, samples and serves, but cannot resume training.
 */
export function weightsOnly(ckpt: Checkpoint): Checkpoint {
  return { ...ckpt, optimizer: [] };
}

/** Reads and validates a checkpoint file. */
export function loadCheckpoint(file: string): Checkpoint {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new CheckpointError(
      file,
      `cannot read checkpoint (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw new CheckpointError(file, 'not a zhusuan checkpoint (bad magic)');
  }
  const headerLen = buf.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 4 + headerLen;
  if (dataStart > buf.length) {
    throw new CheckpointError(file, 'truncated header');
  }
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, dataStart)) as Header;
  } catch {
    throw new CheckpointError(file, 'corrupt header (invalid JSON)');
  }
  const count = (buf.length - dataStart) / 4;
  const weights: SavedTensor[] = [];
  const optimizer: SavedTensor[] = [];
  let expected = 0;
  for (const t of header.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.offset !== expected || t.offset + size > count) {
      throw new CheckpointError(file, `truncated or corrupt data for tensor ${t.name}`);
    }
    expected += size;
    // Copy out so the tensors do not pin the whole file buffer.
    const data = new Float32Array(size);
    new Uint8Array(data.buffer).set(
      buf.subarray(dataStart + 4 * t.offset, dataStart + 4 * (t.offset + size)),
    );
    (t.group === 'weights' ? weights : optimizer).push({ name: t.name, shape: t.shape, data });
  }
  if (expected !== count) {
    throw new CheckpointError(file, `expected ${expected} float32 values, file has ${count}`);
  }
  return { epoch: header.epoch, step: header.step, state: header.state, weights, optimizer };
}
