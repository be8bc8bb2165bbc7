/**
 * Run directories: `config.json`, `checkpoint.zsck`, `metrics.jsonl`, PNG
 * grids and `eval.json` (see docs/architecture.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../args.js';
import { checkpointPath } from './checkpoint.js';
import { OBJECTIVES, TrainingState, type TrainConfig } from './trainer.js';

/** Writes a file atomically: temp file in the same directory, then rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** Writes `value` as pretty JSON, atomically. */
export function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

const NUMBER_FIELDS: (keyof TrainConfig)[] = [
  'xDim',
  'zDim',
  'hidden',
  'epochs',
  'batchSize',
  'lr',
  'lrDecay',
  'lrDecayEvery',
  'particles',
  'seed',
  'validation',
  'sampleEvery',
];

/** Reads and checks a run's `config.json`. */
export function readConfig(runDir: string): TrainConfig {
  const file = path.join(runDir, 'config.json');
  if (!fs.existsSync(runDir)) {
    throw new UsageError(`--run: directory ${runDir} does not exist`);
  }
  if (!fs.existsSync(file)) {
    throw new UsageError(
      `--run: ${file} not found (is ${runDir} a run directory made by 'zhusuan train'?)`,
    );
  }
  let cfg: TrainConfig;
  try {
    cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as TrainConfig;
  } catch (err) {
    throw new Error(`${file}: invalid JSON (${(err as Error).message})`);
  }
  for (const k of NUMBER_FIELDS) {
    if (typeof cfg[k] !== 'number' || !Number.isFinite(cfg[k])) {
      throw new Error(`${file}: field '${k}' must be a number, got ${JSON.stringify(cfg[k])}`);
    }
  }
  if (!OBJECTIVES.includes(cfg.objective)) {
    throw new Error(`${file}: field 'objective' must be one of ${OBJECTIVES.join('|')}`);
  }
  if (typeof cfg.dataset !== 'string') {
    throw new Error(`${file}: field 'dataset' must be a string`);
  }
  return cfg;
}

/** Opens a trained run: its config and a model restored from its checkpoint. */
export async function openRun(runDir: string, backend: string): Promise<TrainingState> {
  const cfg = readConfig(runDir);
  const ck = checkpointPath(runDir);
  if (!fs.existsSync(ck)) {
    throw new Error(`${ck} not found: the run has not completed an epoch yet`);
  }
  const state = new TrainingState(cfg, backend);
  try {
    await state.restore(ck);
  } catch (err) {
    state.dispose();
    throw err;
  }
  return state;
}
