/**
 * A training run's configuration: the flags of `zhusuan train` and the
 * `RunConfig` they make (`bench` times the same defaults).
 */
import { OBJECTIVES, RUN_LIMITS, runSizeProblem, type RunConfig } from '@zhusuan/vae';
import { parseFlags, UsageError, type FlagTable, type Parsed } from '../args.js';
import { BACKEND_CHOICES } from '../backend.js';

/** Flags of `zhusuan train`. */
export const TRAIN_FLAGS = {
  run: {
    type: 'string',
    default: 'runs/vae',
    metavar: 'DIR',
    positional: 'hint',
    help: 'run directory',
  },
  dataset: {
    type: 'string',
    default: 'mnist',
    metavar: 'mnist|PATH',
    help: "'mnist' or a directory of IDX files",
  },
  epochs: {
    type: 'int',
    default: 10,
    min: 1,
    max: RUN_LIMITS.epochs,
    help: 'epochs to train (in total, counting resumed ones)',
  },
  'batch-size': {
    type: 'int',
    default: 128,
    min: 1,
    max: RUN_LIMITS.batchSize,
    help: 'minibatch size',
  },
  'z-dim': { type: 'int', default: 40, min: 1, max: RUN_LIMITS.zDim, help: 'latent dimension d' },
  hidden: {
    type: 'int',
    default: 500,
    min: 1,
    max: RUN_LIMITS.hidden,
    help: 'units in each hidden layer',
  },
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
    max: RUN_LIMITS.lrDecayEvery,
    help: 'epochs between lr decays (0 = constant lr)',
  },
  objective: { type: 'string', default: 'elbo', choices: OBJECTIVES, help: 'training objective' },
  particles: {
    type: 'int',
    min: 1,
    max: RUN_LIMITS.particles,
    help: 'samples of z per image (default 1; iwae/vimco default 5)',
  },
  seed: { type: 'int', default: 1, min: 0, max: 2 ** 31 - 1, help: 'random seed' },
  backend: { type: 'string', default: 'auto', choices: BACKEND_CHOICES, help: 'tfjs backend' },
  validation: { type: 'int', default: 0, min: 0, help: 'training images held out for validation' },
  'sample-every': {
    type: 'int',
    default: 5,
    min: 0,
    max: RUN_LIMITS.sampleEvery,
    help: 'write a sample grid every N epochs (0 = only at the end)',
  },
  resume: { type: 'bool', help: 'continue the run in --run from its checkpoint' },
} satisfies FlagTable;

/**
 * A new run's configuration from parsed `train` flags, for images of `xDim`
 * pixels (0 when not yet known).
 * @throws UsageError when the flags do not make a valid run.
 */
export function newRunConfig(f: Parsed<typeof TRAIN_FLAGS>, xDim: number): RunConfig {
  const iw = f.objective !== 'elbo';
  const particles = f.particles ?? (iw ? 5 : 1);
  if (f.objective === 'vimco' && particles < 2) {
    throw new UsageError('--particles: vimco needs at least 2 particles');
  }
  // The image size is known once the dataset is read; the rest is checked now.
  const size = runSizeProblem({
    xDim: Math.max(xDim, 1),
    zDim: f['z-dim']!,
    hidden: f.hidden!,
    batchSize: f['batch-size']!,
    particles,
  });
  if (size !== undefined) throw new UsageError(size);
  return {
    dataset: f.dataset!,
    epochs: f.epochs!,
    batchSize: f['batch-size']!,
    xDim,
    zDim: f['z-dim']!,
    hidden: f.hidden!,
    lr: f.lr!,
    lrDecay: f['lr-decay']!,
    lrDecayEvery: f['lr-decay-every']!,
    objective: f.objective as RunConfig['objective'],
    particles,
    seed: f.seed!,
    validation: f.validation!,
    sampleEvery: f['sample-every']!,
  };
}

/** The configuration `zhusuan train` gives a run with no flags, for images of `xDim` pixels. */
export function defaultRunConfig(xDim: number): RunConfig {
  return newRunConfig(parseFlags('train', [], TRAIN_FLAGS), xDim);
}
