/** `zhusuan report`: build report.pdf and its LaTeX source from a run. */
import * as path from 'node:path';
import { parseFlags, required, UsageError, type FlagTable } from '../args.js';
import { buildReport } from '../report/index.js';

/** Flags of `zhusuan report`. */
export const REPORT_FLAGS = {
  run: {
    type: 'string',
    metavar: 'DIR',
    positional: 'accept',
    help: 'run directory (required; may be given as the argument)',
  },
  out: { type: 'string', metavar: 'FILE.pdf', help: 'output PDF (default RUN/report.pdf)' },
} satisfies FlagTable;

/** Runs `zhusuan report`. */
export async function reportCommand(argv: string[]): Promise<void> {
  const f = parseFlags('report', argv, REPORT_FLAGS);
  const run = required('run', f.run);
  const out = f.out ?? path.join(run, 'report.pdf');
  if (!out.endsWith('.pdf')) throw new UsageError(`--out: expected a .pdf file name, got '${out}'`);
  const r = await buildReport({ run, out });
  process.stderr.write(`wrote ${r.pdf} (${r.pages} pages) and its source ${r.tex}\n`);
}
