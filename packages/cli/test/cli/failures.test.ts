/**
 * How the commands fail and stop: SIGINT/SIGTERM stop after the current step
 * and say what is safe; divergence and NaN results exit 1 writing nothing;
 * resumes keep the run's provenance; serving beyond loopback is announced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempFileOwner, type RunConfig } from '@zhusuan/vae';
import { loadCheckpoint, saveCheckpoint } from '../../src/run/checkpoint.js';
import { tempDir, writeTinyDataset } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/zhusuan.js', import.meta.url));
const SMALL = ['--hidden', '8', '--z-dim', '2', '--batch-size', '20', '--backend', 'cpu'];
const data = writeTinyDataset({ train: 60, test: 300 });

function zhusuan(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lastLine = (s: string) => s.trim().split('\n').at(-1) ?? '';
const tempFiles = (dir: string) =>
  fs.readdirSync(dir).filter((f) => tempFileOwner(f) !== undefined);

/**
 * Runs the CLI, sends `signal` once stderr shows `ready` (the work is under
 * way, its handlers installed), returns the exit code and stderr.
 */
async function interrupt(args: string[], ready: RegExp, signal: 'SIGINT' | 'SIGTERM') {
  const child = spawn(process.execPath, [BIN, ...args]);
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (!sent && ready.test(stderr)) {
      sent = true;
      child.kill(signal);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, stderr };
}

test('SIGINT and SIGTERM stop train after the current step and say which epoch is safe', async () => {
  const run = path.join(tempDir(), 'run');
  assert.equal(
    zhusuan('train', '--run', run, '--dataset', data, '--epochs', '1', ...SMALL).code,
    0,
  );
  const resume = ['train', '--run', run, '--resume', '--epochs', '100000', '--backend', 'cpu'];
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    const r = await interrupt(resume, /resuming/, signal);
    assert.equal(r.code, code, r.stderr);
    const epoch = loadCheckpoint(path.join(run, 'checkpoint.zsck')).epoch;
    assert.ok(epoch >= 1);
    assert.match(
      lastLine(r.stderr),
      new RegExp(
        `^zhusuan train: stopped by ${signal} in epoch ${epoch + 1} after batch [1-3]; .*checkpoint\\.zsck holds epoch ${epoch}, intact \\(continue with --resume\\)$`,
      ),
    );
    const lines = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, epoch, 'the metrics hold the checkpoint epochs');
    assert.deepEqual(tempFiles(run), []);
  }
  // A stopped run continues.
  const done = loadCheckpoint(path.join(run, 'checkpoint.zsck')).epoch;
  const more = zhusuan(
    'train',
    '--run',
    run,
    '--resume',
    '--epochs',
    String(done + 1),
    '--backend',
    'cpu',
  );
  assert.equal(more.code, 0, more.stderr);
  // Before any epoch completes there is nothing to resume, and it says so.
  const fresh = await interrupt(
    ['train', '--run', path.join(tempDir(), 'r'), '--dataset', data, ...SMALL],
    /training on/,
    'SIGINT',
  );
  assert.equal(fresh.code, 130, fresh.stderr);
  assert.match(
    lastLine(fresh.stderr),
    /stopped by SIGINT in epoch 1 after batch \d; no epoch was completed/,
  );
});

test('SIGTERM stops eval after the current image batch without writing eval.json', async () => {
  const run = path.join(tempDir(), 'run');
  assert.equal(
    zhusuan('train', '--run', run, '--dataset', data, '--epochs', '1', ...SMALL).code,
    0,
  );
  const r = await interrupt(
    ['eval', '--run', run, '--particles', '50', '--backend', 'cpu'],
    /300 test images/,
    'SIGTERM',
  );
  assert.equal(r.code, 143, r.stderr);
  assert.match(
    lastLine(r.stderr),
    /^zhusuan eval: stopped by SIGTERM after (100|200) of 300 images; .*eval\.json not written$/,
  );
  assert.equal(fs.existsSync(path.join(run, 'eval.json')), false);
  assert.deepEqual(tempFiles(run), []);
});

test('a diverging run stops before writing the epoch; NaN evaluations and samples exit 1 writing nothing', () => {
  // One batch an epoch: the bound before the update is finite, the weights after it are not usable.
  const big = [
    '--lr',
    '1e4',
    '--batch-size',
    '60',
    '--hidden',
    '8',
    '--z-dim',
    '2',
    '--backend',
    'cpu',
  ];
  const diverged = path.join(tempDir(), 'diverged');
  const r = zhusuan('train', '--run', diverged, '--dataset', data, '--epochs', '3', ...big);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    lastLine(r.stderr),
    /^zhusuan train: training diverged in epoch 1: the weights after its last step give an ELBO of NaN on its last batch; no checkpoint was written; try a smaller --lr$/,
  );
  assert.equal(fs.existsSync(path.join(diverged, 'checkpoint.zsck')), false);

  // Finite weights that overflow: the loader accepts them, the results are refused.
  const run = path.join(tempDir(), 'run');
  assert.equal(
    zhusuan('train', '--run', run, '--dataset', data, '--epochs', '1', ...SMALL).code,
    0,
  );
  const file = path.join(run, 'checkpoint.zsck');
  const ck = loadCheckpoint(file);
  for (const w of ck.weights) {
    const cols = w.shape[1] ?? 1;
    // Signs alternating over the summed axis of the output layer: Inf - Inf.
    w.data.forEach((_, i, a) => {
      a[i] = w.name.startsWith('gen/x_logits') && Math.floor(i / cols) % 2 ? -3e38 : 3e38;
    });
  }
  saveCheckpoint(file, ck);
  const ev = zhusuan('eval', '--run', run, '--particles', '5', '--limit', '10', '--backend', 'cpu');
  assert.equal(ev.code, 1, ev.stderr);
  assert.match(
    lastLine(ev.stderr),
    /checkpoint\.zsck: the evaluation gave test_elbo = NaN .*eval\.json not written$/,
  );
  assert.equal(fs.existsSync(path.join(run, 'eval.json')), false);
  fs.rmSync(path.join(run, 'samples.png'));
  const s = zhusuan('sample', '--run', run, '--backend', 'cpu');
  assert.equal(s.code, 1, s.stderr);
  assert.match(
    lastLine(s.stderr),
    /checkpoint\.zsck: the model's samples hold NaN .*nothing written$/,
  );
  assert.equal(fs.existsSync(path.join(run, 'samples.png')), false);
});

test('resumes keep the original command and are appended; a finished run is not rewritten', () => {
  const run = path.join(tempDir(), 'run');
  const first = ['train', '--run', run, '--dataset', data, '--epochs', '1', ...SMALL];
  assert.equal(zhusuan(...first).code, 0);
  const config = () =>
    JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8')) as RunConfig;
  assert.equal(config().command, ['zhusuan', ...first].join(' '));
  for (const epochs of ['2', '3']) {
    assert.equal(
      zhusuan('train', '--run', run, '--resume', '--epochs', epochs, '--backend', 'cpu').code,
      0,
    );
  }
  assert.equal(config().command, ['zhusuan', ...first].join(' '));
  assert.deepEqual(config().resumes, [
    {
      command: `zhusuan train --run ${run} --resume --epochs 2 --backend cpu`,
      fromEpoch: 1,
      epochs: 2,
    },
    {
      command: `zhusuan train --run ${run} --resume --epochs 3 --backend cpu`,
      fromEpoch: 2,
      epochs: 3,
    },
  ]);
  assert.equal(config().epochs, 3);
  const before = fs.readFileSync(path.join(run, 'config.json'));
  const same = zhusuan('train', '--run', run, '--resume', '--backend', 'cpu');
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stderr, /has completed its 3 epochs; nothing to train/);
  const fewer = zhusuan('train', '--run', run, '--resume', '--epochs', '1', '--backend', 'cpu');
  assert.equal(fewer.code, 2);
  assert.match(
    fewer.stderr,
    /--epochs 1: .*checkpoint\.zsck has already completed 3 epochs; give at least 3/,
  );
  assert.deepEqual(fs.readFileSync(path.join(run, 'config.json')), before);
});

test('serve warns when it listens beyond loopback', async () => {
  const run = path.join(tempDir(), 'run');
  assert.equal(
    zhusuan('train', '--run', run, '--dataset', data, '--epochs', '1', ...SMALL).code,
    0,
  );
  const child = spawn(process.execPath, [
    BIN,
    'serve',
    '--run',
    run,
    '--port',
    '0',
    '--host',
    '0.0.0.0',
  ]);
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (/warning/.test(stderr)) resolve();
    });
    child.on('exit', () => reject(new Error(`serve exited: ${stderr}`)));
  });
  child.kill('SIGINT');
  assert.match(
    stderr,
    /warning: --host 0\.0\.0\.0 is not a loopback address: anyone who can reach this machine can read the run's weights, metrics and test images/,
  );
});
