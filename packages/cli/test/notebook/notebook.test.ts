/**
 * Executes notebooks/vae.ipynb headless on the tslab kernel in its quick
 * configuration (`npm run notebook -- --quick`) and checks the executed
 * notebook: every code cell ran, none failed or wrote an error, and the
 * generations, reconstructions and training curve came out as PNG images.
 *
 * Needs Debian's Jupyter (see docs/notebook.md; .ci/run installs it): without
 * it the test fails, saying what to install.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng } from '../../src/image/index.js';

// dist/test/notebook/ -> the repository root.
const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const RUNNER = path.join(ROOT, 'scripts', 'notebook', 'run.mjs');
const PYTHON = process.env.ZHUSUAN_NB_PYTHON || '/usr/bin/python3';

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}
interface Cell {
  cell_type: string;
  execution_count?: number | null;
  source: string | string[];
  outputs?: Output[];
}

const join = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join('') : (s ?? ''));

function jupyterMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import nbclient, nbformat, ipykernel, jupyter_client'], {
    encoding: 'utf8',
  });
  if (r.status === 0) return null;
  return `${PYTHON} has no Jupyter (nbclient, ipykernel): install Debian's jupyter packages, see docs/notebook.md`;
}

test('notebooks/vae.ipynb executes headless (quick configuration) with images', () => {
  const missing = jupyterMissing();
  assert.equal(missing, null, missing ?? '');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zs-notebook-'));
  const out = path.join(dir, 'vae.ipynb');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [RUNNER, '--quick', '--out', out], {
    encoding: 'utf8',
    timeout: 240_000,
    // The quick configuration only: no epochs/particles overrides from the caller.
    env: Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !k.startsWith('ZHUSUAN_NB_') || k === 'ZHUSUAN_NB_PYTHON',
      ),
    ),
  });
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(r.status, 0, `npm run notebook -- --quick failed (${r.signal ?? ''}):\n${r.stderr}`);

  const nb = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    cells: Cell[];
    metadata: { kernelspec?: { name?: string } };
  };
  assert.equal(nb.metadata.kernelspec?.name, 'tslab');
  const code = nb.cells.filter((c) => c.cell_type === 'code');
  assert.ok(code.length >= 8, `only ${code.length} code cells`);
  const pngs: Buffer[] = [];
  const markdown: string[] = [];
  code.forEach((cell, i) => {
    const where = `code cell ${i + 1}:\n${join(cell.source).slice(0, 300)}`;
    assert.equal(typeof cell.execution_count, 'number', `not executed: ${where}`);
    for (const o of cell.outputs ?? []) {
      assert.notEqual(o.output_type, 'error', `error output in ${where}`);
      if (o.output_type === 'stream' && o.name === 'stderr') {
        assert.doesNotMatch(join(o.text), /error/i, `stderr in ${where}:\n${join(o.text)}`);
      }
      const png = o.data?.['image/png'];
      if (png !== undefined) pngs.push(Buffer.from(join(png), 'base64'));
      const md = o.data?.['text/markdown'];
      if (md !== undefined) markdown.push(join(md));
    }
  });
  // Training images, training curve, generations, reconstructions.
  assert.ok(pngs.length >= 4, `${pngs.length} PNG outputs, expected at least 4`);
  for (const png of pngs) {
    const img = decodePng(png);
    assert.ok(img.width > 50 && img.height > 50, `a ${img.width}x${img.height} image`);
  }
  // The results table: finite test ELBO and IS log-likelihood, the bound below the estimate.
  const row = markdown.join('\n').match(/\| quick \|.*\| (-[\d.]+) \| (-[\d.]+) \(K = 10\) \|/);
  assert.ok(row, `no results row in the markdown outputs:\n${markdown.join('\n')}`);
  const [elbo, ll] = [Number(row[1]), Number(row[2])];
  assert.ok(elbo > -560 && elbo < -50, `test ELBO ${elbo}`);
  assert.ok(ll >= elbo - 1, `IS log-likelihood ${ll} below the ELBO ${elbo}`);
  fs.rmSync(dir, { recursive: true, force: true });
  assert.ok(seconds < 180, `the quick run took ${seconds.toFixed(0)} s`);
});
