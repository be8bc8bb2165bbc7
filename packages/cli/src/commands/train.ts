/** `zhusuan train`: train the VAE into a run directory; `--resume` continues one. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseFlags, UsageError, type FlagTable } from '../args.js';
import { BACKEND_CHOICES, useBackend, type BackendChoice } from '../backend.js';
import { loadDataset, trainValidSplit } from '../data/index.js';
import { imageGrid, writePng } from '../image/index.js';
import { formatDuration, ProgressBar } from '../progress.js';
import { checkpointPath } from '../vae/checkpoint.js';
import { prepareOptimizers } from '../vae/optimizer.js';
import { readConfig, writeJson } from '../vae/run.js';
import {
  OBJECTIVES,
  readMetrics,
  trainEpochs,
  TrainingState,
  type TrainConfig,
  type TrainData,
} from '../vae/trainer.js';

/** Flags of `zhusuan train`. */
export const TRAIN_FLAGS = {
  run: { type: 'string', default: 'runs/vae', help: 'run directory' },
  dataset: { type: 'string', default: 'mnist', help: "'mnist' or a directory of IDX files" },
  epochs: {
    type: 'int',
    default: 10,
    min: 1,
    help: 'epochs to train (in total, counting resumed ones)',
  },
  'batch-size': { type: 'int', default: 128, min: 1, help: 'minibatch size' },
  'z-dim': { type: 'int', default: 40, min: 1, help: 'latent dimension d' },
  hidden: { type: 'int', default: 500, min: 1, help: 'units in each hidden layer' },
  lr: { type: 'float', default: 1e-3, positive: true, help: 'Adam learning rate' },
  'lr-decay': {
    type: 'float',
    default: 1,
    positive: true,
    help: 'multiply lr by this every --lr-decay-every epochs',
  },
  'lr-decay-every': {
    type: 'int',
    default: 0,
    min: 0,
    help: 'epochs between lr decays (0 = constant lr)',
  },
  objective: { type: 'string', default: 'elbo', choices: OBJECTIVES, help: 'training objective' },
  particles: {
    type: 'int',
    min: 1,
    help: 'samples of z per image (default 1; iwae/vimco default 5)',
  },
  seed: { type: 'int', default: 1, min: 0, max: 2 ** 31 - 1, help: 'random seed' },
  backend: { type: 'string', default: 'auto', choices: BACKEND_CHOICES, help: 'tfjs backend' },
  validation: { type: 'int', default: 0, min: 0, help: 'training images held out for validation' },
  'sample-every': {
    type: 'int',
    default: 5,
    min: 0,
    help: 'write a sample grid every N epochs (0 = only at the end)',
  },
  resume: { type: 'bool', help: 'continue the run in --run from its checkpoint' },
} satisfies FlagTable;

/** Flags that define the model and data; `--resume` refuses to change them. */
const FIXED_ON_RESUME: [string, keyof TrainConfig][] = [
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
  config: TrainConfig;
  finalElbo: number | undefined;
}

/** Runs `zhusuan train` with parsed argv. */
export async function trainCommand(argv: string[]): Promise<TrainCommandResult> {
  const f = parseFlags('train', argv, TRAIN_FLAGS);
  const runDir = f.run!;
  let cfg: TrainConfig;
  if (f.resume) {
    cfg = readConfig(runDir);
    if (!fs.existsSync(checkpointPath(runDir))) {
      throw new UsageError(`--resume: ${checkpointPath(runDir)} not found; nothing to resume`);
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
    if (fs.existsSync(checkpointPath(runDir))) {
      throw new UsageError(
        `--run: ${runDir} already holds a trained run; pass --resume to continue it or choose another --run`,
      );
    }
    const iw = f.objective !== 'elbo';
    const particles = f.particles ?? (iw ? 5 : 1);
    if (f.objective === 'vimco' && particles < 2) {
      throw new UsageError('--particles: vimco needs at least 2 particles');
    }
    cfg = {
      dataset: f.dataset!,
      epochs: f.epochs!,
      batchSize: f['batch-size']!,
      xDim: 0,
      zDim: f['z-dim']!,
      hidden: f.hidden!,
      lr: f.lr!,
      lrDecay: f['lr-decay']!,
      lrDecayEvery: f['lr-decay-every']!,
      objective: f.objective as TrainConfig['objective'],
      particles,
      seed: f.seed!,
      validation: f.validation!,
      sampleEvery: f['sample-every']!,
    };
  }

  const train = loadDataset(cfg.dataset, { split: 'train' });
  const xDim = train.rows * train.cols;
  if (cfg.xDim !== 0 && cfg.xDim !== xDim) {
    throw new Error(
      `${cfg.dataset}: images have ${xDim} pixels, the run was trained on ${cfg.xDim}`,
    );
  }
  cfg.xDim = xDim;
  if (cfg.validation >= train.n) {
    throw new UsageError(
      `--validation: ${cfg.validation} must be below the ${train.n} training images`,
    );
  }
  const data = makeTrainData(train.images, train.n, xDim, cfg);

  const backend = await useBackend(f.backend as BackendChoice);
  await prepareOptimizers();
  fs.mkdirSync(runDir, { recursive: true });
  const state = new TrainingState(cfg, backend);
  try {
    if (f.resume) {
      await state.restore(checkpointPath(runDir));
      // Drop metrics lines written after the checkpoint (a crash between the two).
      const kept = readMetrics(runDir, state.epoch);
      fs.writeFileSync(
        path.join(runDir, 'metrics.jsonl'),
        kept.map((m) => `${JSON.stringify(m)}\n`).join(''),
      );
      process.stderr.write(
        `zhusuan: resuming ${runDir} at epoch ${state.epoch + 1} of ${cfg.epochs}\n`,
      );
    } else {
      fs.writeFileSync(path.join(runDir, 'metrics.jsonl'), '');
      process.stderr.write(
        `zhusuan: training on ${data.n} ${cfg.dataset} images (${backend} backend), ${cfg.epochs} epochs -> ${runDir}\n`,
      );
    }
    writeJson(path.join(runDir, 'config.json'), {
      ...cfg,
      backend,
      command: ['zhusuan', 'train', ...argv].join(' '),
    });
    const bar = new ProgressBar();
    let finalElbo: number | undefined;
    await trainEpochs(runDir, state, data, {
      onBatch: (b) => {
        const perBatch = b.epochElapsed / b.batch;
        const left = perBatch * (b.batches - b.batch) + perBatch * b.batches * (b.epochs - b.epoch);
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
      onSamples: (epoch, means, n) => {
        const grid = imageGrid(means, n, 28, 28);
        writePng(path.join(runDir, `samples-epoch-${String(epoch).padStart(4, '0')}.png`), grid);
        writePng(path.join(runDir, 'samples.png'), grid);
      },
    });
    return { runDir, backend, config: cfg, finalElbo };
  } finally {
    state.dispose();
  }
}

/** Float intensities for training, minus a validation split binarised once. */
function makeTrainData(images: Uint8Array, n: number, xDim: number, cfg: TrainConfig): TrainData {
  const { train, valid } = trainValidSplit(images, n, xDim, cfg.validation, cfg.seed);
  return { ...train, xDim, ...(valid === undefined ? {} : { valid }) };
}
