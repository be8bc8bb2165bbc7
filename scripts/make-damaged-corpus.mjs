#!/usr/bin/env node
// Builds the corpus of damaged inputs the CLI must refuse cleanly (exit 1 or
// 2, one line naming the file or flag and what is wrong, within seconds, in
// bounded memory): packages/cli/test/corpus/. Deterministic; the committed
// copy is this script's output, and packages/cli/test/cli/corpus.test.ts
// checks both that and every case.
//   npm run build && node scripts/make-damaged-corpus.mjs [OUT_DIR]
//
// Layout: base/data (a valid 6x6-pixel IDX dataset), base/run (a valid run:
// config.json with @DATA@ for the dataset's path, a ZSCK0002 checkpoint of
// 3 epochs, metrics.jsonl, eval.json), cases/<name>/ (files laid over a copy
// of base/run or base/data; symlinks are committed as symlinks), and
// cases.json: per case the command (placeholders {run}, {data}, {tmp},
// {case}), the overlay's target, the FIFOs to make (git cannot hold one),
// the exit code and a pattern the one-line message must match.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { saveCheckpoint } from '../packages/cli/dist/src/run/checkpoint.js';
import { vaeLayers } from '../packages/vae/dist/src/index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(repo, 'packages/cli/test/corpus'));
fs.rmSync(out, { recursive: true, force: true });

// ---- deterministic bytes -------------------------------------------------
let seed = 12345;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;

function idx(dtype, dims, payload) {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = dtype;
  h[3] = dims.length;
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([h, Buffer.from(payload)]);
}

// ---- the valid base --------------------------------------------------------
const ROWS = 6;
const COLS = 6;
const images = (n) => Uint8Array.from({ length: n * ROWS * COLS }, () => Math.floor(rand() * 256));
const labels = (n) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 10));
const N_TRAIN = 20;
const data = {
  'train-images-idx3-ubyte': idx(8, [N_TRAIN, ROWS, COLS], images(N_TRAIN)),
  'train-labels-idx1-ubyte': idx(8, [N_TRAIN], labels(N_TRAIN)),
  't10k-images-idx3-ubyte': idx(8, [10, ROWS, COLS], images(10)),
  't10k-labels-idx1-ubyte': idx(8, [10], labels(10)),
};
const config = {
  dataset: '@DATA@',
  epochs: 3,
  batchSize: 10,
  xDim: ROWS * COLS,
  zDim: 2,
  hidden: 4,
  lr: 0.001,
  lrDecay: 1,
  lrDecayEvery: 0,
  objective: 'elbo',
  particles: 1,
  seed: 1,
  validation: 0,
  sampleEvery: 0,
  backend: 'cpu',
  command: 'zhusuan train (the damaged-input corpus base, scripts/make-damaged-corpus.mjs)',
};
const history = [1, 2, 3].map((epoch) => ({
  epoch,
  train_elbo: -30 + epoch,
  epoch_seconds: 0.5,
  seconds: 0.5 * epoch,
  steps: 2 * epoch,
  lr: 0.001,
  backend: 'cpu',
  objective: 'elbo',
}));
const weights = vaeLayers(config).flatMap((l) => [
  {
    name: `${l.name}/kernel`,
    shape: [l.inDim, l.outDim],
    data: Float32Array.from({ length: l.inDim * l.outDim }, () => (rand() - 0.5) * 0.5),
  },
  { name: `${l.name}/bias`, shape: [l.outDim], data: new Float32Array(l.outDim) },
]);
const checkpoint = {
  epoch: 3,
  step: 6,
  state: {
    optimizerIterations: 6,
    zsRandom: { s: [1, 2, 3, 4] },
    dataRng: [5, 6, 7, 8],
    seconds: 1.5,
    backend: 'cpu',
    gridDue: true,
  },
  weights,
  optimizer: [...weights, ...weights].map((w, i) => ({
    name: `slot${i}`,
    shape: w.shape,
    data: new Float32Array(w.data.length),
  })),
  history,
};
const evalJson = {
  test_elbo: -31.5,
  test_ll: -30.25,
  test_ll_stderr: 0.05,
  test_ll_sem_over_images: 0.5,
  particles: 2,
  n_test: 10,
  seconds: 0.1,
  epoch: 3,
  backend: 'cpu',
  dataset: '@DATA@',
  split: 'test',
};

const json = (o) => `${JSON.stringify(o, null, 2)}\n`;
const write = (file, bytes) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
};
for (const [name, bytes] of Object.entries(data)) write(path.join(out, 'base/data', name), bytes);
const baseRun = path.join(out, 'base/run');
write(path.join(baseRun, 'config.json'), json(config));
write(path.join(baseRun, 'metrics.jsonl'), history.map((m) => `${JSON.stringify(m)}\n`).join(''));
write(path.join(baseRun, 'eval.json'), json(evalJson));
saveCheckpoint(path.join(baseRun, 'checkpoint.zsck'), checkpoint);
const ck = fs.readFileSync(path.join(baseRun, 'checkpoint.zsck'));

// ---- checkpoint surgery ---------------------------------------------------
/** The parts of a ZSCK0002 file: header object and tensor bytes. */
function split(buf) {
  const len = buf.readUInt32LE(8);
  return { header: JSON.parse(buf.toString('utf8', 44, 44 + len)), data: buf.subarray(44 + len) };
}
/** Encodes a ZSCK0002 file with valid digests (or a ZSCK0001 file without). */
function encode(header, tensorBytes, magic = 'ZSCK0002') {
  const v2 = magic === 'ZSCK0002';
  const h = { ...header };
  if (v2) h.dataSha256 = createHash('sha256').update(tensorBytes).digest('hex');
  else delete h.dataSha256;
  let text = Buffer.from(JSON.stringify(h));
  const start = v2 ? 44 : 12;
  text = Buffer.concat([text, Buffer.alloc((4 - ((start + text.length) % 4)) % 4, 0x20)]);
  const prefix = Buffer.alloc(12);
  prefix.write(magic, 0, 'latin1');
  prefix.writeUInt32LE(text.length, 8);
  const digest = v2 ? [createHash('sha256').update(text).digest()] : [];
  return Buffer.concat([prefix, ...digest, text, tensorBytes]);
}
const base = split(ck);
const withData = (f) => {
  const d = Buffer.from(base.data);
  f(new Float32Array(d.buffer, d.byteOffset, d.length / 4));
  return d;
};
const flip = (buf, at, bit = 0) => {
  const b = Buffer.from(buf);
  b[at] ^= 1 << bit;
  return b;
};
const headerLen = ck.readUInt32LE(8);

// ---- the cases ----------------------------------------------------------------
const cases = [];
/**
 * @param name directory name under cases/
 * @param target 'run' or 'data': what the files are laid over
 * @param files name -> bytes | { symlink } | { fifo: true } | { directory: true }
 * @param command argv with placeholders
 * @param exit expected exit code
 * @param pattern regular expression the one-line message must match
 */
function add(name, target, files, command, exit, pattern) {
  const fifos = [];
  const directories = [];
  const dir = path.join(out, 'cases', name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    const p = path.join(dir, file);
    if (content.symlink) fs.symlinkSync(content.symlink, p);
    else if (content.fifo) fifos.push(file);
    else if (content.directory) directories.push(file);
    else fs.writeFileSync(p, content);
  }
  // git keeps no empty directory: a case of FIFOs or flags only has a README.
  if (fs.readdirSync(dir).length === 0) {
    fs.writeFileSync(path.join(dir, 'README'), `${name}: see cases.json\n`);
  }
  cases.push({ name, target, fifos, directories, command, exit, pattern });
}

const EVAL = ['eval', '--run', '{run}', '--particles', '2', '--limit', '4', '--backend', 'cpu'];
const TRAIN = ['train', '--run', '{tmp}/run', '--dataset', '{data}', '--epochs', '1'].concat([
  '--hidden',
  '4',
  '--z-dim',
  '2',
  '--batch-size',
  '10',
  '--backend',
  'cpu',
]);
const REPORT = ['report', '--run', '{run}', '--out', '{tmp}/report.pdf'];

// IDX files, read by `train` (train-images unless said otherwise).
const img = data['train-images-idx3-ubyte'];
const TI = 'train-images-idx3-ubyte';
const TL = 'train-labels-idx1-ubyte';
const idxCase = (name, files, pattern) => add(`idx-${name}`, 'data', files, TRAIN, 1, pattern);
idxCase('too-short', { [TI]: img.subarray(0, 3) }, `${TI}: truncated: 3 bytes`);
idxCase('truncated-header', { [TI]: img.subarray(0, 10) }, `${TI}: truncated header`);
idxCase('truncated-data', { [TI]: img.subarray(0, 400) }, `${TI}: truncated: header says 20x6x6`);
idxCase(
  'trailing-bytes',
  { [TI]: Buffer.concat([img, Buffer.alloc(7)]) },
  `${TI}: 7 trailing bytes`,
);
idxCase('flipped-magic', { [TI]: flip(img, 0, 3) }, `${TI}: bad magic number 0x08`);
idxCase('flipped-dtype', { [TI]: flip(img, 2, 1) }, `${TI}: unknown data type code 0x0a`);
idxCase(
  'float32-images',
  { [TI]: idx(0x0d, [1, 6, 6], new Uint8Array(144)) },
  `${TI}: data type float32`,
);
idxCase('flipped-rank', { [TI]: flip(img, 3, 2) }, `${TI}: rank 7 in header, expected 3`);
idxCase(
  'huge-dims',
  { [TI]: idx(8, [60000, 28, 28], new Uint8Array(64)) },
  `${TI}: truncated: header says 60000x28x28 = 47040000`,
);
idxCase(
  'dims-past-limit',
  { [TI]: idx(8, [4294967295, 4294967295, 4294967295], new Uint8Array(64)) },
  `${TI}: header declares .* more than the 1073741824`,
);
idxCase('zero-images', { [TI]: idx(8, [0, 6, 6], []) }, `${TI}: holds no images`);
idxCase('zero-rows', { [TI]: idx(8, [20, 0, 6], []) }, `${TI}: empty images`);
idxCase(
  'gzip-bomb',
  // Declares 20x6x6 (736 bytes) and decompresses to 100 MB.
  {
    [TI]: gzipSync(Buffer.concat([idx(8, [20, 6, 6], new Uint8Array(720)), Buffer.alloc(100e6)]), {
      level: 9,
    }),
  },
  `${TI}: decompresses to more than the 736 bytes its header declares`,
);
idxCase(
  'gzip-bomb-huge-header',
  {
    [TI]: gzipSync(Buffer.concat([idx(8, [100000, 100, 200], []), Buffer.alloc(20e6)]), {
      level: 9,
    }),
  },
  `${TI}: header declares 100000x100x200 = 2000000000 bytes of data, more than`,
);
idxCase(
  'gzip-truncated',
  { [TI]: gzipSync(img).subarray(0, 40) },
  `${TI}: (corrupt gzip data|truncated)`,
);
idxCase(
  'gzip-garbage',
  { [TI]: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) },
  `${TI}: corrupt gzip data`,
);
idxCase('fifo', { [TI]: { fifo: true } }, `${TI}: a FIFO, not a regular file`);
idxCase(
  'dev-zero',
  { [TI]: { symlink: '/dev/zero' } },
  `${TI}: a character device, not a regular file`,
);
idxCase('directory', { [TI]: { directory: true } }, `${TI}: a directory, not a regular file`);
idxCase(
  'labels-count',
  { [TL]: idx(8, [19], labels(19)) },
  `${TL}: 19 labels, but the image file has 20 images`,
);
idxCase(
  'labels-range',
  { [TL]: idx(8, [20], new Uint8Array(20).fill(11)) },
  `${TL}: label 11 at index 0 is out of range`,
);
idxCase('labels-truncated', { [TL]: data[TL].subarray(0, 15) }, `${TL}: truncated`);
idxCase('labels-fifo', { [TL]: { fifo: true } }, `${TL}: a FIFO`);

// Checkpoints, read by `eval` (and `sample`, `serve` through the same loader).
const CK = 'checkpoint.zsck';
const ckCase = (name, bytes, pattern, command = EVAL, exit = 1) =>
  add(`checkpoint-${name}`, 'run', { [CK]: bytes }, command, exit, pattern);
ckCase('too-short', ck.subarray(0, 5), `${CK}: not a zhusuan checkpoint`);
ckCase('bad-magic', flip(ck, 7, 2), `${CK}: not a zhusuan checkpoint \\(bad magic\\)`);
ckCase('truncated-header', ck.subarray(0, 100), `${CK}: truncated header`);
ckCase('truncated-data', ck.subarray(0, ck.length - 10), `${CK}: truncated: the header declares`);
ckCase(
  'extra-bytes',
  Buffer.concat([ck, Buffer.alloc(4)]),
  `${CK}: the header declares .* the file has`,
);
ckCase(
  'header-length-huge',
  (() => {
    const b = Buffer.from(ck);
    b.writeUInt32LE(0xfffffff0, 8);
    return b;
  })(),
  `${CK}: corrupt header: declares 4294967280 bytes`,
);
ckCase('flipped-header-bit', flip(ck, 60, 0), `${CK}: header checksum mismatch`);
ckCase('flipped-header-digest', flip(ck, 20, 5), `${CK}: header checksum mismatch`);
ckCase('flipped-weight-bit', flip(ck, 44 + headerLen + 17, 6), `${CK}: data checksum mismatch`);
ckCase('flipped-last-bit', flip(ck, ck.length - 1, 7), `${CK}: data checksum mismatch`);
ckCase(
  'nan-weights',
  encode(
    base.header,
    withData((f) => f.fill(NaN, 0, 12)),
  ),
  `${CK}: tensor gen/h1/kernel holds NaN at index 0`,
);
ckCase(
  'inf-weight',
  encode(
    base.header,
    withData((f) => (f[20] = Infinity)),
  ),
  `${CK}: tensor gen/h2/kernel holds Infinity at index 8`,
);
ckCase(
  'all-nan',
  encode(
    base.header,
    withData((f) => f.fill(NaN)),
  ),
  `${CK}: tensor gen/h1/kernel holds NaN`,
);
ckCase(
  'v1-nan-weights',
  encode(
    base.header,
    withData((f) => (f[3] = NaN)),
    'ZSCK0001',
  ),
  `${CK}: tensor gen/h1/kernel holds NaN at index 3`,
);
ckCase(
  'epoch-not-a-number',
  encode({ ...base.header, epoch: 'three' }, base.data),
  `${CK}: corrupt header: 'epoch' must be an integer`,
);
ckCase(
  'epoch-negative',
  encode({ ...base.header, epoch: -1 }, base.data),
  `${CK}: corrupt header: 'epoch'`,
);
ckCase(
  'history-short',
  encode({ ...base.header, history: history.slice(0, 2) }, base.data),
  `${CK}: corrupt header: 'history' has 2 epochs, the checkpoint 3`,
);
ckCase(
  'history-nan',
  encode(
    { ...base.header, history: [history[0], { ...history[1], train_elbo: null }, history[2]] },
    base.data,
  ),
  `${CK}: history\\[1\\]: field 'train_elbo' must be a finite number`,
);
ckCase(
  'tensor-offset',
  encode(
    {
      ...base.header,
      tensors: base.header.tensors.map((t, i) => (i === 1 ? { ...t, offset: t.offset + 1 } : t)),
    },
    base.data,
  ),
  `${CK}: corrupt header: tensor gen/h1/bias starts at`,
);
ckCase(
  'huge-shape',
  encode(
    {
      ...base.header,
      tensors: base.header.tensors.map((t, i) =>
        i === 0 ? { ...t, shape: [2147483648, 2147483648] } : t,
      ),
    },
    base.data,
  ),
  `${CK}: corrupt header: (tensor .* shape|tensor gen/h1/kernel declares)`,
);
ckCase(
  'wrong-shape',
  encode(
    {
      ...base.header,
      tensors: base.header.tensors.map((t, i) => (i === 0 ? { ...t, shape: [4, 2] } : t)),
    },
    base.data,
  ),
  `${CK}: tensor 0 is gen/h1/kernel \\[4,2\\], the model expects gen/h1/kernel \\[2,4\\]`,
);
ckCase(
  'bad-rng-state',
  encode({ ...base.header, state: { ...base.header.state, zsRandom: { s: [1, 2] } } }, base.data),
  `${CK}: corrupt state: 'zsRandom'`,
);
ckCase(
  'v1-not-json-header',
  (() => {
    const b = encode(base.header, base.data, 'ZSCK0001');
    b.write('!', 12);
    return b;
  })(),
  `${CK}: corrupt header \\(invalid JSON\\)`,
);
ckCase('fifo', { fifo: true }, `${CK}: a FIFO, not a regular file`);
ckCase('dev-zero', { symlink: '/dev/zero' }, `${CK}: a character device, not a regular file`);
ckCase('directory', { directory: true }, `${CK}: a directory, not a regular file`);
ckCase('dangling-symlink', { symlink: '/nonexistent/checkpoint.zsck' }, `${CK}.* not found`);
ckCase(
  'weights-only-resume',
  encode(
    { ...base.header, tensors: base.header.tensors.slice(0, 14) },
    base.data.subarray(0, base.data.length / 3),
  ),
  `${CK}: holds weights only`,
  ['train', '--run', '{run}', '--resume', '--epochs', '4', '--backend', 'cpu'],
);
ckCase(
  'sample-nan',
  encode(
    base.header,
    withData((f) => (f[0] = NaN)),
  ),
  `${CK}: tensor gen/h1/kernel holds NaN`,
  ['sample', '--run', '{run}', '--backend', 'cpu'],
);

// config.json, read by every command.
const CF = 'config.json';
const cfCase = (name, bytes, pattern, exit = 1) =>
  add(`config-${name}`, 'run', { [CF]: bytes }, EVAL, exit, pattern);
const cfg = (patch) => json({ ...config, ...patch });
cfCase('invalid-json', '{"dataset": "@DATA@", "epochs": 3,', `${CF}: invalid JSON`);
cfCase(
  'binary',
  Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x1b, 0x5b, 0x32, 0x4a]),
  `${CF}: invalid JSON`,
);
cfCase('array', '[1, 2, 3]\n', `${CF}: expected a JSON object`);
cfCase(
  'hidden-huge',
  cfg({ hidden: 1e8 }),
  `${CF}: field 'hidden' must be an integer ≤ 4096, got 100000000`,
);
cfCase(
  'zdim-string',
  cfg({ zDim: 'forty' }),
  `${CF}: field 'zDim' must be an integer ≥ 1, got "forty"`,
);
cfCase('xdim-huge', cfg({ xDim: 1e12 }), `${CF}: field 'xDim' must be an integer ≤ 1048576`);
cfCase(
  'epochs-missing',
  cfg({ epochs: undefined }),
  `${CF}: field 'epochs' must be an integer ≥ 1, got nothing`,
);
cfCase(
  'step-too-big',
  cfg({ batchSize: 65536, particles: 1000 }),
  `${CF}: --batch-size 65536 × --particles 1000`,
);
cfCase(
  'weights-too-many',
  cfg({ hidden: 4096, xDim: 1048576 }),
  `${CF}: --hidden 4096 and --z-dim 2 with 1048576-pixel images`,
);
cfCase(
  'objective',
  cfg({ objective: 'mle' }),
  `${CF}: field 'objective' must be one of elbo\\|iwae\\|vimco`,
);
cfCase('resumes-type', cfg({ resumes: 'yes' }), `${CF}: field 'resumes' must be an array`);
cfCase(
  'long-string',
  cfg({ dataset: 7, command: 'x'.repeat(5000) }),
  `${CF}: field 'dataset' must be a string, got 7$`,
);
cfCase(
  'too-big',
  `{"pad": "${'x'.repeat(1100000)}"}`,
  `${CF}: \\d+ bytes, more than the 1048576 a config may have`,
);
cfCase('fifo', { fifo: true }, `${CF}: a FIFO, not a regular file`);
cfCase('dev-zero', { symlink: '/dev/zero' }, `${CF}: a character device, not a regular file`);

// metrics.jsonl and eval.json, read by `report` before it typesets anything.
const MJ = 'metrics.jsonl';
const lines = history.map((m) => JSON.stringify(m));
const mjCase = (name, bytes, pattern) =>
  add(`metrics-${name}`, 'run', { [MJ]: bytes }, REPORT, 1, pattern);
mjCase('torn-line', `${lines[0]}\n${lines[1]}\n{"epoch": 3, "train_el`, `${MJ}:3: invalid JSON`);
mjCase(
  'out-of-order',
  `${lines[0]}\n${lines[2]}\n${lines[1]}\n`,
  `${MJ}:2: epoch 3 follows epoch 1`,
);
mjCase(
  'nan',
  `${lines[0]}\n${lines[1].replace('"train_elbo":-28', '"train_elbo":NaN')}\n`,
  `${MJ}:2: invalid JSON`,
);
mjCase(
  'null',
  `${lines[0]}\n${lines[1].replace('"train_elbo":-28', '"train_elbo":null')}\n`,
  `${MJ}:2: field 'train_elbo' must be a finite number, got null`,
);
mjCase('binary', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0a, 0x00, 0x01]), `${MJ}:1: invalid JSON`);
mjCase('fifo', { fifo: true }, `${MJ}: a FIFO, not a regular file`);
const EJ = 'eval.json';
const ejCase = (name, bytes, pattern) =>
  add(`eval-${name}`, 'run', { [EJ]: bytes }, REPORT, 1, pattern);
ejCase('invalid-json', '{"test_ll": ', `${EJ}: invalid JSON`);
ejCase(
  'nan',
  json({ ...evalJson, test_ll: null }),
  `${EJ}: field 'test_ll' must be a finite number, got null`,
);
ejCase('fifo', { fifo: true }, `${EJ}: a FIFO, not a regular file`);

// Flags: usage errors (exit 2) naming the flag, before anything is allocated.
const flagCase = (name, command, pattern, exit = 2) =>
  add(`flag-${name}`, 'run', {}, command, exit, pattern);
const T = (...a) => [
  'train',
  '--run',
  '{tmp}/run',
  '--dataset',
  '{data}',
  '--backend',
  'cpu',
  ...a,
];
flagCase('epochs-hex', T('--epochs', '0x2'), "--epochs: expected a number, got '0x2'");
flagCase('epochs-binary', T('--epochs', '0b11'), "--epochs: expected a number, got '0b11'");
flagCase('epochs-infinity', T('--epochs', 'Infinity'), '--epochs: expected a number');
flagCase('epochs-huge', T('--epochs', '1e9'), '--epochs: must be at most 100000');
flagCase('hidden-huge', T('--hidden', '1e8'), '--hidden: must be at most 4096, got 100000000');
flagCase('z-dim-huge', T('--z-dim', '1e9'), '--z-dim: must be at most 1024');
flagCase('batch-size-huge', T('--batch-size', '1e12'), '--batch-size: must be at most 65536');
flagCase('particles-huge', T('--particles', '100000'), '--particles: must be at most 1000');
flagCase(
  'step-too-big',
  T('--batch-size', '65536', '--particles', '1000'),
  '--batch-size 65536 × --particles 1000',
);
flagCase('lr-nan', T('--lr', 'NaN'), "--lr: expected a number, got 'NaN'");
flagCase('seed-negative', T('--seed', '-1'), '--seed: must be at least 0');
flagCase(
  'validation-all',
  T('--validation', '20'),
  '--validation: 20 must be below the 20 training images',
);
flagCase(
  'run-is-file',
  ['train', '--run', '{run}/config.json', '--dataset', '{data}', '--backend', 'cpu'],
  '--run: .*config.json exists and is not a directory',
);
flagCase(
  'resume-fewer-epochs',
  ['train', '--run', '{run}', '--resume', '--epochs', '1', '--backend', 'cpu'],
  '--epochs 1: .*checkpoint.zsck has already completed 3 epochs',
);
flagCase(
  'eval-particles-huge',
  ['eval', '--run', '{run}', '--particles', '1e9', '--limit', '1'],
  '--particles: must be at most 100000',
);
flagCase(
  'eval-out-unwritable',
  [...EVAL, '--out', '/nonexistent/dir/eval.json'],
  '--out: directory /nonexistent/dir does not exist',
);
add(
  'flag-eval-out-directory',
  'run',
  { 'out.json': { directory: true } },
  [...EVAL, '--out', '{run}/out.json'],
  2,
  '--out: .*out.json is a directory',
);
flagCase(
  'sample-out-unwritable',
  ['sample', '--run', '{run}', '--out', '/nonexistent/s.png', '--backend', 'cpu'],
  '--out: directory /nonexistent does not exist',
);
flagCase('sample-n-huge', ['sample', '--run', '{run}', '--n', '1e6'], '--n: must be at most 10000');
flagCase(
  'serve-port',
  ['serve', '--run', '{run}', '--port', '0x50'],
  "--port: expected a number, got '0x50'",
);

fs.writeFileSync(path.join(out, 'cases.json'), `${JSON.stringify(cases, null, 1)}\n`);
process.stderr.write(`${out}: ${cases.length} cases\n`);
