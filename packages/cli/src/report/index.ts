/**
 * `zhusuan report`: report.pdf and the LaTeX source it came from, built from
 * a run directory's files with pdflatex (Debian: texlive-latex-recommended,
 * texlive-fonts-recommended, texlive-pictures).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../args.js';
import { readConfig, readEvalReport, readMetrics, writeFileAtomic } from '../run/files.js';
import { reportTex } from './tex.js';

export { reportTex, texEscape } from './tex.js';

/** The TeX packages the report needs, for error messages and docs. */
export const TEX_PACKAGES = 'texlive-latex-recommended texlive-fonts-recommended texlive-pictures';

/** Options of {@link buildReport}. */
export interface ReportOptions {
  run: string;
  /** Output PDF (default RUN/report.pdf); the .tex goes beside it. */
  out?: string;
}

/** Paths written and the page count. */
export interface ReportResult {
  pdf: string;
  tex: string;
  pages: number;
}

function relativeFigure(texDir: string, file: string): string | undefined {
  if (!fs.existsSync(file)) return undefined;
  // LaTeX wants forward slashes and no spaces; figure names are ours, paths may not be.
  const rel = path.relative(texDir, file).split(path.sep).join('/');
  if (/[\s%#{}]/.test(rel)) {
    throw new UsageError(`--out: the path from the report to ${file} contains characters LaTeX cannot include`);
  }
  return rel;
}

/** Builds the report of `opts.run`. */
export async function buildReport(opts: ReportOptions): Promise<ReportResult> {
  const run = opts.run;
  const config = readConfig(run);
  const metrics = readMetrics(run);
  if (metrics.length === 0) {
    throw new Error(`${path.join(run, 'metrics.jsonl')}: no completed epochs to report`);
  }
  const evalFile = path.join(run, 'eval.json');
  const evaluation = fs.existsSync(evalFile) ? readEvalReport(evalFile) : undefined;
  const moreEvaluations = fs
    .readdirSync(run)
    .filter((f) => /^eval-\d+\.json$/.test(f))
    .map((f) => readEvalReport(path.join(run, f)))
    .sort((a, b) => a.particles - b.particles);
  const pdf = path.resolve(opts.out ?? path.join(run, 'report.pdf'));
  const outDir = path.dirname(pdf);
  if (!fs.existsSync(outDir)) throw new UsageError(`--out: directory ${outDir} does not exist`);
  const base = path.basename(pdf, '.pdf');
  const texFile = path.join(outDir, `${base}.tex`);
  const tex = reportTex({
    runName: path.basename(path.resolve(run)),
    config,
    metrics,
    evaluation,
    moreEvaluations,
    samples: relativeFigure(outDir, path.join(run, 'samples.png')),
    reconstructions: relativeFigure(outDir, path.join(run, 'reconstructions.png')),
    date: new Date().toISOString().slice(0, 10),
  });
  writeFileAtomic(texFile, tex);

  // Compile in a scratch directory (aux, log), from the .tex's directory so the
  // figures' relative paths resolve; twice for the cross-references.
  // On failure the scratch directory is kept: the error message points at its log.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'zs-report-'));
  {
    let log = '';
    for (let pass = 0; pass < 2; pass++) {
      const r = spawnSync(
        'pdflatex',
        ['-interaction=nonstopmode', '-halt-on-error', `-output-directory=${work}`, `${base}.tex`],
        { cwd: outDir, encoding: 'utf8' },
      );
      if (r.error) {
        throw new Error(`pdflatex not found (${r.error.message}); install it: apt-get install ${TEX_PACKAGES}`);
      }
      log = r.stdout;
      if (r.status !== 0) {
        const err = log.split('\n').find((l) => l.startsWith('!')) ?? `exit code ${r.status}`;
        throw new Error(`pdflatex failed on ${texFile}: ${err} (log: ${path.join(work, `${base}.log`)})`);
      }
    }
    const m = /Output written on .*?\((\d+) pages?/.exec(log.replace(/\n/g, ''));
    const tmpPdf = `${pdf}.tmp-${process.pid}`;
    fs.copyFileSync(path.join(work, `${base}.pdf`), tmpPdf);
    fs.renameSync(tmpPdf, pdf);
    fs.rmSync(work, { recursive: true, force: true });
    return { pdf, tex: texFile, pages: m ? Number(m[1]) : 0 };
  }
}
