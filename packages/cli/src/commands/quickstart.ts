/**
 * `zhusuan quickstart` (what `npm start` runs): train the homework VAE with
 * defaults sized to finish in about ten minutes on a 2-core machine with the
 * best backend available, then evaluate it and write the pictures.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseFlags, type FlagTable } from '../args.js';
import { BACKEND_CHOICES, useBackend, type BackendChoice } from '../backend.js';
import { readConfig, runFile } from '../run/files.js';
import { evalCommand } from './eval.js';
import { sampleCommand } from './sample.js';
import { trainCommand } from './train.js';

/** Flags of `zhusuan quickstart`. */
export const QUICKSTART_FLAGS = {
  run: {
    type: 'string',
    default: 'runs/quickstart',
    metavar: 'DIR',
    positional: 'hint',
    help: 'run directory',
  },
  backend: { type: 'string', default: 'auto', choices: BACKEND_CHOICES, help: 'tfjs backend' },
} satisfies FlagTable;

/**
 * Epochs and evaluation particles per backend, from measured speeds
 * (docs/benchmarks.md): about 8 minutes of training, 2 of evaluation.
 */
export const QUICKSTART_BUDGET: Record<string, { epochs: number; particles: number }> = {
  native: { epochs: 80, particles: 1000 },
  wasm: { epochs: 3, particles: 10 },
  cpu: { epochs: 1, particles: 2 },
};

/** Runs the quick start. */
export async function quickstartCommand(argv: string[]): Promise<void> {
  const f = parseFlags('quickstart', argv, QUICKSTART_FLAGS);
  const runDir = f.run!;
  const backend = await useBackend(f.backend as BackendChoice);
  const budget = QUICKSTART_BUDGET[backend];
  const common = ['--run', runDir, '--backend', backend];
  const t0 = performance.now();
  if (fs.existsSync(runFile(runDir, 'checkpoint'))) {
    const cfg = readConfig(runDir);
    process.stderr.write(`zhusuan: ${runDir} exists; continuing it to ${cfg.epochs} epochs\n`);
    await trainCommand([...common, '--resume']);
  } else {
    await trainCommand([...common, '--epochs', String(budget.epochs)]);
  }
  const ev = await evalCommand([...common, '--particles', String(budget.particles)]);
  const files = await sampleCommand(common);
  const minutes = ((performance.now() - t0) / 60000).toFixed(1);
  process.stderr.write(
    [
      '',
      `Done in ${minutes} min on the ${backend} backend.`,
      `  test ELBO                          ${ev.test_elbo.toFixed(2)} nats`,
      `  test log-likelihood (IS, K=${ev.particles})   ${ev.test_ll.toFixed(2)} nats`,
      `  generations      ${path.resolve(files.samples)}`,
      `  reconstructions  ${path.resolve(files.reconstructions)}`,
      `  run directory    ${path.resolve(runDir)} (config.json, metrics.jsonl, eval.json, checkpoint)`,
      `Explore it in a browser: npx zhusuan serve --run ${runDir}`,
      '',
    ].join('\n'),
  );
}
