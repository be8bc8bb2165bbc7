/**
 * The committed corpus of damaged inputs (packages/cli/test/corpus, built by
 * scripts/make-damaged-corpus.mjs): truncated, bit-flipped, huge-dimension,
 * gzip-bomb, FIFO, device and symlinked IDX files, checkpoints, configs,
 * metrics and evaluations, and bad flags. Every case must exit 1 or 2 (as
 * the case says) within seconds, with one line on stderr naming the file or
 * flag and what is wrong, in bounded memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/zhusuan.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../../../../', import.meta.url));
const CORPUS = path.join(REPO, 'packages/cli/test/corpus');
const SCRIPT = path.join(REPO, 'scripts/make-damaged-corpus.mjs');
/** Seconds a case may take (they take about one; a hang is what this catches). */
const TIME_LIMIT_S = 20;
/** Peak resident memory a case may reach: Node and tfjs take ~150 MB, a gzip bomb took 2.1 GB. */
const RSS_LIMIT_MB = 400;

interface Case {
  name: string;
  target: 'run' | 'data';
  fifos: string[];
  directories: string[];
  command: string[];
  exit: number;
  pattern: string;
}

/** Every file under `dir` (symlinks as `-> target`), relative, with its bytes. */
function listing(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isSymbolicLink()) out.set(r, `-> ${fs.readlinkSync(path.join(dir, r))}`);
      else if (st.isDirectory()) walk(r);
      else out.set(r, fs.readFileSync(path.join(dir, r)).toString('base64'));
    }
  };
  walk('');
  return out;
}

test('the committed corpus is what scripts/make-damaged-corpus.mjs builds', () => {
  const fresh = path.join(tempDir('zs-corpus-'), 'corpus');
  const r = spawnSync(process.execPath, [SCRIPT, fresh], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const want = listing(fresh);
  const have = listing(CORPUS);
  assert.deepEqual([...have.keys()], [...want.keys()], 'the same files');
  for (const [file, bytes] of want) assert.ok(have.get(file) === bytes, `${file} differs`);
});

/** Copies `from` into `to`, symlinks as symlinks, with @DATA@ in JSON files replaced. */
function overlay(from: string, to: string, dataDir: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    if (name === 'README') continue;
    const src = path.join(from, name);
    const dst = path.join(to, name);
    fs.rmSync(dst, { recursive: true, force: true });
    const st = fs.lstatSync(src);
    if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(src), dst);
    } else if (name.endsWith('.json') && st.size < 100_000) {
      fs.writeFileSync(dst, fs.readFileSync(src, 'utf8').replaceAll('@DATA@', dataDir));
    } else {
      fs.copyFileSync(src, dst);
    }
  }
}

/** A case's run and data directories: the base with the case's files laid over. */
function assemble(c: Case | undefined): { run: string; data: string; tmp: string } {
  const tmp = tempDir('zs-case-');
  const run = path.join(tmp, 'base-run');
  const data = path.join(tmp, 'base-data');
  overlay(path.join(CORPUS, 'base/data'), data, data);
  overlay(path.join(CORPUS, 'base/run'), run, data);
  if (c !== undefined) {
    const target = c.target === 'run' ? run : data;
    overlay(path.join(CORPUS, 'cases', c.name), target, data);
    for (const f of c.fifos) {
      fs.rmSync(path.join(target, f), { force: true });
      const r = spawnSync('mkfifo', [path.join(target, f)]);
      assert.equal(r.status, 0, `mkfifo: ${r.stderr}`);
    }
    for (const d of c.directories) {
      fs.rmSync(path.join(target, d), { force: true });
      fs.mkdirSync(path.join(target, d));
    }
  }
  return { run, data, tmp };
}

// Records the process's peak resident memory when it exits, however it exits normally.
const RSS_PROBE =
  'data:text/javascript,' +
  encodeURIComponent(
    "import { writeFileSync } from 'node:fs';" +
      "process.on('exit', () => writeFileSync(process.env.ZS_RSS_FILE, String(process.resourceUsage().maxRSS)));",
  );

interface Outcome {
  code: number | null;
  signal: string | null;
  stderr: string;
  seconds: number;
  rssMb: number;
}

function zhusuan(args: string[], tmp: string): Promise<Outcome> {
  const rssFile = path.join(tmp, 'rss');
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child: ChildProcess = execFile(
      process.execPath,
      [`--import=${RSS_PROBE}`, BIN, ...args],
      {
        encoding: 'utf8',
        timeout: TIME_LIMIT_S * 1000,
        env: { ...process.env, ZS_RSS_FILE: rssFile },
      },
      (_err, _stdout, stderr) =>
        resolve({
          code: child.exitCode,
          signal: child.signalCode,
          stderr,
          seconds: (performance.now() - t0) / 1000,
          rssMb: fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8')) / 1024 : NaN,
        }),
    );
  });
}

const substitute = (argv: string[], dirs: { run: string; data: string; tmp: string }) =>
  argv.map((a) =>
    a.replaceAll('{run}', dirs.run).replaceAll('{data}', dirs.data).replaceAll('{tmp}', dirs.tmp),
  );

test('the corpus base is valid: eval accepts it', async () => {
  const dirs = assemble(undefined);
  const r = await zhusuan(
    substitute(['eval', '--run', '{run}', '--particles', '2', '--backend', 'cpu', '--json'], dirs),
    dirs.tmp,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dirs.run, 'eval.json'), 'utf8')).n_test, 10);
});

test('every damaged input exits 1 or 2 within seconds, in bounded memory, with one line naming it', async () => {
  const cases = JSON.parse(fs.readFileSync(path.join(CORPUS, 'cases.json'), 'utf8')) as Case[];
  assert.ok(cases.length >= 80, `${cases.length} cases`);
  const results: (Outcome & { c: Case })[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const dirs = assemble(c);
      results.push({ c, ...(await zhusuan(substitute(c.command, dirs), dirs.tmp)) });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const failures: string[] = [];
  for (const { c, code, signal, stderr, seconds, rssMb } of results) {
    const lines = stderr.split('\n').filter((l) => l !== '');
    const problems = [
      code !== c.exit && `exit ${code ?? signal}, expected ${c.exit}`,
      lines.length !== 1 && `${lines.length} lines on stderr`,
      !new RegExp(c.pattern).test(lines[0] ?? '') && `message does not match /${c.pattern}/`,
      !(rssMb < RSS_LIMIT_MB) && `peak memory ${rssMb.toFixed(0)} MB`,
      seconds >= TIME_LIMIT_S && `took ${seconds.toFixed(0)} s`,
    ].filter(Boolean);
    if (problems.length > 0) failures.push(`${c.name}: ${problems.join('; ')}\n  ${stderr.trim()}`);
  }
  const by = (code: number) => results.filter((r) => r.code === code).length;
  const slowest = results.reduce((a, b) => (b.seconds > a.seconds ? b : a));
  const biggest = results.reduce((a, b) => (b.rssMb > a.rssMb ? b : a));
  process.stdout.write(
    `# corpus: ${results.length} cases, ${by(1)} exit 1, ${by(2)} exit 2; ` +
      `slowest ${slowest.seconds.toFixed(1)} s (${slowest.c.name}), ` +
      `peak memory ${biggest.rssMb.toFixed(0)} MB (${biggest.c.name})\n`,
  );
  assert.deepEqual(failures, []);
});
