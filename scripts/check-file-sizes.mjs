#!/usr/bin/env node
// Fails when a file git tracks is larger than the repository allows (6 MB):
// results keep weights-only checkpoints and small grids, never outputs a
// script regenerates. Run by `npm run lint` (and so by `npm test`).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

const LIMIT = 6 * 1024 * 1024;
let files;
try {
  files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
} catch (err) {
  process.stderr.write(`check-file-sizes: cannot list tracked files (${err.message})\n`);
  process.exit(1);
}
const big = files.filter((f) => fs.existsSync(f) && fs.statSync(f).size > LIMIT);
for (const f of big) {
  process.stderr.write(
    `check-file-sizes: ${f} is ${(fs.statSync(f).size / 1e6).toFixed(1)} MB, over the 6 MB limit ` +
      '(commit weights-only checkpoints: node scripts/weights-only.mjs FILE)\n',
  );
}
process.exit(big.length > 0 ? 1 : 0);
