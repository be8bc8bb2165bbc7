/**
 * End-to-end tests of the `zhusuan` command on a tiny IDX dataset the test
 * writes itself; a small network on the cpu backend keeps them quick.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng } from '../../src/image/index.js';
import { tempDir, writeTinyDataset } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/zhusuan.js', import.meta.url));
const WEIGHTS_ONLY = fileURLToPath(
  new URL('../../../../../scripts/weights-only.mjs', import.meta.url),
);
const SMALL = ['--hidden', '32', '--z-dim', '4', '--batch-size', '50', '--backend', 'cpu'];

function zhusuan(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function metricsLines(run: string): { epoch: number; train_elbo: number }[] {
  return fs
    .readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { epoch: number; train_elbo: number });
}

test('train writes config, checkpoint, metrics and a sample grid; --resume continues', () => {
  const data = writeTinyDataset({ train: 200, test: 40 });
  const run = path.join(tempDir(), 'run');
  const r1 = zhusuan('train', '--run', run, '--dataset', data, '--epochs', '1', ...SMALL);
  assert.equal(r1.code, 0, r1.stderr);
  for (const f of ['config.json', 'checkpoint.zsck', 'metrics.jsonl', 'samples.png']) {
    assert.ok(fs.existsSync(path.join(run, f)), `${f} missing`);
  }
  const config = JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8'));
  assert.equal(config.zDim, 4);
  assert.equal(config.xDim, 784);
  const m1 = metricsLines(run);
  assert.equal(m1.length, 1);
  assert.equal(m1[0].epoch, 1);
  assert.ok(m1[0].train_elbo < 0 && m1[0].train_elbo > -1000, `ELBO ${m1[0].train_elbo}`);

  // 100 samples of 28x28 in a 10x10 grid with 2-pixel padding.
  const png = decodePng(fs.readFileSync(path.join(run, 'samples.png')));
  assert.equal(png.width, 10 * 28 + 11 * 2);
  assert.equal(png.height, 10 * 28 + 11 * 2);

  // Starting over on a run with a checkpoint is refused: nothing is overwritten.
  const again = zhusuan('train', '--run', run, '--dataset', data, '--epochs', '1', ...SMALL);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /--resume/);

  const r2 = zhusuan('train', '--run', run, '--resume', '--epochs', '2', '--backend', 'cpu');
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stderr, /resuming .* at epoch 2 of 2/);
  const m2 = metricsLines(run);
  assert.deepEqual(
    m2.map((m) => m.epoch),
    [1, 2],
  );
  assert.equal(m2[0].train_elbo, m1[0].train_elbo);

  // --resume refuses to change the model.
  const bad = zhusuan('train', '--run', run, '--resume', '--epochs', '3', '--z-dim', '8');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--z-dim/);

  const ev = zhusuan('eval', '--run', run, '--particles', '20', '--json', '--backend', 'cpu');
  assert.equal(ev.code, 0, ev.stderr);
  const out = JSON.parse(ev.stdout);
  for (const k of ['test_elbo', 'test_ll', 'test_ll_stderr', 'particles', 'n_test', 'seconds']) {
    assert.equal(typeof out[k], 'number', `eval --json lacks ${k}`);
  }
  assert.equal(out.particles, 20);
  assert.equal(out.n_test, 40);
  assert.equal(out.epoch, 2);
  assert.ok(out.test_ll >= out.test_elbo - 1, 'IS-LL should not fall below the ELBO');
  assert.deepEqual(
    JSON.parse(fs.readFileSync(path.join(run, 'eval.json'), 'utf8')).test_ll,
    out.test_ll,
  );

  const s = zhusuan(
    'sample',
    '--run',
    run,
    '--n',
    '16',
    '--out',
    path.join(run, 's16.png'),
    '--backend',
    'cpu',
  );
  assert.equal(s.code, 0, s.stderr);
  const grid = decodePng(fs.readFileSync(path.join(run, 's16.png')));
  assert.equal(grid.width, 4 * 28 + 5 * 2);
  assert.ok(fs.existsSync(path.join(run, 'reconstructions.png')));
});

test("eval --split valid evaluates the run's held-out validation images, never the test set", () => {
  const data = writeTinyDataset({ train: 150, test: 30 });
  const run = path.join(tempDir(), 'run');
  const t = zhusuan(
    'train',
    '--run',
    run,
    '--dataset',
    data,
    '--epochs',
    '1',
    '--validation',
    '40',
    ...SMALL,
  );
  assert.equal(t.code, 0, t.stderr);
  const evalValid = ['eval', '--run', run, '--split', 'valid', '--particles', '10', '--json'];
  const ev = zhusuan(...evalValid, '--backend', 'cpu');
  assert.equal(ev.code, 0, ev.stderr);
  const out = JSON.parse(ev.stdout);
  assert.equal(out.split, 'valid');
  assert.equal(out.n_test, 40, 'the 40 held-out images');
  assert.ok(out.test_ll >= out.test_elbo - 1, 'IS-LL should not fall below the ELBO');
  // Written beside the test evaluation's file, never over it.
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(run, 'eval-valid.json'), 'utf8')), out);
  assert.equal(fs.existsSync(path.join(run, 'eval.json')), false);
  // The same seed gives the same figures: the images are the training run's split.
  const again = zhusuan(...evalValid, '--backend', 'cpu', '--out', path.join(run, 'again.json'));
  assert.equal(JSON.parse(again.stdout).test_ll, out.test_ll);
  const test = zhusuan('eval', '--run', run, '--particles', '10', '--json', '--backend', 'cpu');
  assert.equal(JSON.parse(test.stdout).split, 'test');
  assert.equal(JSON.parse(test.stdout).n_test, 30);

  // A run trained without --validation has no validation images: a usage error.
  const plain = path.join(tempDir(), 'plain');
  assert.equal(
    zhusuan('train', '--run', plain, '--dataset', data, '--epochs', '1', ...SMALL).code,
    0,
  );
  const bad = zhusuan('eval', '--run', plain, '--split', 'valid', '--backend', 'cpu');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--split valid: .* was trained without --validation/);
  const wrong = zhusuan('eval', '--run', plain, '--split', 'train');
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--split/);
});

test('resumed training reproduces an uninterrupted run exactly', () => {
  const data = writeTinyDataset({ train: 120, test: 10 });
  const root = tempDir();
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  assert.equal(zhusuan('train', '--run', a, '--dataset', data, '--epochs', '2', ...SMALL).code, 0);
  assert.equal(zhusuan('train', '--run', b, '--dataset', data, '--epochs', '1', ...SMALL).code, 0);
  assert.equal(
    zhusuan('train', '--run', b, '--resume', '--epochs', '2', '--backend', 'cpu').code,
    0,
  );
  assert.deepEqual(
    metricsLines(a).map((m) => m.train_elbo),
    metricsLines(b).map((m) => m.train_elbo),
  );
});

test('training succeeds with the test files absent', () => {
  const data = writeTinyDataset({ train: 100, test: 0, withTest: false });
  const run = path.join(tempDir(), 'run');
  const r = zhusuan('train', '--run', run, '--dataset', data, '--epochs', '1', ...SMALL);
  assert.equal(r.code, 0, r.stderr);
  // Reconstructions fall back to training images when there is no test split.
  const s = zhusuan('sample', '--run', run, '--n', '4', '--backend', 'cpu');
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stderr, /train images/);
});

test('grids take the image shape from the IDX header (10×12 images)', () => {
  const data = writeTinyDataset({ train: 100, test: 20, size: [10, 12] });
  const run = path.join(tempDir(), 'run');
  const r = zhusuan('train', '--run', run, '--dataset', data, '--epochs', '2', ...SMALL);
  assert.equal(r.code, 0, r.stderr);
  // 100 samples in a 10×10 grid of 10-row, 12-column images with 2-pixel gaps.
  const grid = decodePng(fs.readFileSync(path.join(run, 'samples.png')));
  assert.deepEqual([grid.width, grid.height], [10 * 12 + 11 * 2, 10 * 10 + 11 * 2]);
  const s = zhusuan('sample', '--run', run, '--n', '4', '--backend', 'cpu');
  assert.equal(s.code, 0, s.stderr);
  assert.ok(fs.existsSync(path.join(run, 'reconstructions.png')));
});

test('a weights-only checkpoint evaluates the same and refuses --resume', () => {
  const data = writeTinyDataset({ train: 100, test: 20 });
  const run = path.join(tempDir(), 'run');
  assert.equal(
    zhusuan('train', '--run', run, '--dataset', data, '--epochs', '1', ...SMALL).code,
    0,
  );
  const evalArgs = ['eval', '--run', run, '--particles', '5', '--backend', 'cpu', '--json'];
  const full = zhusuan(...evalArgs);
  assert.equal(full.code, 0, full.stderr);
  const ckpt = path.join(run, 'checkpoint.zsck');
  const size = fs.statSync(ckpt).size;
  const strip = spawnSync(process.execPath, [WEIGHTS_ONLY, ckpt], { encoding: 'utf8' });
  assert.equal(strip.status, 0, strip.stderr);
  assert.ok(fs.statSync(ckpt).size < size / 2, 'the optimizer state (2/3 of the file) is gone');
  const stripped = zhusuan(...evalArgs);
  assert.equal(stripped.code, 0, stripped.stderr);
  const pick = (o: string) => {
    const { test_elbo, test_ll } = JSON.parse(o) as Record<string, number>;
    return { test_elbo, test_ll };
  };
  assert.deepEqual(pick(stripped.stdout), pick(full.stdout));
  const resume = zhusuan('train', '--run', run, '--resume', '--epochs', '2', '--backend', 'cpu');
  assert.equal(resume.code, 1, resume.stderr);
  assert.match(resume.stderr, /checkpoint.zsck: holds weights only, without the optimizer state/);
  assert.match(resume.stderr, /not resumed/);
});

test('bad flags and values exit 2 with the reason', () => {
  const cases: [string[], RegExp][] = [
    [['train', '--epochs', 'ten'], /--epochs: expected a number/],
    [['train', '--epochs', '0'], /--epochs: must be at least 1/],
    [['train', '--lr', '-1'], /--lr: must be positive/],
    [['train', '--objective', 'mle'], /--objective: must be one of elbo\|iwae\|vimco/],
    [['train', '--bogus'], /unknown flag --bogus/],
    [['train', '--objective', 'vimco', '--particles', '1'], /vimco needs at least 2/],
    [['eval'], /--run is required/],
    [['eval', '--run', '/nonexistent/run'], /does not exist/],
    [['sample', '--run', '/tmp', '--out', 'x.jpg'], /--out: expected a \.png/],
    [['frobnicate'], /unknown command/],
  ];
  for (const [args, pattern] of cases) {
    const r = zhusuan(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
  }
});

test('a bad dataset path fails with exit 1 naming the file', () => {
  const dir = tempDir();
  const run = path.join(dir, 'run');
  const r = zhusuan('train', '--run', run, '--dataset', dir, '--epochs', '1', ...SMALL);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /train-images-idx3-ubyte/);
  assert.ok(!fs.existsSync(path.join(run, 'checkpoint.zsck')));
});

test('without the native addon, --backend auto trains on wasm and says so once', () => {
  const data = writeTinyDataset({ train: 100, test: 10 });
  const run = path.join(tempDir(), 'run');
  const r = spawnSync(
    process.execPath,
    [
      BIN,
      'train',
      '--run',
      run,
      '--dataset',
      data,
      '--epochs',
      '1',
      '--hidden',
      '16',
      '--z-dim',
      '2',
    ],
    {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ZHUSUAN_NATIVE_ADDON: '/nonexistent/addon.node' },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const notices = r.stderr.split('\n').filter((l) => l.includes('native backend unavailable'));
  assert.equal(notices.length, 1, r.stderr);
  assert.match(notices[0], /using wasm/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8')).backend, 'wasm');
  // Asking for native explicitly is an error that says why.
  const n = spawnSync(
    process.execPath,
    [BIN, 'train', '--run', path.join(run, 'x'), '--dataset', data, '--backend', 'native'],
    {
      encoding: 'utf8',
      env: { ...process.env, ZHUSUAN_NATIVE_ADDON: '/nonexistent/addon.node' },
    },
  );
  assert.equal(n.status, 1);
  assert.match(n.stderr, /--backend native is not available: native addon not found/);
});

test('npm start runs `zhusuan quickstart` (the command after the build, with --help)', () => {
  const root = fileURLToPath(new URL('../../../../../', import.meta.url));
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const parts = pkg.scripts.start.split('&&').map((s) => s.trim());
  assert.equal(parts[0], 'npm run build');
  const [node, script, ...args] = parts[1].split(/\s+/);
  assert.equal(node, 'node');
  const r = spawnSync(process.execPath, [path.join(root, script), ...args, '--help'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /usage: zhusuan quickstart/);
});
