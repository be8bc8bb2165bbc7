/**
 * `zhusuan eval`: test ELBO and importance-sampling log-likelihood of a run;
 * with `--split valid`, the same on the run's held-out validation images.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EvalReport, EvalSplit } from '@zhusuan/vae';
import * as zs from 'zhusuan';
import { parseFlags, required, UsageError, type FlagTable } from '../args.js';
import { BACKEND_CHOICES, useBackend, type BackendChoice } from '../backend.js';
import { evaluationImages } from '../data/index.js';
import { ProgressBar, formatDuration } from '../progress.js';
import { readConfig, runFile, writeJson } from '../run/files.js';
import { checkWritable } from '../run/io.js';
import { Interrupted, onStopSignals, type StopSignal } from '../signals.js';
import { evaluateInterruptible } from '../vae/evaluate.js';
import { openRun } from '../vae/run.js';

/** The most importance samples per image `eval` takes (a minute per 100 images on native). */
export const MAX_EVAL_PARTICLES = 100_000;

/** Flags of `zhusuan eval`. */
export const EVAL_FLAGS = {
  run: {
    type: 'string',
    metavar: 'DIR',
    positional: 'accept',
    help: 'run directory (required; may be given as the argument)',
  },
  split: {
    type: 'string',
    default: 'test',
    choices: ['test', 'valid'],
    help: "images to evaluate: 'test', or 'valid' (the run's --validation images)",
  },
  particles: {
    type: 'int',
    default: 1000,
    min: 1,
    max: MAX_EVAL_PARTICLES,
    help: 'importance samples per image',
  },
  limit: { type: 'int', min: 1, help: 'evaluate only the first N images (default: all)' },
  backend: { type: 'string', default: 'auto', choices: BACKEND_CHOICES, help: 'tfjs backend' },
  seed: {
    type: 'int',
    default: 1,
    min: 0,
    max: 2 ** 31 - 1,
    help: 'seed of the importance samples',
  },
  out: {
    type: 'string',
    metavar: 'FILE.json',
    help: 'where to write the results (default RUN/eval.json; RUN/eval-valid.json for --split valid)',
  },
  json: { type: 'bool', help: 'print one JSON object on stdout' },
} satisfies FlagTable;

/** Runs `zhusuan eval`. */
export async function evalCommand(argv: string[]): Promise<EvalReport> {
  const f = parseFlags('eval', argv, EVAL_FLAGS);
  const runDir = required('run', f.run);
  if (f.out !== undefined && !f.out.endsWith('.json')) {
    throw new UsageError(`--out: expected a .json file name, got '${f.out}'`);
  }
  const split = f.split as EvalSplit;
  const out = f.out ?? runFile(runDir, split === 'valid' ? 'evalValid' : 'eval');
  readConfig(runDir); // a bad --run is a usage error before anything else
  checkWritable(out, f.out !== undefined ? '--out' : '--run');
  const backend = await useBackend(f.backend as BackendChoice);
  const state = await openRun(runDir, backend);
  const stop = onStopSignals(() => `stopped at once; ${out} not written`);
  try {
    const { cfg } = state;
    const { x, n } = evaluationImages(cfg, split, runDir, f.limit);
    zs.random.setSeed(f.seed!);
    process.stderr.write(
      `zhusuan eval: ${n} ${split === 'valid' ? 'validation' : 'test'} images, ${f.particles} particles each (${backend} backend)\n`,
    );
    const bar = new ProgressBar();
    const t0 = performance.now();
    const result = await evaluateInterruptible(
      state.vae,
      x,
      n,
      {
        particles: f.particles!,
        onProgress: (done, total) => {
          const s = (performance.now() - t0) / 1000;
          bar.update(
            done / total,
            'eval',
            `${done}/${total} images ETA ${formatDuration((s / done) * (total - done))}`,
          );
        },
      },
      stop.signal,
    );
    if ('stopped' in result) {
      bar.done();
      throw new Interrupted(
        `stopped by ${result.stopped as StopSignal} after ${result.done} of ${n} images; ${out} not written`,
        result.stopped as StopSignal,
      );
    }
    bar.done();
    const bad = (['test_elbo', 'test_ll', 'test_ll_stderr'] as const).find(
      (k) => !Number.isFinite(result[k]),
    );
    if (bad !== undefined) {
      throw new Error(
        `${runFile(runDir, 'checkpoint')}: the evaluation gave ${bad} = ${result[bad]} ` +
          `(the weights overflow on these images); ${out} not written`,
      );
    }
    const report: EvalReport = {
      ...result,
      epoch: state.epoch,
      backend: tf.getBackend(),
      dataset: cfg.dataset,
      split,
    };
    writeJson(out, report);
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
    stop.dispose();
    state.dispose();
  }
}
