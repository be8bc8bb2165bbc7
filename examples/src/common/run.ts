/**
 * The examples' shared driver: flags (`--quick`, `--seed`, `--backend`,
 * `--out-dir`), the backend, timing, and the results file.
 *
 *   npm run example -- NAME [--quick] [--seed S] [--backend auto|native|wasm|cpu] [--out-dir DIR]
 *                          [--splits N]   (UCI regression examples: the first N of 20 splits)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BACKEND_CHOICES,
  prepareOptimizers,
  useBackend,
  writePng,
  type BackendChoice,
  type Image,
} from '@zhusuan/cli';
import * as zs from 'zhusuan';
import { writeResult, type ExampleResult } from './result.js';

/** examples/results in the repository. */
export const RESULTS_DIR = fileURLToPath(new URL('../../../results/', import.meta.url));

/** What an example's body gets. */
export interface ExampleContext {
  /** The small size the tests run (seconds), not the size the results file reports. */
  quick: boolean;
  /** The seed of the library's random stream (already set). */
  seed: number;
  /** `--splits N`: for the UCI regression examples, run the first N of their 20 splits. */
  splits?: number;
  /** The backend in use. */
  backend: string;
  /** Progress lines (stderr). */
  log(line: string): void;
  /** Writes `<out-dir>/<name>-<suffix>.png` and returns its path. */
  writeImage(suffix: string, img: Image): string;
}

/** What an example's body returns. */
export interface ExampleOutcome {
  metrics: Record<string, number>;
  reference: Record<string, number>;
}

/** An example: its description and its body. */
export interface ExampleDefinition {
  name: string;
  model: string;
  inference: string;
  dataset: string;
  referenceSource: string;
  run(ctx: ExampleContext): Promise<ExampleOutcome> | ExampleOutcome;
}

/** A usage error of an example's command line: exit code 2. */
class UsageError extends Error {}

function parse(argv: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        seed: { type: 'string', default: '1' },
        backend: { type: 'string', default: 'auto' },
        'out-dir': { type: 'string' },
        splits: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const seed = Number(values.seed);
  if (!/^\d+$/.test(values.seed!) || !Number.isSafeInteger(seed) || seed < 1 || seed >= 2 ** 31) {
    throw new UsageError(`--seed: expected an integer in 1..2^31-1, got '${values.seed}'`);
  }
  if (!(BACKEND_CHOICES as readonly string[]).includes(values.backend!)) {
    throw new UsageError(
      `--backend: expected one of ${BACKEND_CHOICES.join('|')}, got '${values.backend}'`,
    );
  }
  let splits: number | undefined;
  if (values.splits !== undefined) {
    splits = Number(values.splits);
    if (!/^\d+$/.test(values.splits) || splits < 1 || splits > 20) {
      throw new UsageError(`--splits: expected an integer in 1..20, got '${values.splits}'`);
    }
  }
  return {
    splits,
    quick: values.quick!,
    seed,
    backend: values.backend as BackendChoice,
    outDir: values['out-dir'] ?? RESULTS_DIR,
  };
}

/**
 * Runs an example from its command line and writes `<out-dir>/<name>.json`
 * (default examples/results/). Returns the result written.
 */
export async function runExample(def: ExampleDefinition, argv: string[]): Promise<ExampleResult> {
  const opts = parse(argv);
  fs.mkdirSync(opts.outDir, { recursive: true });
  const out = path.join(opts.outDir, `${def.name}.json`);
  fs.accessSync(opts.outDir, fs.constants.W_OK);
  const log = (line: string) => process.stderr.write(`${def.name}: ${line}\n`);
  const backend = await useBackend(opts.backend, log);
  // makeAdam then gives the native backend's fused Adam (tfjs' numbers, bit for bit).
  await prepareOptimizers();
  zs.random.setSeed(opts.seed);
  const t0 = performance.now();
  const outcome = await def.run({
    quick: opts.quick,
    seed: opts.seed,
    splits: opts.splits,
    backend,
    log,
    writeImage: (suffix, img) => {
      const file = path.join(opts.outDir, `${def.name}-${suffix}.png`);
      writePng(file, img);
      return file;
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const result: ExampleResult = {
    example: def.name,
    model: def.model,
    inference: def.inference,
    dataset: def.dataset,
    metrics: outcome.metrics,
    reference: outcome.reference,
    reference_source: def.referenceSource,
    seconds: Number(seconds.toFixed(2)),
    command: ['npm run example --', def.name, ...argv].join(' '),
    backend,
    quick: opts.quick,
    date: new Date().toISOString(),
  };
  for (const [k, v] of Object.entries({ ...result.metrics, ...result.reference })) {
    if (!Number.isFinite(v)) throw new Error(`${def.name}: figure '${k}' is ${v}, not a number`);
  }
  writeResult(out, result);
  log(`wrote ${out} (${seconds.toFixed(1)} s)`);
  return result;
}

/** Runs `def` as a program: exit 2 on usage errors, 1 on any other failure. */
export function main(def: ExampleDefinition, argv = process.argv.slice(2)): void {
  runExample(def, argv).catch((err: Error) => {
    process.stderr.write(`${def.name}: ${err.message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  });
}
