/**
 * The run directory's format, owned here and nowhere else: the files a run
 * holds, the types of `config.json`, of a `metrics.jsonl` line and of
 * `eval.json`, the seed the test set is binarised with, and parsers that
 * check what they read and name the file and field at fault. Pure functions
 * of text (no Node imports), so the viewer in the browser reads a run with the
 * same code as the command line; the CLI's `run/` module does the file I/O.
 */
import { OBJECTIVES, vaeLayers, type Objective, type VaeShape } from './model.js';

/** The files of a run directory, by role. */
export const RUN_FILES = {
  config: 'config.json',
  checkpoint: 'checkpoint.zsck',
  metrics: 'metrics.jsonl',
  eval: 'eval.json',
  evalValid: 'eval-valid.json',
  samples: 'samples.png',
  reconstructions: 'reconstructions.png',
} as const;

/**
 * Whose temporary file `name` is: the process id in a `<file>.tmp-<pid>` (or
 * `<file>.tmp-<pid>-<n>`) name, how every file of a run is written before it
 * is renamed into place; undefined for any other name. A temp file whose
 * process is gone is stale.
 */
export function tempFileOwner(name: string): number | undefined {
  const m = /\.tmp-(\d+)(?:-\d+)?$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

/**
 * Bounds on a run's sizes. `train` checks its flags against them, and every
 * reader of `config.json` checks the file, before anything is allocated; the
 * command-line flags with the same names document them.
 */
export const RUN_LIMITS = {
  epochs: 100_000,
  batchSize: 65_536,
  zDim: 1_024,
  hidden: 4_096,
  /** Samples of z per image in the training objective. */
  particles: 1_000,
  /** Pixels per image (a 1024×1024 image). */
  xDim: 1_048_576,
  sampleEvery: 100_000,
  lrDecayEvery: 100_000,
  /** Float32 weights of the model (512 MiB; Adam keeps two more copies). */
  parameters: 2 ** 27,
  /**
   * Float32 values of a training step's widest activation,
   * batchSize × particles × max(hidden, xDim) (512 MiB; a step keeps a few).
   */
  stepValues: 2 ** 27,
} as const;

/** The number of float32 weights of a VAE of this shape. */
export function vaeParameterCount(shape: VaeShape): number {
  return vaeLayers(shape).reduce((s, l) => s + (l.inDim + 1) * l.outDim, 0);
}

/**
 * Why a run of this size would not fit the {@link RUN_LIMITS} on its weights
 * and on one training step's activations, or undefined when it fits. The
 * message names the flags to lower.
 */
export function runSizeProblem(
  cfg: Pick<RunConfig, 'xDim' | 'zDim' | 'hidden' | 'batchSize' | 'particles'>,
): string | undefined {
  const params = vaeParameterCount(cfg);
  if (params > RUN_LIMITS.parameters) {
    return (
      `--hidden ${cfg.hidden} and --z-dim ${cfg.zDim} with ${cfg.xDim}-pixel images make ` +
      `${params} weights, above the ${RUN_LIMITS.parameters} a run may have (lower --hidden)`
    );
  }
  const step = cfg.batchSize * cfg.particles * Math.max(cfg.hidden, cfg.xDim);
  if (step > RUN_LIMITS.stepValues) {
    return (
      `--batch-size ${cfg.batchSize} × --particles ${cfg.particles} × ${Math.max(cfg.hidden, cfg.xDim)} ` +
      `units = ${step} values per activation, above the ${RUN_LIMITS.stepValues} a training step ` +
      'may hold (lower --batch-size or --particles)'
    );
  }
  return undefined;
}

/**
 * The seed of the test set's one-time binarisation (and of the images the
 * viewer and `sample` show): the same for every run, so every evaluation
 * scores the same binary images.
 */
export const TEST_BINARIZATION_SEED = 1234;

/** A run's training configuration: what `config.json` holds. */
export interface RunConfig extends VaeShape {
  /** `mnist` or a directory of IDX files. */
  dataset: string;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Multiply the learning rate by this factor every `lrDecayEvery` epochs (1 = constant). */
  lrDecay: number;
  lrDecayEvery: number;
  objective: Objective;
  /** Samples of z per image in the training objective. */
  particles: number;
  seed: number;
  /** Training images held out as a validation split (0 = none). */
  validation: number;
  /** Write `samples-epoch-NNNN.png` every this many epochs (0 = only at the end). */
  sampleEvery: number;
  /** The backend the run was started on (informational). */
  backend?: string;
  /** The command line that made the run (informational). */
  command?: string;
  /** Each `train --resume` that continued the run, in order (provenance). */
  resumes?: RunResume[];
}

/** One `train --resume` of a run, as `config.json` records it. */
export interface RunResume {
  /** The command line. */
  command: string;
  /** The checkpoint's epoch it continued from. */
  fromEpoch: number;
  /** The epoch total it asked for. */
  epochs: number;
}

/** One line of `metrics.jsonl`: one completed epoch. */
export interface EpochMetrics {
  epoch: number;
  /** The training bound averaged over the epoch's batches (ELBO or IW bound). */
  train_elbo: number;
  /** Mean ELBO (1 particle) of the validation images, when the run has them. */
  valid_elbo?: number;
  epoch_seconds: number;
  /** Training seconds so far, over all epochs. */
  seconds: number;
  /** Optimizer steps so far. */
  steps: number;
  lr: number;
  backend: string;
  objective: Objective;
}

/** Evaluation results; field names are the `eval --json` contract. */
export interface EvalResult {
  test_elbo: number;
  /** IS log-likelihood, nats, averaged over images. */
  test_ll: number;
  /**
   * Monte-Carlo standard error of `test_ll` from a split of each image's
   * particles into two independent groups A and B (alternate chunks): the
   * difference of the groups' own estimates, d = L_A − L_B, has variance
   * σ²(1/K_A + 1/K_B), so σ²/K, the variance of the K-particle estimate, is
   * estimated per image by d² / (1/K_A + 1/K_B) / K; summed over images,
   * square-rooted, divided by the image count. Unlike the delta method it
   * sees the weights' heavy tails as far as K/2 particles reach. 0 when K = 1.
   */
  test_ll_stderr: number;
  /**
   * The delta-method standard error, var ≈ (mean(w²)/mean(w)² − 1)/K per
   * image: it uses the sample variance of the weights and understated the
   * seed-to-seed spread ~1.4× on MNIST (docs/evaluation.md). Absent from
   * files written before 2026-11-25, whose `test_ll_stderr` is this value.
   */
  test_ll_stderr_delta?: number;
  /** Standard deviation of the per-image IS-LL across images, divided by sqrt(n). */
  test_ll_sem_over_images: number;
  particles: number;
  n_test: number;
  seconds: number;
}

/** Which images an evaluation used. */
export type EvalSplit = 'test' | 'valid';

/**
 * What `eval --json` prints and `eval.json` holds. With `split` 'valid' the
 * `test_*` and `n_test` fields hold the validation images' figures (files
 * without `split` are test evaluations).
 */
export interface EvalReport extends EvalResult {
  /** Epochs the evaluated checkpoint had completed. */
  epoch: number;
  backend: string;
  dataset: string;
  split?: EvalSplit;
}

/** A run file whose content is wrong; the message names the file (and line) and the field. */
export class RunFormatError extends Error {
  override name = 'RunFormatError';
}

type Json = Record<string, unknown>;

/**
 * What a JSON parse error says, without the text it quotes (a file's content
 * has no place in a message) and on one printable line.
 */
function jsonErrorReason(err: unknown): string {
  return String((err as Error).message ?? err)
    .replace(/,?\s*"[\s\S]*"(\.\.\.)? is not valid JSON$/, '')
    .replace(/[^\x20-\x7e]/g, '?');
}

function parseObject(text: string, where: string): Json {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new RunFormatError(`${where}: invalid JSON (${jsonErrorReason(err)})`);
  }
  return asObject(v, where);
}

function asObject(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new RunFormatError(`${where}: expected a JSON object`);
  }
  return v as Json;
}

/** A value for a message: JSON, at most 60 characters, printable. */
function quote(v: unknown): string {
  const s = JSON.stringify(v) ?? 'nothing';
  return (s.length > 60 ? `${s.slice(0, 57)}...` : s).replace(/[^\x20-\x7e]/g, '?');
}

/** Checks fields of a parsed object; each check names the file and the field. */
class Fields {
  constructor(
    private readonly o: Json,
    private readonly where: string,
  ) {}

  private fail(key: string, want: string): never {
    throw new RunFormatError(
      `${this.where}: field '${key}' must be ${want}, got ${quote(this.o[key])}`,
    );
  }

  number(
    key: string,
    opts: { integer?: boolean; min?: number; max?: number; optional?: boolean } = {},
  ): void {
    const v = this.o[key];
    if (v === undefined && opts.optional) return;
    const want = `${opts.integer ? 'an integer' : 'a finite number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}`;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, want);
    if (opts.integer && !Number.isInteger(v)) this.fail(key, want);
    if (opts.min !== undefined && v < opts.min) this.fail(key, want);
    if (opts.max !== undefined && v > opts.max) {
      this.fail(key, `${opts.integer ? 'an integer' : 'a number'} ≤ ${opts.max}`);
    }
  }

  string(key: string, opts: { optional?: boolean; oneOf?: readonly string[] } = {}): void {
    const v = this.o[key];
    if (v === undefined && opts.optional) return;
    const want = opts.oneOf ? `one of ${opts.oneOf.join('|')}` : 'a string';
    if (typeof v !== 'string' || (opts.oneOf !== undefined && !opts.oneOf.includes(v))) {
      this.fail(key, want);
    }
  }
}

/**
 * Parses and checks a run's `config.json`.
 * @param where the file's name, for messages.
 * @throws RunFormatError naming the file and the field at fault.
 */
export function parseRunConfig(text: string, where: string): RunConfig {
  const o = parseObject(text, where);
  const f = new Fields(o, where);
  for (const k of ['xDim', 'zDim', 'hidden', 'epochs', 'batchSize', 'particles'] as const) {
    f.number(k, { integer: true, min: 1, max: RUN_LIMITS[k] });
  }
  for (const k of ['lrDecayEvery', 'sampleEvery'] as const) {
    f.number(k, { integer: true, min: 0, max: RUN_LIMITS[k] });
  }
  for (const k of ['seed', 'validation']) f.number(k, { integer: true, min: 0 });
  for (const k of ['lr', 'lrDecay']) f.number(k);
  f.string('objective', { oneOf: OBJECTIVES });
  f.string('dataset');
  f.string('backend', { optional: true });
  f.string('command', { optional: true });
  const size = runSizeProblem(o as unknown as RunConfig);
  if (size !== undefined) throw new RunFormatError(`${where}: ${size}`);
  if (o.resumes !== undefined) {
    if (!Array.isArray(o.resumes)) {
      throw new RunFormatError(
        `${where}: field 'resumes' must be an array, got ${quote(o.resumes)}`,
      );
    }
    o.resumes.forEach((r: unknown, i: number) => {
      const g = new Fields(asObject(r, `${where}: resumes[${i}]`), `${where}: resumes[${i}]`);
      g.string('command');
      g.number('fromEpoch', { integer: true, min: 0 });
      g.number('epochs', { integer: true, min: 1 });
    });
  }
  return o as unknown as RunConfig;
}

/**
 * Parses and checks one line of `metrics.jsonl`.
 * @param where the file's name and line, for messages (e.g. `run/metrics.jsonl:3`).
 * @throws RunFormatError naming the file, line and field at fault.
 */
export function parseMetricsLine(line: string, where: string): EpochMetrics {
  return checkMetrics(parseObject(line, where), where);
}

/**
 * Checks an already parsed metrics record (a checkpoint's history holds them).
 * @throws RunFormatError naming `where` and the field at fault.
 */
export function checkMetrics(value: unknown, where: string): EpochMetrics {
  const o = asObject(value, where);
  const f = new Fields(o, where);
  f.number('epoch', { integer: true, min: 1 });
  f.number('steps', { integer: true, min: 0 });
  for (const k of ['train_elbo', 'epoch_seconds', 'seconds', 'lr']) f.number(k);
  f.number('valid_elbo', { optional: true });
  f.string('backend');
  f.string('objective', { oneOf: OBJECTIVES });
  return o as unknown as EpochMetrics;
}

/**
 * Parses and checks the lines of a `metrics.jsonl` (blank lines skipped).
 * Epochs must increase by one from the first line.
 * @throws RunFormatError naming the file, line and field at fault.
 */
export function parseMetrics(text: string, file: string): EpochMetrics[] {
  const out: EpochMetrics[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const m = parseMetricsLine(line, `${file}:${i + 1}`);
    const prev = out.at(-1);
    if (prev !== undefined && m.epoch !== prev.epoch + 1) {
      throw new RunFormatError(
        `${file}:${i + 1}: epoch ${m.epoch} follows epoch ${prev.epoch} (lines out of order or repeated)`,
      );
    }
    out.push(m);
  });
  return out;
}

/** `metrics.jsonl`'s line for one epoch, newline included: the one way lines are written. */
export function formatMetricsLine(m: EpochMetrics): string {
  return `${JSON.stringify(m)}\n`;
}

/**
 * Parses and checks an evaluation file (`eval.json`, `eval-valid.json`, `eval-<K>.json`).
 * @throws RunFormatError naming the file and the field at fault.
 */
export function parseEvalReport(text: string, where: string): EvalReport {
  const o = parseObject(text, where);
  const f = new Fields(o, where);
  for (const k of [
    'test_elbo',
    'test_ll',
    'test_ll_stderr',
    'test_ll_sem_over_images',
    'seconds',
  ]) {
    f.number(k);
  }
  f.number('test_ll_stderr_delta', { optional: true });
  f.number('particles', { integer: true, min: 1 });
  f.number('n_test', { integer: true, min: 1 });
  f.number('epoch', { integer: true, min: 0 });
  f.string('backend');
  f.string('dataset');
  f.string('split', { optional: true, oneOf: ['test', 'valid'] });
  return o as unknown as EvalReport;
}
