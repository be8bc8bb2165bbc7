#!/usr/bin/env node
// `npm run notebook`: executes notebooks/vae.ipynb headless on the tslab
// TypeScript kernel and writes the executed notebook.
//
//   node scripts/notebook/run.mjs [NOTEBOOK] [--quick | --full] [--epochs N]
//        [--particles K] [--backend NAME] [--out FILE | --in-place] [--timeout SECONDS]
//
// The kernel spec is installed into tmp/jupyter/ of this repository (ignored
// by git), and Jupyter's data, runtime and config directories point there too,
// so nothing is written outside the repository. Jupyter is Debian's, run by
// /usr/bin/python3 (override with ZHUSUAN_NB_PYTHON); see docs/notebook.md.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const JUPYTER_DIR = path.join(ROOT, 'tmp', 'jupyter');
const PYTHON = process.env.ZHUSUAN_NB_PYTHON || '/usr/bin/python3';
const APT =
  'apt-get install -y --no-install-recommends jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client jupyter-notebook';

const USAGE = `usage: npm run notebook -- [NOTEBOOK] [--quick | --full] [--epochs N] [--particles K]
                           [--backend NAME] [--out FILE | --in-place] [--timeout SECONDS]

Executes NOTEBOOK (default notebooks/vae.ipynb) headless on the tslab kernel.
  --quick          a few hundred training images, 1 epoch, 10 particles (ZHUSUAN_NB_QUICK=1)
  --full           all 60,000 images, the full number of epochs, 1000 particles (ZHUSUAN_NB_FULL=1)
  --epochs N       override the number of epochs (ZHUSUAN_NB_EPOCHS)
  --particles K    override the importance-sampling particles (ZHUSUAN_NB_PARTICLES)
  --backend NAME   auto (default), native, wasm or cpu (ZHUSUAN_NB_BACKEND)
  --out FILE       where the executed notebook goes (default tmp/notebook/<name>.ipynb)
  --in-place       replace NOTEBOOK by the executed notebook, only if every cell succeeded
  --timeout S      seconds allowed per cell (default: no limit)`;

function fail(message, code = 2) {
  process.stderr.write(`notebook: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { notebook: null, env: {}, out: null, inPlace: false, timeout: null };
  const value = (i, flag) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) fail(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  const positiveInt = (v, flag) => {
    if (!/^[1-9][0-9]*$/.test(v)) fail(`${flag} must be a positive integer, got '${v}'`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a === '--quick') opts.env.ZHUSUAN_NB_QUICK = '1';
    else if (a === '--full') opts.env.ZHUSUAN_NB_FULL = '1';
    else if (a === '--epochs') opts.env.ZHUSUAN_NB_EPOCHS = positiveInt(value(i++, a), a);
    else if (a === '--particles') opts.env.ZHUSUAN_NB_PARTICLES = positiveInt(value(i++, a), a);
    else if (a === '--backend') {
      const b = value(i++, a);
      if (!['auto', 'native', 'wasm', 'cpu'].includes(b))
        fail(`--backend must be auto, native, wasm or cpu, got '${b}'`);
      opts.env.ZHUSUAN_NB_BACKEND = b;
    } else if (a === '--out') opts.out = value(i++, a);
    else if (a === '--in-place') opts.inPlace = true;
    else if (a === '--timeout') opts.timeout = positiveInt(value(i++, a), a);
    else if (a.startsWith('--')) fail(`unknown flag ${a}\n${USAGE}`);
    else if (opts.notebook === null) opts.notebook = a;
    else fail(`one notebook at a time (got '${opts.notebook}' and '${a}')`);
  }
  if (opts.env.ZHUSUAN_NB_QUICK && opts.env.ZHUSUAN_NB_FULL)
    fail('--quick and --full exclude each other');
  if (opts.inPlace && opts.out) fail('--out and --in-place exclude each other');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const notebook = path.resolve(opts.notebook ?? path.join(ROOT, 'notebooks', 'vae.ipynb'));
if (!fs.existsSync(notebook)) fail(`${notebook}: no such notebook`);

const check = spawnSync(PYTHON, ['-c', 'import nbclient, nbformat, ipykernel, jupyter_client'], {
  encoding: 'utf8',
});
if (check.error || check.status !== 0) {
  fail(
    `${PYTHON} cannot import nbclient/nbformat/ipykernel/jupyter_client ` +
      `(${check.error ? check.error.message : check.stderr.trim().split('\n').pop()}).\n` +
      `Install Debian's Jupyter: ${APT}`,
  );
}
const tslabBin = path.join(ROOT, 'node_modules', '.bin', 'tslab');
if (!fs.existsSync(tslabBin)) fail(`${tslabBin} is missing: run npm ci`);

// Everything Jupyter writes stays under tmp/jupyter/.
const dirs = {
  JUPYTER_PATH: path.join(JUPYTER_DIR, 'share', 'jupyter'),
  JUPYTER_DATA_DIR: path.join(JUPYTER_DIR, 'data'),
  JUPYTER_RUNTIME_DIR: path.join(JUPYTER_DIR, 'runtime'),
  JUPYTER_CONFIG_DIR: path.join(JUPYTER_DIR, 'config'),
  IPYTHONDIR: path.join(JUPYTER_DIR, 'ipython'),
};
for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
const env = {
  ...process.env,
  ...dirs,
  PYDEVD_DISABLE_FILE_VALIDATION: '1',
  ...opts.env,
};

// The kernel spec: tmp/jupyter/share/jupyter/kernels/tslab/kernel.json.
const install = spawnSync(
  tslabBin,
  ['install', '--python', PYTHON, '--binary', tslabBin, '--prefix', JUPYTER_DIR],
  { encoding: 'utf8', env },
);
const kernelJson = path.join(dirs.JUPYTER_PATH, 'kernels', 'tslab', 'kernel.json');
if (install.error || install.status !== 0 || !fs.existsSync(kernelJson)) {
  fail(
    `installing the tslab kernel spec failed:\n${install.stdout ?? ''}${install.stderr ?? ''}` +
      (install.error ? install.error.message : ''),
    1,
  );
}

const base = path.basename(notebook, '.ipynb');
const out = opts.inPlace
  ? path.join(ROOT, 'tmp', 'notebook', `${base}.executing.ipynb`)
  : path.resolve(opts.out ?? path.join(ROOT, 'tmp', 'notebook', `${base}.ipynb`));
fs.mkdirSync(path.dirname(out), { recursive: true });

const modeFlags = Object.entries(opts.env).map(([k, v]) => `${k}=${v}`);
process.stderr.write(
  `notebook: executing ${path.relative(ROOT, notebook)}` +
    (modeFlags.length ? ` with ${modeFlags.join(' ')}` : '') +
    '\n',
);
const args = [path.join(ROOT, 'scripts', 'notebook', 'execute.py'), notebook, out];
if (opts.timeout) args.push('--timeout', opts.timeout);
const run = spawnSync(PYTHON, args, { stdio: 'inherit', env });
if (run.error) fail(`cannot run ${PYTHON}: ${run.error.message}`, 1);
if (run.status !== 0) {
  if (opts.inPlace) fail(`failed; ${notebook} left as it was, the partial run is in ${out}`, 1);
  process.exit(run.status ?? 1);
}
if (opts.inPlace) {
  fs.copyFileSync(out, notebook);
  fs.unlinkSync(out);
  process.stderr.write(`notebook: ${path.relative(ROOT, notebook)} now holds the executed run\n`);
} else {
  process.stderr.write(`notebook: executed notebook in ${path.relative(process.cwd(), out)}\n`);
}
