/**
 * Reading and writing a run directory's files. The format (file names,
 * types, what a valid file holds) is `@zhusuan/vae`'s run format; this module
 * only does the file I/O around it, through `io.ts`: regular files only,
 * bounded sizes, atomic replacement, errors naming the file.
 *
 * `metrics.jsonl` is derived from the checkpoint: each checkpoint carries the
 * metrics of every epoch it completed, and the file's line for an epoch is
 * appended only after that epoch's checkpoint is in place. After a crash,
 * `train --resume` restores the file from the checkpoint's history (one
 * atomic replacement); the history is never rewritten in place.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  formatMetricsLine,
  parseEvalReport,
  parseMetrics,
  parseRunConfig,
  RUN_FILES,
  type EpochMetrics,
  type EvalReport,
  type RunConfig,
} from '@zhusuan/vae';
import { UsageError } from '../args.js';
import { appendDurable, readTextFile, writeFileAtomic } from './io.js';

export { writeFileAtomic } from './io.js';

/** The largest `config.json` or evaluation file read. */
const MAX_JSON_FILE_BYTES = 1024 * 1024;
/** The largest `metrics.jsonl` read (100,000 epochs take about 25 MB). */
const MAX_METRICS_BYTES = 64 * 1024 * 1024;

/** Path of one of a run's files (see `RUN_FILES`). */
export function runFile(runDir: string, role: keyof typeof RUN_FILES): string {
  return path.join(runDir, RUN_FILES[role]);
}

/** Writes `value` as pretty JSON, atomically. */
export function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Reads and checks a run's `config.json`.
 * @throws UsageError when the directory or its config does not exist (a bad
 *   `--run`); RunFormatError or FileError naming the file when it is invalid.
 */
export function readConfig(runDir: string): RunConfig {
  const file = runFile(runDir, 'config');
  const dir = fs.statSync(runDir, { throwIfNoEntry: false });
  if (dir === undefined) {
    throw new UsageError(`--run: directory ${runDir} does not exist`);
  }
  if (!dir.isDirectory()) {
    throw new UsageError(`--run: ${runDir} is not a directory`);
  }
  if (!fs.existsSync(file)) {
    throw new UsageError(
      `--run: ${file} not found (is ${runDir} a run directory made by 'zhusuan train'?)`,
    );
  }
  return parseRunConfig(
    readTextFile(file, { maxBytes: MAX_JSON_FILE_BYTES, what: 'config' }),
    file,
  );
}

/** Writes a run's `config.json` atomically. */
export function writeConfig(runDir: string, cfg: RunConfig): void {
  writeJson(runFile(runDir, 'config'), cfg);
}

function readMetricsText(file: string): string {
  return readTextFile(file, { maxBytes: MAX_METRICS_BYTES, what: 'metrics file' });
}

/**
 * Reads and checks `metrics.jsonl` ([] when absent); drops lines past
 * `maxEpoch`.
 */
export function readMetrics(runDir: string, maxEpoch = Infinity): EpochMetrics[] {
  const file = runFile(runDir, 'metrics');
  if (!fs.existsSync(file)) return [];
  return parseMetrics(readMetricsText(file), file).filter((m) => m.epoch <= maxEpoch);
}

/**
 * Replaces `metrics.jsonl` with `rows`, one JSON line each, atomically.
 * @param opts.beforeRename a crash-test hook (see `writeFileAtomic`).
 */
export function writeMetrics(
  runDir: string,
  rows: readonly EpochMetrics[],
  opts: { beforeRename?: () => void } = {},
): void {
  writeFileAtomic(runFile(runDir, 'metrics'), rows.map(formatMetricsLine).join(''), opts);
}

/**
 * Appends one epoch's line to `metrics.jsonl` and syncs it.
 * @param opts.midway a crash-test hook run half-way through the line.
 */
export function appendMetrics(
  runDir: string,
  m: EpochMetrics,
  opts: { midway?: () => void } = {},
): void {
  appendDurable(runFile(runDir, 'metrics'), formatMetricsLine(m), opts);
}

/**
 * Makes `metrics.jsonl` hold exactly `history` (a checkpoint's), restoring
 * the lines a crash lost or tore; a file that already matches is left alone.
 * @returns what was done, for a message, or undefined when nothing was.
 */
export function restoreMetrics(
  runDir: string,
  history: readonly EpochMetrics[],
  opts: { beforeRename?: () => void } = {},
): string | undefined {
  const file = runFile(runDir, 'metrics');
  const want = history.map(formatMetricsLine).join('');
  const have = fs.existsSync(file) ? readMetricsText(file) : '';
  if (have === want) return undefined;
  writeMetrics(runDir, history, opts);
  const complete = have.slice(0, have.lastIndexOf('\n') + 1);
  if (!want.startsWith(complete)) {
    return `${file}: did not match the checkpoint's history; rewritten from it`;
  }
  const kept = complete.split('\n').length - 1;
  const torn = complete.length < have.length ? ' (a torn last line dropped)' : '';
  if (kept === history.length) return `${file}: a torn last line dropped`;
  const epochs =
    kept + 1 === history.length ? `epoch ${kept + 1}` : `epochs ${kept + 1}-${history.length}`;
  return `${file}: restored the lines of ${epochs} from the checkpoint${torn}`;
}

/**
 * Reads and checks an evaluation file (`eval.json`, `eval-valid.json`,
 * `eval-<K>.json`).
 * @throws RunFormatError or FileError naming the file and what is wrong.
 */
export function readEvalReport(file: string): EvalReport {
  return parseEvalReport(
    readTextFile(file, { maxBytes: MAX_JSON_FILE_BYTES, what: 'evaluation file' }),
    file,
  );
}

/** Reads an evaluation file when it exists. */
export function readOptionalEvalReport(file: string): EvalReport | undefined {
  return fs.existsSync(file) ? readEvalReport(file) : undefined;
}
