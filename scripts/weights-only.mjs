#!/usr/bin/env node
// Rewrites run checkpoints without their optimizer state (weights, counters
// and RNG states only), as committed results keep them:
//   node scripts/weights-only.mjs results/vae-long/checkpoint.zsck ...
// Needs `npm run build` first. Each file is replaced atomically.
import {
  loadCheckpoint,
  saveCheckpoint,
  weightsOnly,
} from '../packages/cli/dist/src/run/checkpoint.js';
import * as fs from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node scripts/weights-only.mjs CHECKPOINT...\n');
  process.exit(2);
}
for (const file of files) {
  const before = fs.statSync(file).size;
  saveCheckpoint(file, weightsOnly(loadCheckpoint(file)));
  const after = fs.statSync(file).size;
  process.stderr.write(
    `${file}: ${(before / 1e6).toFixed(1)} MB -> ${(after / 1e6).toFixed(1)} MB\n`,
  );
}
