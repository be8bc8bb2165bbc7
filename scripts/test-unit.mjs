// `npm run test:unit`: every compiled test file under `node --test`.
//
// The browser suite (test/dist/browser/suite.test.js: the library's tests in
// headless Chromium, on webgl through SwiftShader and on cpu) is about half
// of the time, ~12 min, and is bound by Chromium's GPU process, which
// SwiftShader keeps at ~1.25 cores whatever runs beside it. It therefore
// runs in a process of its own beside the other files, which run one at a
// time as before (they share ports, temporary trees and the native build,
// so never two of them at once). Its output is held and printed after theirs,
// so that the two TAP streams do not interleave. The exit code is non-zero
// when either failed.
//
// ZS_TEST_SERIAL=1 runs everything one file at a time (the browser suite
// last), as before; arguments, when given, are the test files to run.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BROWSER_SUITE = join('test', 'dist', 'browser', 'suite.test.js');

/** The compiled test files (`*.test.js`) under `dir`, relative to the root. */
function testFiles(dir) {
  const abs = join(root, dir);
  let names;
  try {
    names = readdirSync(abs);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) return testFiles(relative(root, p));
    return name.endsWith('.test.js') ? [relative(root, p)] : [];
  });
}

const roots = [
  ...readdirSync(join(root, 'packages')).map((p) => join('packages', p, 'dist', 'test')),
  join('examples', 'dist', 'test'),
  join('test', 'dist'),
];
const files = process.argv.length > 2 ? process.argv.slice(2) : roots.flatMap(testFiles).sort();
if (files.length === 0) {
  console.error('test-unit: no compiled test files: run `npm run build` first');
  process.exit(1);
}

/** Runs `node --test` on `list`; resolves with its exit code, its output kept when `hold`. */
function nodeTest(list, hold) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...list], {
      cwd: root,
      stdio: hold ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    const chunks = [];
    if (hold) {
      child.stdout.on('data', (c) => chunks.push(c));
      child.stderr.on('data', (c) => chunks.push(c));
    }
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal !== null ? 1 : 0),
        seconds: (Date.now() - t0) / 1000,
        output: Buffer.concat(chunks).toString('utf8'),
      }),
    );
  });
}

const browser = files.filter((f) => f === BROWSER_SUITE);
const rest = files.filter((f) => f !== BROWSER_SUITE);
if (process.env.ZS_TEST_SERIAL === '1' || browser.length === 0 || rest.length === 0) {
  const r = await nodeTest([...rest, ...browser], false);
  process.exit(r.code);
}
const [side, main] = await Promise.all([nodeTest(browser, true), nodeTest(rest, false)]);
process.stdout.write(`\n# ---- ${BROWSER_SUITE}, run beside the files above ----\n`);
process.stdout.write(side.output);
console.log(
  `# test-unit: ${rest.length} files exited ${main.code} in ${main.seconds.toFixed(0)} s; ` +
    `${BROWSER_SUITE} beside them exited ${side.code} in ${side.seconds.toFixed(0)} s`,
);
process.exit(main.code !== 0 ? main.code : side.code);
