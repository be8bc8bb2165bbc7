/**
 * Reading and writing a run directory's files. The format (file names,
 * types, what a valid file holds) is `@zhusuan/vae`'s run format; this module
 * only does the file I/O around it, atomically where a file is replaced.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  parseEvalReport,
  parseMetrics,
  parseRunConfig,
  RUN_FILES,
  type EpochMetrics,
  type EvalReport,
  type RunConfig,
} from '@zhusuan/vae';
import { UsageError } from '../args.js';

/** Path of one of a run's files (see `RUN_FILES`). */
export function runFile(runDir: string, role: keyof typeof RUN_FILES): string {
  return path.join(runDir, RUN_FILES[role]);
}

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

/**
 * Reads and checks a run's `config.json`.
 * @throws UsageError when the directory or its config does not exist (a bad
 *   `--run`); RunFormatError naming the field when the config is invalid.
 */
export function readConfig(runDir: string): RunConfig {
  const file = runFile(runDir, 'config');
  if (!fs.existsSync(runDir)) {
    throw new UsageError(`--run: directory ${runDir} does not exist`);
  }
  if (!fs.existsSync(file)) {
    throw new UsageError(
      `--run: ${file} not found (is ${runDir} a run directory made by 'zhusuan train'?)`,
    );
  }
  return parseRunConfig(fs.readFileSync(file, 'utf8'), file);
}

/** Writes a run's `config.json` atomically. */
export function writeConfig(runDir: string, cfg: RunConfig): void {
  writeJson(runFile(runDir, 'config'), cfg);
}

/**
 * Reads and checks `metrics.jsonl` ([] when absent); drops lines past
 * `maxEpoch` (written after the last checkpoint).
 */
export function readMetrics(runDir: string, maxEpoch = Infinity): EpochMetrics[] {
  const file = runFile(runDir, 'metrics');
  if (!fs.existsSync(file)) return [];
  return parseMetrics(fs.readFileSync(file, 'utf8'), file).filter((m) => m.epoch <= maxEpoch);
}

/** Replaces `metrics.jsonl` with `rows`, one JSON line each. */
export function writeMetrics(runDir: string, rows: readonly EpochMetrics[]): void {
  fs.writeFileSync(runFile(runDir, 'metrics'), rows.map((m) => `${JSON.stringify(m)}\n`).join(''));
}

/** Appends one epoch's line to `metrics.jsonl`. */
export function appendMetrics(runDir: string, m: EpochMetrics): void {
  fs.appendFileSync(runFile(runDir, 'metrics'), `${JSON.stringify(m)}\n`);
}

/**
 * Reads and checks an evaluation file (`eval.json`, `eval-valid.json`,
 * `eval-<K>.json`).
 * @throws RunFormatError naming the file and the field at fault.
 */
export function readEvalReport(file: string): EvalReport {
  return parseEvalReport(fs.readFileSync(file, 'utf8'), file);
}

/** Reads an evaluation file when it exists. */
export function readOptionalEvalReport(file: string): EvalReport | undefined {
  return fs.existsSync(file) ? readEvalReport(file) : undefined;
}
