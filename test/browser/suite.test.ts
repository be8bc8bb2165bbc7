/**
 * The zhusuan library's own test suite in headless Chromium, on tfjs' webgl
 * backend (the one most browser users get) and on cpu.
 *
 * Every compiled test file of packages/zhusuan (dist/test/**\/*.test.js) is
 * bundled with esbuild, `node:test` and `node:assert/strict` mapped to the
 * shims beside this file; files that reach other Node modules (directly or
 * through a helper: child processes, files) are left out, and listed. Each file runs in a page of
 * its own (fresh module state, as a process per file under `node --test`),
 * `ZS_BROWSER_WORKERS` pages at a time (default 2); `ZS_BROWSER_FILES`
 * (comma-separated paths under dist/test, e.g. `mcmc/nuts.test.js`) runs
 * only those, for work on one file. Every test must pass on
 * both backends, except the WebGL differences documented in
 * webgl_differences.ts, which must fail on webgl as documented and pass on
 * cpu.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { Browser } from 'playwright-core';
import { launchChromium, serveDir, webglRenderer } from '../chromium.js';
import type { FileResults } from './page.js';
import { WEBGL_DIFFERENCES } from './webgl_differences.js';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // test/dist/browser
const REPO = path.resolve(HERE, '..', '..', '..');
const TESTS = path.join(REPO, 'packages', 'zhusuan', 'dist', 'test');
const WORKERS = Number(process.env.ZS_BROWSER_WORKERS ?? 2);
/** Only these test files (paths relative to TESTS), when set. */
const ONLY = (process.env.ZS_BROWSER_FILES ?? '').split(',').filter((f) => f !== '');
/** The Node modules a bundled test may import (the shims stand in for them). */
const SHIMMED = new Set(['node:test', 'node:assert/strict']);
/** A file's time limit in the browser (the slowest take ~1.5 min on webgl). */
const FILE_TIMEOUT_MS = 10 * 60_000;

let bundleDir = '';
let server: { url: string; close(): Promise<void> };
let browser: Browser;
/** Test files (relative to TESTS) in the bundle, and those left out with the reason. */
let files: string[] = [];
const nodeOnly: Record<string, string> = {};

/**
 * Files that need a process of their own, so the browser suite (one page,
 * one bundle of tfjs per file, with the union package's gradients) cannot
 * reproduce their setting; Node runs them.
 */
const NEEDS_OWN_PROCESS: Record<string, string> = {
  'gradients.test.js':
    'it needs a tfjs with no gradients registered (tfjs-core alone, one process); the page bundle registers them for every file',
};

before(async () => {
  assert.ok(
    fs.existsSync(TESTS),
    `${TESTS} missing: run \`npm run build\` first (the suite bundles the compiled tests)`,
  );
  const all = fs
    .readdirSync(TESTS, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zs-browser-suite-'));
  // Node's modules, as the tests import them (`node:` names), stay external:
  // a test file that reaches one, directly or through a helper, is left out
  // (its chunks are never loaded by a page). Bare names ('crypto', 'util')
  // come from dependencies, whose package.json maps them away for browsers.
  const nodeModules = builtinModules.map((m) => `node:${m}`);
  const result = await esbuild.build({
    entryPoints: [path.join(HERE, 'page.js'), ...all.map((f) => path.join(TESTS, f))],
    outbase: REPO,
    outdir: bundleDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    logLevel: 'error',
    metafile: true,
    absWorkingDir: REPO,
    alias: {
      'node:test': path.join(HERE, 'node_test.js'),
      'node:assert/strict': path.join(HERE, 'node_assert.js'),
    },
    external: nodeModules.filter((m) => !SHIMMED.has(m)),
  });
  for (const f of all) {
    const reached = nodeImports(result.metafile, path.relative(REPO, path.join(TESTS, f)));
    if (reached.length > 0) nodeOnly[f] = `imports ${reached.join(', ')}`;
    else if (NEEDS_OWN_PROCESS[f] !== undefined) nodeOnly[f] = NEEDS_OWN_PROCESS[f];
    else files.push(f);
  }
  const unknown = ONLY.filter((f) => !all.includes(f));
  assert.deepEqual(unknown, [], `ZS_BROWSER_FILES names files not in ${TESTS}`);
  if (ONLY.length > 0) files = files.filter((f) => ONLY.includes(f));
  // Heaviest first (by compiled size), so the last pages to finish are short.
  const size = (f: string) => fs.statSync(path.join(TESTS, f)).size;
  files = files.sort((a, b) => size(b) - size(a));
  const pageJs = path.relative(REPO, path.join(HERE, 'page.js'));
  fs.writeFileSync(
    path.join(bundleDir, 'index.html'),
    `<!doctype html><meta charset="utf-8"><script type="module" src="/${pageJs}"></script>\n`,
  );
  server = await serveDir(bundleDir);
  browser = await launchChromium();
});

/** The Node modules that `input` imports, directly or through the modules it imports. */
function nodeImports(metafile: esbuild.Metafile, input: string): string[] {
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (p: string) => {
    if (seen.has(p)) return;
    seen.add(p);
    for (const imp of metafile.inputs[p]?.imports ?? []) {
      if (imp.external) found.add(imp.path);
      else visit(imp.path);
    }
  };
  visit(input);
  return [...found].sort();
}

after(async () => {
  await browser?.close();
  await server?.close();
  if (bundleDir !== '') fs.rmSync(bundleDir, { recursive: true, force: true });
});

/** Runs one test file in a page of its own. */
async function runFile(file: string, backend: string): Promise<TimedResults> {
  const t0 = Date.now();
  const page = await browser.newPage();
  try {
    const rel = path.relative(REPO, path.join(TESTS, file));
    const url = `${server.url}/index.html?backend=${backend}&files=${encodeURIComponent(rel)}`;
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // The file's tests are bounded by the wait for their results below, not
    // by the load event (which a busy machine can hold past goto's 30 s).
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForFunction('globalThis.zsResults !== undefined', null, {
      timeout: FILE_TIMEOUT_MS,
      polling: 500,
    });
    const [r] = (await page.evaluate('globalThis.zsResults')) as FileResults[];
    if (pageErrors.length > 0 && r.error === undefined) r.error = pageErrors.join('; ');
    return { ...r, file, ms: Date.now() - t0 };
  } finally {
    await page.close();
  }
}

/** A file's results and the wall time of its page, load included. */
type TimedResults = FileResults & { ms: number };

/** The `n` slowest of `items` as "name 12.3 s" (the time a page or a test took). */
function slowest(items: { name: string; ms: number }[], n: number): string {
  return [...items]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, n)
    .map((x) => `${x.name} ${(x.ms / 1000).toFixed(1)} s`)
    .join(', ');
}

/** Every file on `backend`, WORKERS pages at a time. */
async function runAll(backend: string): Promise<TimedResults[]> {
  const queue = [...files];
  const out: TimedResults[] = [];
  await Promise.all(
    Array.from({ length: Math.max(1, WORKERS) }, async () => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
        out.push(await runFile(f, backend));
      }
    }),
  );
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

async function runSuite(t: TestContext, backend: 'webgl' | 'cpu'): Promise<void> {
  const t0 = Date.now();
  if (backend === 'webgl') {
    const page = await browser.newPage();
    t.diagnostic(`WebGL renderer: ${await webglRenderer(page)}`);
    await page.close();
  }
  assert.ok(files.length > 0, 'no test file to run in the browser');
  const results = await runAll(backend);
  const problems: string[] = [];
  let total = 0;
  let passed = 0;
  let documented = 0;
  const known = new Map(WEBGL_DIFFERENCES.map((d) => [`${d.file} :: ${d.test}`, d]));
  const seen = new Set<string>();
  for (const r of results) {
    if (r.error !== undefined) problems.push(`${r.file}: ${r.error}`);
    if (r.backend !== backend) problems.push(`${r.file} ran on ${r.backend}, not ${backend}`);
    if (r.results.length === 0) problems.push(`${r.file}: no test ran`);
    for (const x of r.results) {
      total++;
      const key = `${r.file} :: ${x.name}`;
      const diff = backend === 'webgl' ? known.get(key) : undefined;
      if (diff !== undefined) seen.add(key);
      if (x.ok && diff === undefined) {
        passed++;
      } else if (x.ok) {
        problems.push(`${key} passes on webgl now: remove it from webgl_differences.ts`);
      } else if (diff !== undefined && diff.error.test(x.error ?? '')) {
        documented++;
      } else {
        problems.push(
          `${key} failed on ${backend}:\n    ${(x.error ?? '').split('\n').slice(0, 4).join('\n    ')}`,
        );
      }
    }
  }
  if (backend === 'webgl') {
    for (const [key, d] of known) {
      if (!seen.has(key) && files.includes(d.file)) {
        problems.push(`${key} is in webgl_differences.ts but did not run`);
      }
    }
  }
  const left = Object.entries(nodeOnly).map(([f, why]) => `${f} (${why})`);
  t.diagnostic(
    `${backend}: ${passed} of ${total} tests passed` +
      (backend === 'webgl' ? `, ${documented} failed as documented WebGL differences` : '') +
      `; ${results.length} files in ${((Date.now() - t0) / 1000).toFixed(0)} s` +
      `; left out (Node only): ${left.join(', ') || 'none'}`,
  );
  t.diagnostic(
    `${backend}: slowest files ${slowest(
      results.map((r) => ({ name: r.file, ms: r.ms })),
      5,
    )}; slowest tests ${slowest(
      results.flatMap((r) => r.results.map((x) => ({ name: `${r.file} :: ${x.name}`, ms: x.ms }))),
      5,
    )}`,
  );
  assert.deepEqual(problems, [], `the suite on ${backend} in Chromium`);
}

test('the zhusuan test suite in headless Chromium on webgl', async (t) => runSuite(t, 'webgl'));
test('the zhusuan test suite in headless Chromium on cpu', async (t) => runSuite(t, 'cpu'));
