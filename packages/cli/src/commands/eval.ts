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
import { runFile, writeJson } from '../run/files.js';
import { evaluate } from '../vae/evaluate.js';
import { openRun } from '../vae/run.js';

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
    const { x, n } = evaluationImages(cfg, split, runDir, f.limit);
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
    writeJson(f.out ?? runFile(runDir, split === 'valid' ? 'evalValid' : 'eval'), report);
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
