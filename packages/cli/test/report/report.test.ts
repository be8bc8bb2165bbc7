/** `zhusuan report` on a tiny run: the PDF has the proof, the numbers and the figures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportTex, texEscape } from '../../src/report/index.js';
import { tempDir, writeTinyDataset } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/zhusuan.js', import.meta.url));
const SMALL = ['--hidden', '16', '--z-dim', '2', '--batch-size', '50', '--backend', 'cpu'];

function zhusuan(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r;
}

function pdfText(pdf: string): string {
  const r = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.replace(/\s+/g, ' ');
}

test('a report from a tiny run has the proof, the results table and the figures', () => {
  const data = writeTinyDataset({ train: 100, test: 20 });
  const run = path.join(tempDir(), 'tiny run'.replace(' ', '_'));
  zhusuan('train', '--run', run, '--dataset', data, '--epochs', '2', ...SMALL);

  // Not yet evaluated: the table says so instead of inventing numbers.
  zhusuan('report', '--run', run);
  let text = pdfText(path.join(run, 'report.pdf'));
  assert.match(text, /not evaluated/);

  zhusuan('eval', '--run', run, '--particles', '10', '--backend', 'cpu');
  const more = path.join(run, 'eval-20.json');
  zhusuan('eval', '--run', run, '--particles', '20', '--backend', 'cpu', '--out', more);
  zhusuan('sample', '--run', run, '--n', '16', '--backend', 'cpu');
  const out = path.join(run, 'homework.pdf');
  const r = zhusuan('report', '--run', run, '--out', out);
  assert.match(r.stderr, /wrote .*homework\.pdf \(\d+ pages\)/);
  assert.ok(fs.existsSync(path.join(run, 'homework.tex')), 'the LaTeX source is kept beside the PDF');
  text = pdfText(out);
  // The proof's key statements.
  assert.match(text, /Gibbs. inequality/); // a typographic apostrophe in the PDF
  assert.match(text, /Jensen.s inequality/);
  assert.match(text, /log pθ \(x\) = L\(x\) \+ KL/); // the decomposition
  assert.match(text, /almost everywhere/);
  // The table's numbers, as the table formats them.
  const ev = JSON.parse(fs.readFileSync(path.join(run, 'eval.json'), 'utf8'));
  const metrics = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(text.includes(ev.test_elbo.toFixed(2)), `test ELBO ${ev.test_elbo.toFixed(2)} missing`);
  assert.ok(text.includes(`${ev.test_ll.toFixed(2)} ± ${ev.test_ll_stderr.toFixed(3)}`), 'test LL missing');
  assert.ok(text.includes(metrics[1].train_elbo.toFixed(2)), 'final training bound missing');
  // A further evaluation (eval-<K>.json) gets its own row.
  const ev20 = JSON.parse(fs.readFileSync(more, 'utf8'));
  assert.equal(ev20.particles, 20);
  assert.match(text, /IS with K = 20/);
  assert.ok(text.includes(`${ev20.test_ll.toFixed(2)} ± ${ev20.test_ll_stderr.toFixed(3)}`), 'K = 20 row missing');
  // Two embedded raster figures (samples, reconstructions); the curve is vector pgfplots.
  const images = spawnSync('pdfimages', ['-list', out], { encoding: 'utf8' }).stdout.trim().split('\n').slice(2);
  assert.equal(images.length, 2, images.join('\n'));
});

test('report errors: missing run is a usage error; bad --out suffix too', () => {
  const a = spawnSync(process.execPath, [BIN, 'report', '--run', '/nonexistent/run'], { encoding: 'utf8' });
  assert.equal(a.status, 2);
  assert.match(a.stderr, /does not exist/);
  const b = spawnSync(process.execPath, [BIN, 'report', '--run', '/tmp', '--out', 'x.doc'], { encoding: 'utf8' });
  assert.equal(b.status, 2);
  assert.match(b.stderr, /--out: expected a \.pdf/);
});

test('texEscape makes file names safe for LaTeX', () => {
  assert.equal(texEscape('runs/my_run #1 50% {x} $y & ~z^'), 'runs/my\\_run \\#1 50\\% \\{x\\} \\$y \\& \\textasciitilde{}z\\textasciicircum{}');
});

test('the report names the objective: one sample, the average over several, or a K-sample bound', () => {
  const config = JSON.parse(
    fs.readFileSync(
      fileURLToPath(new URL('../../../../../results/vae-10ep/config.json', import.meta.url)),
      'utf8',
    ),
  );
  const tex = (over: object) =>
    reportTex({ runName: 'r', config: { ...config, ...over }, metrics: [], date: '2026-11-29' });
  assert.match(tex({}), /SGVB \(reparameterisation\) estimator and one sample of/);
  assert.match(
    tex({ particles: 5 }),
    /SGVB \(reparameterisation\) estimator and the average over 5 samples of/,
  );
  assert.match(tex({ objective: 'iwae', particles: 5 }), /importance-weighted bound with \$K = 5\$/);
});
