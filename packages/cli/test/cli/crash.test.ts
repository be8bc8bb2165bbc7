/**
 * Crash consistency and exact resume, without timing luck: the trainer's
 * crash-test hook (ZHUSUAN_TEST_CRASH_AT=point@epoch) SIGKILLs `train` at
 * each named point of an epoch, `--resume` continues, and the final
 * weights, optimizer state, RNG states, metrics (apart from timings) and
 * sample grids must equal an uninterrupted run's byte for byte. The same for
 * a run trained to every epoch k and then extended with `--resume`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempFileOwner } from '@zhusuan/vae';
import { loadCheckpoint } from '../../src/run/checkpoint.js';
import { CRASH_ENV } from '../../src/run/io.js';
import { tempDir, writeTinyDataset } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/zhusuan.js', import.meta.url));
const EPOCHS = 4;
const data = writeTinyDataset({ train: 60, test: 10 });
// 3 steps an epoch; grids at epochs 2 and 4 (and at the last epoch of any run).
const FLAGS = ['--dataset', data, '--hidden', '8', '--z-dim', '2', '--batch-size', '20'].concat([
  '--sample-every',
  '2',
  '--backend',
  'cpu',
]);

function train(
  run: string,
  args: string[],
  crashAt?: string,
): Promise<{ status: number | null; signal: string | null; stderr: string }> {
  const env = { ...process.env };
  delete env[CRASH_ENV];
  if (crashAt !== undefined) env[CRASH_ENV] = crashAt;
  return new Promise((resolve) => {
    const child: ChildProcess = execFile(
      process.execPath,
      [BIN, 'train', '--run', run, ...args],
      { encoding: 'utf8', timeout: 120_000, env },
      (_err, _stdout, stderr) =>
        resolve({ status: child.exitCode, signal: child.signalCode, stderr }),
    );
  });
}

/** Runs `jobs` a few at a time (each is a chain of processes). */
async function inParallel<T>(jobs: (() => Promise<T>)[], width = 4): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

const fresh = (run: string, epochs: number, crashAt?: string) =>
  train(run, [...FLAGS, '--epochs', String(epochs)], crashAt);
const resume = (run: string, epochs: number, crashAt?: string) =>
  train(run, ['--resume', '--epochs', String(epochs), '--backend', 'cpu'], crashAt);

const TIMING = new Set(['epoch_seconds', 'seconds']);
const noTiming = (o: object) =>
  JSON.stringify(Object.fromEntries(Object.entries(o).filter(([k]) => !TIMING.has(k))));

/** Everything a run's outcome is, minus wall-clock timings: tensors as bytes. */
function outcome(run: string) {
  const ck = loadCheckpoint(path.join(run, 'checkpoint.zsck'));
  const bytes = (t: { data: Float32Array }) =>
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64');
  const state = { ...ck.state };
  delete state.seconds;
  const grids = fs
    .readdirSync(run)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => [f, fs.readFileSync(path.join(run, f)).toString('base64')]);
  return {
    epoch: ck.epoch,
    step: ck.step,
    state: JSON.stringify(state),
    weights: ck.weights.map(bytes),
    optimizer: ck.optimizer.map(bytes),
    history: (ck.history ?? []).map(noTiming),
    metrics: fs
      .readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => noTiming(JSON.parse(l) as object)),
    grids: Object.fromEntries(grids) as Record<string, string>,
    tempFiles: fs.readdirSync(run).filter((f) => tempFileOwner(f) !== undefined),
  };
}

const root = tempDir('zs-crash-');
const reference = path.join(root, 'reference');
let want: ReturnType<typeof outcome>;

test('the uninterrupted reference run', async () => {
  const r = await fresh(reference, EPOCHS);
  assert.equal(r.status, 0, r.stderr);
  want = outcome(reference);
  assert.equal(want.epoch, EPOCHS);
  assert.deepEqual(Object.keys(want.grids), [
    'samples-epoch-0002.png',
    'samples-epoch-0004.png',
    'samples.png',
  ]);
  assert.equal(want.grids['samples.png'], want.grids['samples-epoch-0004.png']);
  assert.deepEqual(want.metrics, want.history);
  assert.deepEqual(want.tempFiles, []);
});

test('train --epochs k then --resume --epochs N equals train --epochs N, for every k', async () => {
  const splits = Array.from({ length: EPOCHS - 1 }, (_, i) => i + 1);
  const runs = await inParallel(
    splits.map((k) => async () => {
      const run = path.join(root, `split-${k}`);
      const a = await fresh(run, k);
      assert.equal(a.status, 0, a.stderr);
      const b = await resume(run, EPOCHS);
      assert.equal(b.status, 0, b.stderr);
      return run;
    }),
  );
  splits.forEach((k, i) => {
    const got = outcome(runs[i]);
    // The split run also drew the grid of its own last epoch k; the same
    // bytes the uninterrupted run draws at k when a grid is due there.
    const extra = `samples-epoch-${String(k).padStart(4, '0')}.png`;
    const grids = { ...got.grids };
    if (!(extra in want.grids)) delete grids[extra];
    assert.deepEqual({ ...got, grids }, want, `split at epoch ${k}`);
  });
});

/**
 * Crash scenarios: the crash points of one run, in order; after each crash
 * the run is resumed (or, with no checkpoint yet, started again).
 */
const SCENARIOS: string[][] = [
  ['steps-done@1'],
  ['checkpoint-written@1'],
  ['checkpoint-renamed@1'],
  ['steps-done@2'],
  ['checkpoint-written@2'],
  ['checkpoint-renamed@2'],
  ['metrics-torn@2'],
  ['metrics-appended@2'],
  ['grid-written@2'],
  ['grid-renamed@2'],
  // A crash during the resume's own repair of metrics.jsonl.
  ['checkpoint-renamed@3', 'metrics-rewrite@3'],
  // The last epoch: its grid is due, and the resume has no epoch left to train.
  ['grid-written@4'],
  ['metrics-torn@4'],
];

test('a SIGKILL at every point of an epoch, then --resume, equals the uninterrupted run', async () => {
  const runs = await inParallel(
    SCENARIOS.map((points) => async () => {
      const name = points.join('+');
      const run = path.join(root, `crash-${name.replace(/[@+]/g, '-')}`);
      let r = await fresh(run, EPOCHS, points[0]);
      assert.equal(r.signal, 'SIGKILL', `${name}: ${r.stderr}`);
      for (const point of [...points.slice(1), undefined]) {
        const hasCheckpoint = fs.existsSync(path.join(run, 'checkpoint.zsck'));
        r = hasCheckpoint ? await resume(run, EPOCHS, point) : await fresh(run, EPOCHS, point);
        if (point !== undefined) assert.equal(r.signal, 'SIGKILL', `${name}: ${r.stderr}`);
      }
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      return { name, run };
    }),
  );
  for (const { name, run } of runs) assert.deepEqual(outcome(run), want, name);
  process.stdout.write(
    `# ${runs.length} crash scenarios recovered exactly: ${runs.map((r) => r.name).join(', ')}\n`,
  );
});
