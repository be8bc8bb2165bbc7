/** The run format's parsers: what they accept, and the file and field they name when they refuse. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  parseEvalReport,
  parseMetrics,
  parseMetricsLine,
  parseRunConfig,
  RUN_FILES,
  RUN_LIMITS,
  RunFormatError,
  runSizeProblem,
  tempFileOwner,
  vaeParameterCount,
} from '../src/index.js';

const CONFIG = {
  dataset: 'mnist',
  epochs: 10,
  batchSize: 128,
  xDim: 784,
  zDim: 40,
  hidden: 500,
  lr: 0.001,
  lrDecay: 1,
  lrDecayEvery: 0,
  objective: 'elbo',
  particles: 1,
  seed: 1,
  validation: 0,
  sampleEvery: 5,
  backend: 'native',
  command: 'zhusuan train',
};

const LINE = {
  epoch: 1,
  train_elbo: -120.5,
  epoch_seconds: 3.2,
  seconds: 3.2,
  steps: 469,
  lr: 0.001,
  backend: 'native',
  objective: 'elbo',
};

const EVAL = {
  test_elbo: -95.3,
  test_ll: -89.5,
  test_ll_stderr: 0.007,
  test_ll_stderr_delta: 0.005,
  test_ll_sem_over_images: 0.24,
  particles: 1000,
  n_test: 10000,
  seconds: 83.2,
  epoch: 80,
  backend: 'native',
  dataset: 'mnist',
  split: 'test',
};

const json = (o: object) => JSON.stringify(o);

test('parseRunConfig accepts a config and names the file and field it refuses', () => {
  assert.deepEqual(parseRunConfig(json(CONFIG), 'r/config.json'), CONFIG);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ zDim: 0 }, /r\/config.json: field 'zDim' must be an integer ≥ 1, got 0/],
    [{ epochs: 2.5 }, /field 'epochs' must be an integer ≥ 1, got 2.5/],
    [{ lr: 'fast' }, /field 'lr' must be a finite number, got "fast"/],
    [{ seed: -1 }, /field 'seed' must be an integer ≥ 0, got -1/],
    [{ objective: 'kl' }, /field 'objective' must be one of elbo\|iwae\|vimco, got "kl"/],
    [{ dataset: 3 }, /field 'dataset' must be a string, got 3/],
    [{ hidden: undefined }, /field 'hidden' must be an integer ≥ 1, got nothing/],
  ];
  for (const [patch, message] of cases) {
    assert.throws(
      () => parseRunConfig(json({ ...CONFIG, ...patch }), 'r/config.json'),
      (err: Error) => err instanceof RunFormatError && message.test(err.message),
      json(patch),
    );
  }
  assert.throws(() => parseRunConfig('{"zDim":', 'r/config.json'), /r\/config.json: invalid JSON/);
  assert.throws(() => parseRunConfig('[1]', 'r/config.json'), /expected a JSON object/);
});

test('parseRunConfig bounds every size before anything is allocated, and reads resumes', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ hidden: 1e8 }, /field 'hidden' must be an integer ≤ 4096, got 100000000/],
    [{ zDim: 1e9 }, /field 'zDim' must be an integer ≤ 1024/],
    [{ batchSize: 1e12 }, /field 'batchSize' must be an integer ≤ 65536/],
    [{ epochs: 1e6 }, /field 'epochs' must be an integer ≤ 100000/],
    [{ batchSize: 65536, particles: 1000 }, /--batch-size 65536 × --particles 1000 × 784 units/],
    [{ hidden: 4096, xDim: 1048576 }, /make \d+ weights, above the 134217728 a run may have/],
    [
      { resumes: [{ command: 'x', fromEpoch: 'one', epochs: 2 }] },
      /resumes\[0\]: field 'fromEpoch' must be an integer ≥ 0/,
    ],
  ];
  for (const [patch, message] of cases) {
    assert.throws(
      () => parseRunConfig(json({ ...CONFIG, ...patch }), 'r/config.json'),
      (err: Error) => err instanceof RunFormatError && message.test(err.message),
      json(patch),
    );
  }
  const resumed = {
    ...CONFIG,
    resumes: [{ command: 'zhusuan train --resume', fromEpoch: 5, epochs: 10 }],
  };
  assert.deepEqual(parseRunConfig(json(resumed), 'r/config.json'), resumed);
  // The homework's model: z 40 -> 500 -> 500 -> x 784, x -> 500 -> 500 -> (mean, logstd) 40.
  const dense = (i: number, o: number) => (i + 1) * o;
  assert.equal(
    vaeParameterCount({ xDim: 784, zDim: 40, hidden: 500 }),
    dense(40, 500) + 2 * dense(500, 500) + dense(500, 784) + dense(784, 500) + 2 * dense(500, 40),
  );
  assert.equal(runSizeProblem({ ...CONFIG }), undefined);
  assert.ok(RUN_LIMITS.hidden >= 500 && RUN_LIMITS.zDim >= 40);
});

test('messages never quote a file: JSON errors without the text, values cut short', () => {
  const secret = 'SECRET-TEXT-FROM-THE-FILE';
  for (const text of [`${secret}\nmore`, `"${secret}`, `{"a": ${secret}}`]) {
    assert.throws(
      () => parseRunConfig(text, 'r/config.json'),
      (err: Error) =>
        /^r\/config.json: invalid JSON/.test(err.message) && !err.message.includes('SECRET'),
      text,
    );
  }
  assert.throws(
    () => parseRunConfig(json({ ...CONFIG, dataset: { x: 'y'.repeat(1000) } }), 'c'),
    (err: Error) =>
      err.message.length < 120 && err.message.endsWith('...') && !err.message.includes('\n'),
  );
  assert.equal(tempFileOwner('checkpoint.zsck.tmp-1234'), 1234);
  assert.equal(tempFileOwner('samples.png.tmp-77-1712345'), 77);
  assert.equal(tempFileOwner('checkpoint.zsck'), undefined);
});

test('parseMetrics reads lines in epoch order and names the line at fault', () => {
  const text = [json(LINE), '', json({ ...LINE, epoch: 2, valid_elbo: -101 }), ''].join('\n');
  const rows = parseMetrics(text, 'r/metrics.jsonl');
  assert.deepEqual(
    rows.map((r) => [r.epoch, r.valid_elbo]),
    [
      [1, undefined],
      [2, -101],
    ],
  );
  assert.throws(
    () => parseMetrics([json(LINE), json({ ...LINE, epoch: 3 })].join('\n'), 'r/metrics.jsonl'),
    /r\/metrics.jsonl:2: epoch 3 follows epoch 1/,
  );
  assert.throws(
    () => parseMetrics([json(LINE), '{"epoch": 2, "train_'].join('\n'), 'r/metrics.jsonl'),
    /r\/metrics.jsonl:2: invalid JSON/,
  );
  assert.throws(
    () => parseMetricsLine(json({ ...LINE, train_elbo: null }), 'm:1'),
    /m:1: field 'train_elbo' must be a finite number, got null/,
  );
  assert.throws(
    () => parseMetricsLine(json({ ...LINE, epoch: 0 }), 'm:1'),
    /field 'epoch' must be an integer ≥ 1/,
  );
});

test('parseEvalReport accepts reports with and without the optional fields', () => {
  assert.deepEqual(parseEvalReport(json(EVAL), 'e.json'), EVAL);
  const old: Record<string, unknown> = { ...EVAL };
  delete old.split;
  delete old.test_ll_stderr_delta;
  assert.deepEqual(parseEvalReport(json(old), 'e.json'), old);
  assert.throws(
    () => parseEvalReport(json({ ...EVAL, test_ll: null }), 'e.json'),
    /e.json: field 'test_ll' must be a finite number, got null/,
  );
  assert.throws(
    () => parseEvalReport(json({ ...EVAL, split: 'train' }), 'e.json'),
    /field 'split' must be one of test\|valid/,
  );
  assert.throws(
    () => parseEvalReport(json({ ...EVAL, particles: 0 }), 'e.json'),
    /field 'particles' must be an integer ≥ 1/,
  );
});

test('every committed run directory reads under the format', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
  let runs = 0;
  for (const top of ['results', 'experiments']) {
    const dir = path.join(root, top);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) {
      const run = path.join(dir, name);
      const config = path.join(run, RUN_FILES.config);
      if (!fs.existsSync(config)) continue;
      runs++;
      const cfg = parseRunConfig(fs.readFileSync(config, 'utf8'), config);
      const metrics = path.join(run, RUN_FILES.metrics);
      const rows = parseMetrics(fs.readFileSync(metrics, 'utf8'), metrics);
      assert.equal(rows.length, cfg.epochs, `${metrics}: one line per epoch`);
      for (const f of fs.readdirSync(run).filter((n) => /^eval.*\.json$/.test(n))) {
        const file = path.join(run, f);
        parseEvalReport(fs.readFileSync(file, 'utf8'), file);
      }
    }
  }
  assert.ok(runs >= 5, `found ${runs} run directories`);
});
