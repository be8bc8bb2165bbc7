/** `zhusuan sample`: a PNG grid of generations and one of reconstructions. */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { parseFlags, required, UsageError, type FlagTable } from '../args.js';
import { BACKEND_CHOICES, useBackend, type BackendChoice } from '../backend.js';
import { encodePng, imageGrid, pairGrid } from '../image/index.js';
import { viewingImages } from '../data/index.js';
import { firstNonFinite } from '../run/checkpoint.js';
import { readConfig, runFile, writeFileAtomic } from '../run/files.js';
import { checkWritable } from '../run/io.js';
import { openRun } from '../vae/run.js';

/** Flags of `zhusuan sample`. */
export const SAMPLE_FLAGS = {
  run: {
    type: 'string',
    metavar: 'DIR',
    positional: 'accept',
    help: 'run directory (required; may be given as the argument)',
  },
  n: { type: 'int', default: 100, min: 1, max: 10000, help: 'number of generated images' },
  out: { type: 'string', metavar: 'FILE.png', help: 'output PNG (default RUN/samples.png)' },
  reconstructions: {
    type: 'string',
    metavar: 'FILE.png',
    help: 'reconstructions PNG (default RUN/reconstructions.png)',
  },
  seed: { type: 'int', default: 1, min: 0, max: 2 ** 31 - 1, help: 'random seed' },
  backend: { type: 'string', default: 'auto', choices: BACKEND_CHOICES, help: 'tfjs backend' },
} satisfies FlagTable;

/** Files written by `zhusuan sample`. */
export interface SampleResult {
  samples: string;
  reconstructions: string;
}

/** Runs `zhusuan sample`. */
export async function sampleCommand(argv: string[]): Promise<SampleResult> {
  const f = parseFlags('sample', argv, SAMPLE_FLAGS);
  const runDir = required('run', f.run);
  const out = f.out ?? path.join(runDir, 'samples.png');
  if (!out.endsWith('.png')) throw new UsageError(`--out: expected a .png file name, got '${out}'`);
  const reconOut = f.reconstructions ?? path.join(runDir, 'reconstructions.png');
  if (!reconOut.endsWith('.png')) {
    throw new UsageError(`--reconstructions: expected a .png file name, got '${reconOut}'`);
  }
  readConfig(runDir); // a bad --run is a usage error before anything else
  checkWritable(out, f.out !== undefined ? '--out' : '--run');
  checkWritable(reconOut, f.reconstructions !== undefined ? '--reconstructions' : '--run');
  const backend = await useBackend(f.backend as BackendChoice);
  const state = await openRun(runDir, backend);
  try {
    // Reconstructions of held-out images when the test split exists, else of
    // training images; the images' shape comes from their IDX header.
    const { x, n: m, split, rows, cols } = viewingImages(state.cfg.dataset, 50);
    zs.random.setSeed(f.seed!);
    const means = tf.tidy(() => state.vae.sample(f.n!).dataSync() as Float32Array);
    const xDim = state.cfg.xDim;
    const recon = tf.tidy(
      () => state.vae.reconstruct(tf.tensor2d(x, [m, xDim])).dataSync() as Float32Array,
    );
    for (const [what, values] of [
      ['samples', means],
      ['reconstructions', recon],
    ] as const) {
      const at = firstNonFinite(values);
      if (at >= 0) {
        throw new Error(
          `${runFile(runDir, 'checkpoint')}: the model's ${what} hold ${values[at]} (the weights overflow); nothing written`,
        );
      }
    }
    writeFileAtomic(out, encodePng(imageGrid(means, f.n!, rows, cols)));
    writeFileAtomic(reconOut, encodePng(pairGrid(x, recon, m, rows, cols)));
    process.stderr.write(
      `wrote ${out} (${f.n} samples) and ${reconOut} (${m} ${split} images beside their reconstructions)\n`,
    );
    return { samples: out, reconstructions: reconOut };
  } finally {
    state.dispose();
  }
}
