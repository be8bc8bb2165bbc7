/** `zhusuan sample`: a PNG grid of generations and one of reconstructions. */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { parseFlags, required, UsageError, type FlagTable } from '../args.js';
import { BACKEND_CHOICES, useBackend, type BackendChoice } from '../backend.js';
import { imageGrid, pairGrid, writePng } from '../image/index.js';
import { viewingImages } from '../data/index.js';
import { openRun } from '../vae/run.js';

/** Flags of `zhusuan sample`. */
export const SAMPLE_FLAGS = {
  run: { type: 'string', help: 'run directory (required)' },
  n: { type: 'int', default: 100, min: 1, max: 10000, help: 'number of generated images' },
  out: { type: 'string', help: 'output PNG (default RUN/samples.png)' },
  reconstructions: {
    type: 'string',
    help: 'reconstructions PNG (default RUN/reconstructions.png)',
  },
  seed: { type: 'int', default: 1, min: 0, help: 'random seed' },
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
  const backend = await useBackend(f.backend as BackendChoice);
  const state = await openRun(runDir, backend);
  try {
    // Reconstructions of held-out images when the test split exists, else of
    // training images; the images' shape comes from their IDX header.
    const { x, n: m, split, rows, cols } = viewingImages(state.cfg.dataset, 50);
    zs.random.setSeed(f.seed!);
    const means = state.vae.sample(f.n!);
    writePng(out, imageGrid(means.dataSync() as Float32Array, f.n!, rows, cols));
    means.dispose();

    const xDim = state.cfg.xDim;
    const recon = tf.tidy(
      () => state.vae.reconstruct(tf.tensor2d(x, [m, xDim])).dataSync() as Float32Array,
    );
    writePng(reconOut, pairGrid(x, recon, m, rows, cols));
    process.stderr.write(
      `wrote ${out} (${f.n} samples) and ${reconOut} (${m} ${split} images beside their reconstructions)\n`,
    );
    return { samples: out, reconstructions: reconOut };
  } finally {
    state.dispose();
  }
}
