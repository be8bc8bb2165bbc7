/** `zhusuan train`: train the VAE into a run directory; `--resume` continues one. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runSizeProblem, type RunConfig } from '@zhusuan/vae';
import { parseFlags, UsageError } from '../args.js';
import { useBackend, type BackendChoice } from '../backend.js';
import { loadDataset, trainValidSplit } from '../data/index.js';
import { encodePng, imageGrid } from '../image/index.js';
import { formatDuration, ProgressBar } from '../progress.js';
import {
  readConfig,
  readMetrics,
  restoreMetrics,
  runFile,
  writeConfig,
  writeFileAtomic,
  writeMetrics,
} from '../run/files.js';
import { checkWritable, crashPoint, errnoReason, removeStaleTempFiles } from '../run/io.js';
import { onStopSignals } from '../signals.js';
import { newRunConfig, TRAIN_FLAGS } from '../vae/config.js';
import { prepareOptimizers } from '../vae/optimizer.js';
import {
  GRID_SAMPLES,
  gridDue,
  trainEpochs,
  TrainingState,
  type TrainData,
} from '../vae/trainer.js';

/** Flags that define the model and data; `--resume` refuses to change them. */
const FIXED_ON_RESUME: [string, keyof RunConfig][] = [
  ['dataset', 'dataset'],
  ['batch-size', 'batchSize'],
  ['z-dim', 'zDim'],
  ['hidden', 'hidden'],
  ['lr', 'lr'],
  ['lr-decay', 'lrDecay'],
  ['lr-decay-every', 'lrDecayEvery'],
  ['objective', 'objective'],
  ['particles', 'particles'],
  ['seed', 'seed'],
  ['validation', 'validation'],
];

/** Options for {@link trainCommand} beyond the flags (used by `npm start`). */
export interface TrainCommandResult {
  runDir: string;
  backend: string;
  config: RunConfig;
  finalElbo: number | undefined;
}

/** Runs `zhusuan train` with parsed argv. */
export async function trainCommand(argv: string[]): Promise<TrainCommandResult> {
  const f = parseFlags('train', argv, TRAIN_FLAGS);
  const runDir = f.run!;
  const command = ['zhusuan', 'train', ...argv].join(' ');
  const ckFile = runFile(runDir, 'checkpoint');
  const existing = fs.statSync(runDir, { throwIfNoEntry: false });
  if (existing !== undefined && !existing.isDirectory()) {
    throw new UsageError(`--run: ${runDir} exists and is not a directory`);
  }
  let cfg: RunConfig;
  let saved: RunConfig | undefined;
  if (f.resume) {
    saved = readConfig(runDir);
    cfg = { ...saved };
    if (!fs.existsSync(ckFile)) {
      throw new UsageError(`--resume: ${ckFile} not found; nothing to resume`);
    }
    for (const [flag, key] of FIXED_ON_RESUME) {
      const given = (f as Record<string, unknown>)[flag];
      if (f.given.has(flag) && given !== cfg[key]) {
        throw new UsageError(
          `--${flag}: the run was made with ${JSON.stringify(cfg[key])}; --resume cannot change it`,
        );
      }
    }
    if (f.given.has('epochs')) cfg.epochs = f.epochs!;
  } else {
    if (fs.existsSync(ckFile)) {
      throw new UsageError(
        `--run: ${runDir} already holds a trained run; pass --resume to continue it or choose another --run`,
      );
    }
    cfg = newRunConfig(f, 0);
  }
  try {
    fs.mkdirSync(runDir, { recursive: true });
  } catch (err) {
    throw new UsageError(`--run: cannot create ${runDir} (${errnoReason(err)})`);
  }
  checkWritable(runFile(runDir, 'config'), '--run');
  const stale = removeStaleTempFiles(runDir);
  if (stale.length > 0) {
    process.stderr.write(
      `zhusuan: removed ${stale.length} stale temp file(s) in ${runDir}: ${stale.join(', ')}\n`,
    );
  }

  const train = loadDataset(cfg.dataset, { split: 'train' });
  const xDim = train.rows * train.cols;
  if (cfg.xDim !== 0 && cfg.xDim !== xDim) {
    throw new Error(
      `${cfg.dataset}: images have ${xDim} pixels, the run was trained on ${cfg.xDim}`,
    );
  }
  cfg.xDim = xDim;
  const size = runSizeProblem(cfg);
  if (size !== undefined) throw new UsageError(size);
  if (cfg.validation >= train.n) {
    throw new UsageError(
      `--validation: ${cfg.validation} must be below the ${train.n} training images`,
    );
  }
  const data = makeTrainData(train.images, train.n, xDim, cfg);
  const grid = (epoch: number, means: Float32Array, n: number) =>
    gridFiles(runDir, epoch, encodePng(imageGrid(means, n, train.rows, train.cols)));

  const backend = await useBackend(f.backend as BackendChoice);
  await prepareOptimizers();
  const state = new TrainingState(cfg, backend);
  const stop = onStopSignals(
    () =>
      `stopped at once; ${state.epoch > 0 ? `${ckFile} holds epoch ${state.epoch}, intact (continue with --resume)` : 'no epoch was completed'}`,
  );
  try {
    if (saved !== undefined) {
      const restored = await state.restore(ckFile, { forTraining: true });
      const done = state.epoch;
      if (cfg.epochs < done) {
        throw new UsageError(
          `--epochs ${cfg.epochs}: ${ckFile} has already completed ${done} epochs; give at least ${done}`,
        );
      }
      if (restored.history === undefined) {
        // A ZSCK0001 checkpoint does not carry the history: take the file's.
        state.history = readMetrics(runDir, done);
        if (state.history.length !== done) {
          throw new Error(
            `${runFile(runDir, 'metrics')}: holds ${state.history.length} epochs, the checkpoint ${done}, ` +
              'and this (ZSCK0001) checkpoint does not carry the lines to restore',
          );
        }
      }
      const restoredNote = restoreMetrics(runDir, state.history, {
        beforeRename: () => crashPoint('metrics-rewrite', done),
      });
      if (restoredNote !== undefined) process.stderr.write(`zhusuan: ${restoredNote}\n`);
      // The checkpoint's grid, if a crash lost it: drawn from its own stream, so the same bytes.
      if (done > 0 && (restored.gridDue ?? gridDue(saved, done))) {
        const files = grid(done, state.gridMeans(done), GRID_SAMPLES);
        if (files.length > 0)
          process.stderr.write(`zhusuan: restored ${files.join(' and ')} of epoch ${done}\n`);
      }
      if (done === cfg.epochs) {
        process.stderr.write(
          `zhusuan: ${runDir} has completed its ${done} epochs; nothing to train (give --epochs above ${done} to continue)\n`,
        );
        return { runDir, backend, config: saved, finalElbo: state.history.at(-1)?.train_elbo };
      }
      cfg = {
        ...cfg,
        resumes: [...(saved.resumes ?? []), { command, fromEpoch: done, epochs: cfg.epochs }],
      };
      writeConfig(runDir, cfg);
      process.stderr.write(`zhusuan: resuming ${runDir} at epoch ${done + 1} of ${cfg.epochs}\n`);
    } else {
      writeMetrics(runDir, []);
      cfg = { ...cfg, backend, command };
      writeConfig(runDir, cfg);
      process.stderr.write(
        `zhusuan: training on ${data.n} ${cfg.dataset} images (${backend} backend), ${cfg.epochs} epochs -> ${runDir}\n`,
      );
    }
    const bar = new ProgressBar();
    let finalElbo: number | undefined;
    await trainEpochs(
      runDir,
      state,
      data,
      {
        onBatch: (b) => {
          const perBatch = b.epochElapsed / b.batch;
          const left =
            perBatch * (b.batches - b.batch) + perBatch * b.batches * (b.epochs - b.epoch);
          bar.update(
            b.batch / b.batches,
            `epoch ${b.epoch}/${b.epochs}`,
            `batch ${b.batch}/${b.batches} ${cfg.objective} ${b.runningBound.toFixed(2)} ETA ${formatDuration(left)}`,
            b.batch === b.batches,
          );
        },
        onEpoch: (m) => {
          finalElbo = m.train_elbo;
          const valid = m.valid_elbo !== undefined ? `, valid ELBO ${m.valid_elbo.toFixed(2)}` : '';
          bar.done(
            `epoch ${m.epoch}/${cfg.epochs}: train ${cfg.objective} ${m.train_elbo.toFixed(2)}${valid} (${m.epoch_seconds.toFixed(1)} s)`,
          );
        },
        onSamples: grid,
      },
      { signal: stop.signal },
    );
    return { runDir, backend, config: cfg, finalElbo };
  } finally {
    stop.dispose();
    state.dispose();
  }
}

/**
 * Writes epoch `epoch`'s grid as `samples-epoch-NNNN.png` and `samples.png`,
 * each atomically and only where the file does not already hold these bytes.
 * @returns the files written.
 */
function gridFiles(runDir: string, epoch: number, png: Uint8Array): string[] {
  const epochFile = path.join(runDir, `samples-epoch-${String(epoch).padStart(4, '0')}.png`);
  const written: string[] = [];
  const same = (file: string) => {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    return st?.isFile() === true && st.size === png.length && fs.readFileSync(file).equals(png);
  };
  if (!same(epochFile)) {
    writeFileAtomic(epochFile, png, { beforeRename: () => crashPoint('grid-written', epoch) });
    written.push(epochFile);
  }
  crashPoint('grid-renamed', epoch);
  const latest = runFile(runDir, 'samples');
  if (!same(latest)) {
    writeFileAtomic(latest, png);
    written.push(latest);
  }
  return written;
}

/** Float intensities for training, minus a validation split binarised once. */
function makeTrainData(images: Uint8Array, n: number, xDim: number, cfg: RunConfig): TrainData {
  const { train, valid } = trainValidSplit(images, n, xDim, cfg.validation, cfg.seed);
  return { ...train, xDim, ...(valid === undefined ? {} : { valid }) };
}
