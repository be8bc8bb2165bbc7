/**
 * The publishable packages as a user gets them. `npm pack` makes the
 * tarballs of `zhusuan` and `@zhusuan/tfjs-backend-native` (their `prepack`
 * builds them); they are installed into TypeScript projects in a temporary
 * directory outside the repository, beside tfjs from the registry (the npm
 * cache that `npm ci` filled serves it offline), and there:
 *
 * - at the top of the peer ranges (`@tensorflow/tfjs` ^4.22.0, the install
 *   script approved, npm's strict-allow-scripts on): the addon builds, the
 *   project type-checks under `strict` (zhusuan's typings included), a
 *   program fits a conjugate model by VI, samples it by HMC and evaluates it,
 *   against exact answers, on cpu and on native; the programs in
 *   docs/guide.md and zhusuan's README compile and print what they show; esbuild bundles a
 *   page that runs the same checks in headless Chromium on webgl and cpu;
 * - at the floor of zhusuan's range (tfjs 4.0.0): type-check and the checks on cpu;
 * - at the floor of the native backend's range (tfjs 4.3.0), on a PATH
 *   without a C++ compiler: `npm install` succeeds, the backend says why it
 *   is unavailable and how to fix it, and with the addon built above
 *   (ZHUSUAN_NATIVE_ADDON) the checks pass on native.
 *
 * Sizes (tarballs, bundle, zhusuan's share) are reported as diagnostics.
 * ZS_KEEP_CONSUMER=1 keeps the temporary directory.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, serveDir, webglRenderer } from '../chromium.js';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // test/dist/consumer
const REPO = path.resolve(HERE, '..', '..', '..');
const FIXTURE = path.join(REPO, 'test', 'consumer', 'fixture');
const GUIDE = path.join(REPO, 'docs', 'guide.md');
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'zhusuan-consumer-'));
const NATIVE = '@zhusuan/tfjs-backend-native';

after(() => {
  if (process.env.ZS_KEEP_CONSUMER === '1') console.log(`# consumer projects kept in ${WORK}`);
  else fs.rmSync(WORK, { recursive: true, force: true });
});

interface Check {
  name: string;
  value: number;
  expected: number;
  tolerance: number;
  ok: boolean;
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });
}

/** Asserts a command succeeded, showing the end of its output if not. */
function ok(r: SpawnSyncReturns<string>, what: string): string {
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${out.slice(-4000)}`);
  return r.stdout;
}

/** The version of a root devDependency as installed (so the npm cache has it). */
function rootVersion(name: string): string {
  const file = path.join(REPO, 'node_modules', name, 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

interface PackageJson {
  license?: string;
  keywords?: string[];
  engines?: Record<string, string>;
  sideEffects?: boolean;
  peerDependencies: Record<string, string>;
  scripts?: Record<string, string>;
}

const packed: Record<string, { tarball: string; manifest: PackageJson }> = {};

/** `npm pack` in a package's folder (running its prepack), into WORK. */
function pack(dir: string): PackResult {
  const out = ok(
    run('npm', ['pack', '--json', '--pack-destination', WORK], dir),
    `npm pack ${dir}`,
  );
  const [result] = JSON.parse(out.slice(out.indexOf('['))) as PackResult[];
  return result;
}

test('npm pack: each tarball holds its build, README and LICENSE, and no source maps', (t) => {
  for (const [name, dir, required] of [
    ['zhusuan', 'packages/zhusuan', ['dist/src/index.js', 'dist/src/index.d.ts']],
    [
      NATIVE,
      'packages/tfjs-backend-native',
      ['dist/src/index.js', 'binding.gyp', 'scripts/build.mjs'],
    ],
  ] as const) {
    const r = pack(path.join(REPO, dir));
    const files = r.files.map((f) => f.path);
    for (const f of ['package.json', 'README.md', 'LICENSE', ...required]) {
      assert.ok(files.includes(f), `${name}: ${f} missing from the tarball`);
    }
    assert.equal(
      fs.readFileSync(path.join(REPO, dir, 'LICENSE'), 'utf8'),
      fs.readFileSync(path.join(REPO, 'LICENSE'), 'utf8'),
      `${dir}/LICENSE is the repository's LICENSE`,
    );
    assert.deepEqual(
      files.filter((f) => f.endsWith('.map')),
      [],
      `${name}: source maps packed`,
    );
    assert.deepEqual(
      files.filter((f) => /^(src|test|build|bench|node_modules)\//.test(f)),
      [],
      `${name}: sources, tests or build output packed`,
    );
    // Every compiled file comes from a source that exists (prepack removes the rest).
    for (const f of files.filter((p) => p.startsWith('dist/src/'))) {
      const src = f.replace(/^dist\/src\//, 'src/').replace(/(\.d)?\.ts$|\.js$/, '.ts');
      assert.ok(fs.existsSync(path.join(REPO, dir, src)), `${name}: ${f} has no source ${src}`);
    }
    const manifest = readJson<PackageJson>(path.join(REPO, dir, 'package.json'));
    assert.equal(manifest.license, 'MIT');
    assert.ok((manifest.keywords ?? []).length > 0, `${name}: keywords`);
    assert.ok(manifest.engines?.node, `${name}: engines.node`);
    assert.equal(manifest.sideEffects, false, `${name}: sideEffects`);
    for (const [peer, range] of Object.entries(manifest.peerDependencies)) {
      assert.match(range, /^\^4\.\d+\.\d+$/, `${name}: peer ${peer} is a caret range`);
    }
    packed[name] = { tarball: path.join(WORK, r.filename), manifest };
    t.diagnostic(
      `${r.filename}: ${(r.size / 1024).toFixed(1)} kB packed, ` +
        `${(r.unpackedSize / 1024).toFixed(1)} kB unpacked, ${files.length} files`,
    );
  }
});

/** The lowest version a caret range admits (`^4.3.0` → `4.3.0`). */
function floor(range: string): string {
  return range.replace(/^\^/, '');
}

/**
 * A consumer project in WORK/<name>: the fixture's sources (less `leaveOut`),
 * these dependencies, TypeScript and @types/node as in the repository.
 */
function project(
  name: string,
  dependencies: Record<string, string>,
  opts: { dev?: string[]; leaveOut?: string[]; approveNative?: boolean } = {},
): string {
  const dir = path.join(WORK, name);
  fs.cpSync(FIXTURE, dir, { recursive: true });
  for (const f of opts.leaveOut ?? []) fs.rmSync(path.join(dir, f));
  const dev = ['typescript', '@types/node', ...(opts.dev ?? [])];
  const pkg = {
    name: `zhusuan-consumer-${name}`,
    private: true,
    type: 'module',
    dependencies,
    devDependencies: Object.fromEntries(dev.map((d) => [d, rootVersion(d)])),
    // npm's strict-allow-scripts (used below) wants every install script
    // approved or denied: the native backend's builds the addon (a `file:`
    // dependency is approved under its spec, as `npm install-scripts approve`
    // writes it); tfjs' core-js only prints a banner and esbuild's only
    // checks its binary.
    allowScripts: {
      'core-js': false,
      esbuild: false,
      ...(opts.approveNative ? { [dependencies[NATIVE]]: true } : {}),
    },
  };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  return dir;
}

/**
 * `npm install` as a user runs it, served from the npm cache where it can be;
 * then asserts the project has one tfjs-core (one engine: a second copy would
 * hold its own backends and tensors).
 */
function install(dir: string, env?: NodeJS.ProcessEnv): void {
  ok(
    run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--strict-allow-scripts'],
      dir,
      env,
    ),
    `npm install in ${path.basename(dir)}`,
  );
  const listed = ok(
    run('npm', ['ls', '--all', '--parseable', '@tensorflow/tfjs-core'], dir),
    'npm ls',
  );
  const copies = [...new Set(listed.split('\n').filter((l) => l.trim() !== ''))];
  assert.equal(
    copies.length,
    1,
    `${path.basename(dir)} has ${copies.length} copies of tfjs-core:\n${copies.join('\n')}`,
  );
}

function tsc(dir: string, extra: string[] = []): SpawnSyncReturns<string> {
  return run(
    process.execPath,
    [path.join(dir, 'node_modules/typescript/bin/tsc'), '-p', '.', ...extra],
    dir,
  );
}

/** Runs dist/node.js on the backends and returns its checks, asserting each passed. */
function nodeChecks(
  t: { diagnostic(m: string): void },
  dir: string,
  backends: string[],
  env: NodeJS.ProcessEnv = process.env,
): Record<string, Check[]> {
  const r = run(process.execPath, ['dist/node.js', ...backends], dir, env);
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `dist/node.js ${backends.join(' ')} printed no results:\n${r.stderr}`);
  const results = JSON.parse(line) as Record<string, Check[]>;
  for (const b of backends) {
    const failed = (results[b] ?? []).filter((c) => !c.ok);
    assert.ok(results[b]?.length, `no checks ran on ${b}`);
    assert.deepEqual(failed, [], `checks failed on ${b}`);
    t.diagnostic(`${path.basename(dir)} on ${b}: ${summary(results[b])}`);
  }
  assert.equal(r.status, 0, r.stderr);
  return results;
}

function summary(checks: Check[]): string {
  return checks
    .filter((c) => /VI|HMC|IS/.test(c.name))
    .map((c) => `${c.name} ${c.value.toFixed(4)} (exact ${c.expected.toFixed(4)})`)
    .join('; ');
}

/**
 * The TypeScript programs of a Markdown file: its blocks whose info string is
 * exactly `ts` (a `// name.ts` first line names the file, which the others may
 * import), each with the output shown in a `text` block right after it.
 */
function snippets(markdown: string): { file: string; code: string; output: string | null }[] {
  const md = fs.readFileSync(markdown, 'utf8');
  const out: { file: string; code: string; output: string | null }[] = [];
  const re = /^```ts\n([\s\S]*?)^```\n(?:\s*^```text\n([\s\S]*?)^```\n)?/gm;
  for (const m of md.matchAll(re)) {
    const named = /^\/\/ (\w[\w-]*)\.ts\n/.exec(m[1]);
    out.push({
      file: named ? `${named[1]}.ts` : `snippet-${out.length + 1}.ts`,
      code: m[1],
      output: m[2] ?? null,
    });
  }
  return out;
}

/** The documents whose programs the top project compiles and runs, and where they go. */
const DOCS = [
  { markdown: GUIDE, dir: 'guide' },
  { markdown: path.join(REPO, 'packages', 'zhusuan', 'README.md'), dir: 'readme' },
];

let top = '';

test('at the top of the peer ranges: install (addon built), strict type-check, VI/HMC/IS on cpu and native', (t) => {
  assert.ok(packed.zhusuan && packed[NATIVE], 'the tarballs were not packed');
  top = project(
    'top',
    {
      zhusuan: `file:${packed.zhusuan.tarball}`,
      [NATIVE]: `file:${packed[NATIVE].tarball}`,
      '@tensorflow/tfjs': '^4.22.0',
    },
    { dev: ['esbuild'], approveNative: true },
  );
  for (const doc of DOCS) {
    const programs = snippets(doc.markdown);
    assert.ok(programs.length > 0, `${doc.markdown} has no runnable snippet`);
    fs.mkdirSync(path.join(top, 'src', doc.dir));
    for (const p of programs) fs.writeFileSync(path.join(top, 'src', doc.dir, p.file), p.code);
  }

  const t0 = Date.now();
  install(top);
  t.diagnostic(`npm install with the addon's build: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const nativeDir = path.join(top, 'node_modules', NATIVE);
  assert.ok(
    fs.existsSync(path.join(nativeDir, 'build', 'Release', 'zhusuan_native.node')),
    'the approved install script built the addon',
  );
  assert.deepEqual(fs.readdirSync(path.join(top, 'node_modules', '@zhusuan')), [
    'tfjs-backend-native',
  ]);
  ok(run('npm', ['ls', '--all'], top), 'npm ls (no extraneous or invalid packages)');

  ok(tsc(top), 'tsc (strict)');
  // tfjs' own declarations do not compile without skipLibCheck; zhusuan's must.
  const lib = tsc(top, ['--noEmit', '--skipLibCheck', 'false']);
  const ours = `${lib.stdout}`
    .split('\n')
    .filter((l) => /node_modules\/(zhusuan|@zhusuan)\//.test(l));
  assert.deepEqual(ours, [], "zhusuan's declarations do not compile under strict");

  nodeChecks(t, top, ['cpu', 'native']);
});

test("the guide's and zhusuan's README's programs run and print what they show", () => {
  assert.ok(top !== '', 'the top project was not set up');
  for (const doc of DOCS) {
    for (const p of snippets(doc.markdown)) {
      const js = `dist/${doc.dir}/${p.file.replace(/\.ts$/, '.js')}`;
      const r = run(process.execPath, [js], top);
      ok(r, `${path.relative(REPO, doc.markdown)}: ${p.file}`);
      if (p.output !== null) {
        assert.equal(
          r.stdout.trim(),
          p.output.trim(),
          `${path.relative(REPO, doc.markdown)}: ${p.file} prints`,
        );
      }
    }
  }
});

test('the page bundles with esbuild and runs in headless Chromium on webgl and cpu', async (t) => {
  assert.ok(top !== '', 'the top project was not set up');
  const sizes = JSON.parse(ok(run(process.execPath, ['bundle.mjs'], top), 'esbuild bundle')) as {
    bytes: number;
    gzipBytes: number;
    zhusuanBytes: number;
    withoutTfjsGzipBytes: number;
  };
  const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
  t.diagnostic(
    `bundle ${kb(sizes.bytes)} (${kb(sizes.gzipBytes)} gzip), zhusuan's share ${kb(sizes.zhusuanBytes)} ` +
      `minified; the page without tfjs ${kb(sizes.withoutTfjsGzipBytes)} gzip`,
  );
  assert.ok(sizes.zhusuanBytes > 0 && sizes.zhusuanBytes < sizes.bytes);
  const server = await serveDir(path.join(top, 'www'));
  const browser = await launchChromium();
  try {
    // webgl as users get it, webgl with every op in shaders (no small ops
    // handed to cpu kernels), and cpu.
    for (const [backend, query, label] of [
      ['webgl', 'backend=webgl', 'webgl'],
      ['webgl', 'backend=webgl&forward=0', 'webgl, all ops in shaders'],
      ['cpu', 'backend=cpu', 'cpu'],
    ]) {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      if (label === 'webgl') t.diagnostic(`WebGL renderer: ${await webglRenderer(page)}`);
      // The page runs its checks in its module's top-level await, which
      // holds back the load event: wait only for the navigation to commit,
      // and bound the checks by the wait for their results below.
      const t0 = Date.now();
      await page.goto(`${server.url}/index.html?${query}`, { waitUntil: 'commit' });
      await page.waitForFunction('globalThis.checkResults !== undefined', null, {
        timeout: 300_000,
      });
      const r = (await page.evaluate('globalThis.checkResults')) as {
        backend: string;
        checks?: Check[];
        error?: string;
      };
      await page.close();
      assert.deepEqual(errors, [], `page errors on ${label}`);
      assert.equal(r.error, undefined, `the page on ${label}: ${r.error}`);
      assert.equal(r.backend, backend);
      assert.deepEqual(
        r.checks?.filter((c) => !c.ok),
        [],
        `checks failed in Chromium on ${label}`,
      );
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      t.diagnostic(`Chromium on ${label} (${seconds} s): ${summary(r.checks ?? [])}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
});

test('zhusuan at the floor of its peer range: strict type-check and the checks on cpu', (t) => {
  const range = packed.zhusuan.manifest.peerDependencies['@tensorflow/tfjs-core'];
  const dir = project(
    'zhusuan-floor',
    // An older tfjs is pinned with the peer it provides, so that npm does
    // not also install the newest tfjs-core for zhusuan's peer dependency.
    {
      zhusuan: `file:${packed.zhusuan.tarball}`,
      '@tensorflow/tfjs': floor(range),
      '@tensorflow/tfjs-core': floor(range),
    },
    { leaveOut: ['src/native.ts'] },
  );
  install(dir);
  ok(tsc(dir), `tsc (tfjs ${floor(range)})`);
  nodeChecks(t, dir, ['cpu']);
});

test('the native backend at its floor, without a C++ compiler: install succeeds and says why', (t) => {
  const range = packed[NATIVE].manifest.peerDependencies['@tensorflow/tfjs-core'];
  const dir = project(
    'native-floor',
    {
      zhusuan: `file:${packed.zhusuan.tarball}`,
      [NATIVE]: `file:${packed[NATIVE].tarball}`,
      '@tensorflow/tfjs': floor(range),
      '@tensorflow/tfjs-core': floor(range),
      '@tensorflow/tfjs-backend-cpu': floor(range),
    },
    { approveNative: true },
  );
  const env = { ...withoutCompilers(), CC: undefined, CXX: undefined };
  install(dir, env); // without a C++ compiler
  const build = path.join(dir, 'node_modules', NATIVE, 'build');
  assert.ok(!fs.existsSync(path.join(build, 'Release', 'zhusuan_native.node')));
  const probe = `
    import * as native from '${NATIVE}';
    console.log(JSON.stringify({ registered: native.registerNativeBackend(), error: native.nativeLoadError() }));`;
  const r = run(process.execPath, ['--input-type=module', '-e', probe], dir);
  const out = JSON.parse(ok(r, 'importing the backend')) as { registered: boolean; error: string };
  assert.equal(out.registered, false);
  assert.match(out.error, /the build at install failed \(make: g\+\+: No such file or directory;/);
  assert.match(out.error, /npm rebuild @zhusuan\/tfjs-backend-native/);
  assert.match(out.error, /apt-get install g\+\+ make python3 libopenblas-dev/);
  assert.doesNotMatch(out.error, /build:native/);
  t.diagnostic(`nativeLoadError(): ${out.error}`);

  ok(tsc(dir), `tsc (tfjs ${floor(range)})`);
  assert.ok(top !== '', 'the top project (whose addon this run borrows) was not set up');
  const addon = path.join(top, 'node_modules', NATIVE, 'build', 'Release', 'zhusuan_native.node');
  nodeChecks(t, dir, ['cpu', 'native'], { ...process.env, ZHUSUAN_NATIVE_ADDON: addon });
});

/**
 * An environment whose PATH holds every program of this one's PATH but the
 * C and C++ compilers (links in WORK/bin-no-compiler): a machine without g++.
 */
function withoutCompilers(): NodeJS.ProcessEnv {
  const bin = path.join(WORK, 'bin-no-compiler');
  fs.mkdirSync(bin, { recursive: true });
  const compiler =
    /^(g\+\+|gcc|cc|c\+\+|clang|clang\+\+)(-[\d.]+)?$|-(g\+\+|gcc|c\+\+|cc)(-[\d.]+)?$/;
  const linked = new Set<string>();
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '' || !fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) {
      if (compiler.test(name) || linked.has(name)) continue;
      linked.add(name);
      fs.symlinkSync(path.join(dir, name), path.join(bin, name));
    }
  }
  return { ...process.env, PATH: bin };
}
