/**
 * `zhusuan eval`: test ELBO and importance-sampling log-likelihood of a run;
 * with `--split valid`, the same on the run's held-out validation images.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { parseFlags, required, UsageError, type FlagTable } from '../args.js';
import { BACKEND_CHOICES, useBackend, type BackendChoice } from '../backend.js';
import { binarizeOnce, hasSplit, loadDataset, toFloat, trainValidSplit } from '../data/index.js';
import { ProgressBar, formatDuration } from '../progress.js';
import { evaluate, type EvalResult } from '../vae/evaluate.js';
import { openRun, writeJson } from '../vae/run.js';

/** The seed of the test set's one-time binarisation: the same for every run. */
export const TEST_BINARIZATION_SEED = 1234;

/** Flags of `zhusuan eval`. */
export const EVAL_FLAGS = {
  run: { type: 'string', help: 'run directory (required)' },
  split: {
    type: 'string',
    default: 'test',
    choices: ['test', 'valid'],
    help: "images to evaluate: 'test', or 'valid' (the run's --validation images)",
  },
  particles: { type: 'int', default: 1000, min: 1, help: 'importance samples per image' },
  limit: { type: 'int', min: 1, help: 'evaluate only the first N images (default: all)' },
  backend: { type: 'string', default: 'auto', choices: BACKEND_CHOICES, help: 'tfjs backend' },
  seed: { type: 'int', default: 1, min: 0, help: 'seed of the importance samples' },
  out: {
    type: 'string',
    help: 'where to write the results (default RUN/eval.json; RUN/eval-valid.json for --split valid)',
  },
  json: { type: 'bool', help: 'print one JSON object on stdout' },
} satisfies FlagTable;

/** Which images an evaluation used. */
export type EvalSplit = 'test' | 'valid';

/**
 * What `eval --json` prints and `eval.json` holds. With `split` 'valid' the
 * `test_*` and `n_test` fields hold the validation images' figures (files
 * without `split` are test evaluations).
 */
export interface EvalReport extends EvalResult {
  epoch: number;
  backend: string;
  dataset: string;
  split?: EvalSplit;
}

/**
 * The binarised images of `split` for a run's model: the test set binarised
 * with {@link TEST_BINARIZATION_SEED}, or the run's validation images as
 * training held them out and binarised them.
 */
function splitImages(
  cfg: { dataset: string; xDim: number; validation: number; seed: number },
  split: EvalSplit,
  runDir: string,
  limit: number | undefined,
): { x: Float32Array; n: number } {
  const data = loadDataset(cfg.dataset, { split: split === 'valid' ? 'train' : 'test' });
  const xDim = data.rows * data.cols;
  if (xDim !== cfg.xDim) {
    throw new Error(
      `${cfg.dataset}: ${split === 'valid' ? 'training' : 'test'} images have ${xDim} pixels, the model expects ${cfg.xDim}`,
    );
  }
  if (split === 'valid') {
    if (cfg.validation === 0) {
      throw new UsageError(
        `--split valid: ${runDir} was trained without --validation, so it has no validation images`,
      );
    }
    const valid = trainValidSplit(data.images, data.n, xDim, cfg.validation, cfg.seed).valid!;
    const n = Math.min(limit ?? valid.n, valid.n);
    return { x: valid.x.subarray(0, n * xDim), n };
  }
  const n = Math.min(limit ?? data.n, data.n);
  return {
    x: binarizeOnce(toFloat(data.images.subarray(0, n * xDim)), TEST_BINARIZATION_SEED),
    n,
  };
}

/**
 * The first `max` images to show a run's model (`sample`, `serve`): test
 * images binarised as evaluation binarises them, or training images when the
 * dataset has no test files.
 */
export function viewingImages(
  dataset: string,
  max: number,
): { x: Float32Array; n: number; split: 'test' | 'train'; rows: number; cols: number } {
  const split = hasSplit(dataset, 'test') ? 'test' : 'train';
  const data = loadDataset(dataset, { split });
  const n = Math.min(max, data.n);
  const size = data.rows * data.cols;
  const x = binarizeOnce(toFloat(data.images.subarray(0, n * size)), TEST_BINARIZATION_SEED);
  return { x, n, split, rows: data.rows, cols: data.cols };
}

/**
 * True for files written before the split-half standard error (no
 * `test_ll_stderr_delta`): their `test_ll_stderr` is the delta-method value,
 * which understates the spread across seeds.
 */
export function hasDeltaStderr(e: EvalReport): boolean {
  return e.test_ll_stderr_delta === undefined;
}

/**
 * `test_ll ± stderr` for tables, with a dagger ({@link DELTA_SE_NOTE}) when
 * {@link hasDeltaStderr}; `pm` and `dagger` are the symbols to typeset.
 */
export function formatLl(
  e: EvalReport,
  fmt: (v: number, digits: number) => string,
  pm = '±',
  dagger = '†',
): string {
  return `${fmt(e.test_ll, 2)} ${pm} ${fmt(e.test_ll_stderr, 3)}${hasDeltaStderr(e) ? dagger : ''}`;
}

/** The footnote for a dagger of {@link formatLl}. */
export const DELTA_SE_NOTE =
  '† delta-method standard error (evaluations before 2026-11-25); it understates the spread across seeds by a factor of about 1.4 (docs/evaluation.md).';

/** Reads an `eval.json`-style file (`eval.json`, `eval-<K>.json`), naming the file when it is not valid JSON. */
export function readEvalReport(file: string): EvalReport {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as EvalReport;
  } catch (err) {
    throw new Error(`${file}: invalid JSON (${(err as Error).message})`);
  }
}

/** Runs `zhusuan eval`. */
export async function evalCommand(argv: string[]): Promise<EvalReport> {
  const f = parseFlags('eval', argv, EVAL_FLAGS);
  const runDir = required('run', f.run);
  if (f.out !== undefined && !f.out.endsWith('.json')) {
    throw new UsageError(`--out: expected a .json file name, got '${f.out}'`);
  }
  const backend = await useBackend(f.backend as BackendChoice);
  const state = await openRun(runDir, backend);
  try {
    const { cfg } = state;
    const split = f.split as EvalSplit;
    const { x, n } = splitImages(cfg, split, runDir, f.limit);
    zs.random.setSeed(f.seed!);
    const bar = new ProgressBar();
    const t0 = performance.now();
    const result = evaluate(state.vae, x, n, {
      particles: f.particles!,
      onProgress: (done, total) => {
        const s = (performance.now() - t0) / 1000;
        bar.update(
          done / total,
          'eval',
          `${done}/${total} images ETA ${formatDuration((s / done) * (total - done))}`,
        );
      },
    });
    bar.done();
    const report: EvalReport = {
      ...result,
      epoch: state.epoch,
      backend: tf.getBackend(),
      dataset: cfg.dataset,
      split,
    };
    writeJson(
      f.out ?? path.join(runDir, split === 'valid' ? 'eval-valid.json' : 'eval.json'),
      report,
    );
    if (f.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const what = split === 'valid' ? 'validation' : 'test';
      process.stderr.write(
        `${what} ELBO ${report.test_elbo.toFixed(2)} nats; ${what} log-likelihood (IS, ${report.particles} particles) ` +
          `${report.test_ll.toFixed(2)} ± ${report.test_ll_stderr.toFixed(3)} nats over ${n} images ` +
          `(${report.seconds.toFixed(1)} s, ${backend})\n`,
      );
    }
    return report;
  } finally {
    state.dispose();
  }
}
