/** ZSCK0002 checkpoints: digests that catch every flipped bit, finite values only, ZSCK0001 still read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CheckpointError,
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from '../../src/run/checkpoint.js';
import { metricsLine, tempDir } from '../helpers.js';

const CKPT: Checkpoint = {
  epoch: 2,
  step: 6,
  state: { rng: [1, 2, 3, 4] },
  weights: [
    { name: 'w', shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-30, 7) },
    { name: 'b', shape: [3], data: Float32Array.of(0.25, 0.5, 0.75) },
  ],
  optimizer: [{ name: 'slot0', shape: [2], data: Float32Array.of(9, 10) }],
  history: [metricsLine(1), metricsLine(2)],
};

test('a ZSCK0002 checkpoint round-trips weights, optimizer state, counters and history', () => {
  const file = path.join(tempDir(), 'checkpoint.zsck');
  saveCheckpoint(file, CKPT);
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.toString('latin1', 0, 8), 'ZSCK0002');
  assert.equal((44 + bytes.readUInt32LE(8)) % 4, 0, 'tensors start 4-byte aligned');
  const back = loadCheckpoint(file);
  assert.deepEqual(
    {
      ...back,
      weights: back.weights.map((w) => ({ ...w, data: Array.from(w.data) })),
      optimizer: back.optimizer.map((w) => ({ ...w, data: Array.from(w.data) })),
    },
    {
      ...CKPT,
      weights: CKPT.weights.map((w) => ({ ...w, data: Array.from(w.data) })),
      optimizer: CKPT.optimizer.map((w) => ({ ...w, data: Array.from(w.data) })),
    },
  );
});

test('every flipped bit of a checkpoint is caught, in the header and in the weights', () => {
  const dir = tempDir();
  const file = path.join(dir, 'checkpoint.zsck');
  saveCheckpoint(file, CKPT);
  const good = fs.readFileSync(file);
  const bad = path.join(dir, 'flipped.zsck');
  for (let i = 0; i < good.length; i++) {
    const b = Buffer.from(good);
    b[i] ^= 1 << (i % 8);
    fs.writeFileSync(bad, b);
    assert.throws(
      () => loadCheckpoint(bad),
      (e: unknown) => e instanceof CheckpointError && e.file === bad,
      `byte ${i} flipped was not caught`,
    );
  }
});

test('non-finite values are never saved and never loaded', () => {
  const dir = tempDir();
  const file = path.join(dir, 'checkpoint.zsck');
  saveCheckpoint(file, CKPT);
  const good = fs.readFileSync(file);
  for (const v of [NaN, Infinity, -Infinity]) {
    assert.throws(
      () =>
        saveCheckpoint(file, {
          ...CKPT,
          optimizer: [{ name: 'slot0', shape: [2], data: Float32Array.of(1, v) }],
        }),
      new RegExp(`refusing to save tensor slot0: value ${v} at index 1`),
    );
  }
  assert.deepEqual(fs.readFileSync(file), good, 'the old checkpoint is kept');
  assert.deepEqual(fs.readdirSync(dir), ['checkpoint.zsck'], 'no temp file');
  // A NaN written with valid digests (as a diverged or doctored file would be) is refused on load.
  const len = good.readUInt32LE(8);
  const header = JSON.parse(good.toString('utf8', 44, 44 + len)) as Record<string, unknown>;
  const data = Buffer.from(good.subarray(44 + len));
  data.writeFloatLE(NaN, 4 * 7);
  header.dataSha256 = createHash('sha256').update(data).digest('hex');
  const text = Buffer.from(JSON.stringify(header).padEnd(len, ' '));
  const doctored = Buffer.concat([
    good.subarray(0, 12),
    createHash('sha256').update(text).digest(),
    text,
    data,
  ]);
  fs.writeFileSync(file, doctored);
  assert.throws(
    () => loadCheckpoint(file),
    /checkpoint\.zsck: tensor b holds NaN at index 1: the checkpoint is corrupt or its training diverged/,
  );
});

test('the committed ZSCK0001 (weights-only) checkpoints still load', () => {
  const file = fileURLToPath(
    new URL('../../../../../results/vae-10ep/checkpoint.zsck', import.meta.url),
  );
  const ck = loadCheckpoint(file);
  assert.equal(fs.readFileSync(file).toString('latin1', 0, 8), 'ZSCK0001');
  assert.equal(ck.epoch, 10);
  assert.equal(ck.weights.length, 14);
  assert.equal(ck.optimizer.length, 0);
  assert.equal(ck.history, undefined);
  // The size bound applies before anything is read.
  assert.throws(
    () => loadCheckpoint(file, { maxBytes: 1000 }),
    /bytes, more than the 1000 a checkpoint may have/,
  );
});
