/** docs/results.md's results table is generated from the shipped runs' files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { BEGIN, END, replaceBetweenMarkers, resultsTable } from '../src/commands/results.js';
import { DELTA_SE_NOTE } from '../src/report/format.js';
import { tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

test('the docs/results.md table matches the files under results/', () => {
  const readme = fs.readFileSync(`${ROOT}docs/results.md`, 'utf8');
  const table = resultsTable(`${ROOT}results`);
  assert.ok(table.split('\n').length > 2, 'no runs under results/');
  assert.equal(
    replaceBetweenMarkers(readme, table),
    readme,
    'run `npx zhusuan results --readme docs/results.md`',
  );
});

test('replaceBetweenMarkers needs both markers', () => {
  assert.throws(() => replaceBetweenMarkers('no markers', 'x'), /markers not found/);
  assert.equal(
    replaceBetweenMarkers(`a\n${BEGIN}\nold\n${END}\nb`, 'new'),
    `a\n${BEGIN}\nnew\n${END}\nb`,
  );
});

test('an evaluation with the old delta-method standard error is marked, with a footnote', () => {
  const dir = tempDir();
  const ev = {
    test_elbo: -100,
    test_ll: -95.5,
    test_ll_stderr: 0.0123,
    test_ll_sem_over_images: 0.27,
    particles: 1000,
    n_test: 10000,
    seconds: 100,
    epoch: 10,
    backend: 'native',
    dataset: 'mnist',
  };
  for (const [name, extra] of [
    ['new', { test_ll_stderr_delta: 0.009 }],
    ['old', {}],
  ] as const) {
    fs.mkdirSync(path.join(dir, name));
    for (const f of ['config.json', 'metrics.jsonl']) {
      fs.copyFileSync(`${ROOT}results/vae-10ep/${f}`, path.join(dir, name, f));
    }
    fs.writeFileSync(path.join(dir, name, 'eval.json'), JSON.stringify({ ...ev, ...extra }));
  }
  const lines = resultsTable(dir).split('\n');
  assert.ok(lines.find((l) => l.startsWith('| `new`'))?.includes('-95.50 ± 0.012 |'));
  assert.ok(lines.find((l) => l.startsWith('| `old`'))?.includes('-95.50 ± 0.012† |'));
  assert.equal(lines[lines.length - 1], DELTA_SE_NOTE);
  fs.rmSync(path.join(dir, 'old'), { recursive: true });
  assert.ok(!resultsTable(dir).includes('†'), 'no footnote without a marked row');
});

test('the objective column says how many samples the ELBO averaged', () => {
  const dir = tempDir();
  for (const [name, particles] of [
    ['one', 1],
    ['five', 5],
  ] as const) {
    fs.mkdirSync(path.join(dir, name));
    const cfg = JSON.parse(fs.readFileSync(`${ROOT}results/vae-10ep/config.json`, 'utf8'));
    fs.writeFileSync(path.join(dir, name, 'config.json'), JSON.stringify({ ...cfg, particles }));
    fs.copyFileSync(`${ROOT}results/vae-10ep/metrics.jsonl`, path.join(dir, name, 'metrics.jsonl'));
  }
  const lines = resultsTable(dir).split('\n');
  assert.ok(lines.find((l) => l.startsWith('| `one` | ELBO (SGVB) |')));
  assert.ok(lines.find((l) => l.startsWith('| `five` | ELBO (SGVB, 5 samples) |')));
});
