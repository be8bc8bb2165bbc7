/**
 * `npm run examples:table`: rewrites the table in examples/README.md from the
 * results files under examples/results/ (`--check` only compares, exit 1 when
 * they differ).
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR } from './common/run.js';
import { readResults, replaceTable, resultsTable } from './common/result.js';

/** examples/README.md in the repository. */
export const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The README's text with its table made from the results files. */
export function regeneratedReadme(): string {
  return replaceTable(
    fs.readFileSync(README, 'utf8'),
    resultsTable(readResults(RESULTS_DIR)),
    README,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = regeneratedReadme();
  if (process.argv.includes('--check')) {
    if (text !== fs.readFileSync(README, 'utf8')) {
      process.stderr.write(
        `${README}: the table differs from examples/results; run npm run examples:table\n`,
      );
      process.exitCode = 1;
    }
  } else {
    fs.writeFileSync(README, text);
    process.stderr.write(`updated ${README}\n`);
  }
}
