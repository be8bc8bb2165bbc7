/**
 * With the addon unloadable (ZHUSUAN_NATIVE_ADDON pointing at a missing or
 * broken file), importing the package does not throw, and it reports why and
 * how to fix it with a command that works in any project (`npm rebuild
 * @zhusuan/tfjs-backend-native`, not the repository's `npm run build:native`).
 * Runs in child processes: the addon loads once per process.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';

const indexUrl = pathToFileURL(
  join(fileURLToPath(import.meta.url), '..', '..', 'src', 'index.js'),
).href;

function probe(addonPath: string): {
  available: boolean;
  error: string | null;
  registered: boolean;
  adam: string;
} {
  const script = `
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    const m = await import(${JSON.stringify(indexUrl)});
    await tf.setBackend('cpu');
    const out = { available: m.isNativeAvailable(), error: m.nativeLoadError(),
                  registered: m.registerNativeBackend(), adam: m.adam(0.01).constructor.name };
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ZHUSUAN_NATIVE_ADDON: addonPath },
    encoding: 'utf8',
    cwd: join(fileURLToPath(import.meta.url), '..'),
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('fallback without the addon', () => {
  it('a missing addon: not available, one-line reason with the fix, nothing registered', () => {
    const out = probe('/path/that/does/not/exist/zhusuan_native.node');
    assert.equal(out.available, false);
    assert.equal(out.registered, false);
    assert.ok(out.error !== null);
    assert.ok(!out.error.includes('\n'), 'one line');
    assert.match(out.error, /not found at \/path\/that\/does\/not\/exist/);
    assert.match(out.error, /ZHUSUAN_NATIVE_ADDON/);
    assert.match(out.error, /npm rebuild @zhusuan\/tfjs-backend-native/);
    assert.match(out.error, /apt-get install g\+\+ make python3 libopenblas-dev/);
    assert.equal(out.adam, 'AdamOptimizer', 'adam() falls back to tf.train.adam');
  });
  it('a broken addon file: not available, the loader error in the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zsn-'));
    try {
      const bad = join(dir, 'zhusuan_native.node');
      writeFileSync(bad, 'not a shared object');
      const out = probe(bad);
      assert.equal(out.available, false);
      assert.equal(out.registered, false);
      assert.match(out.error ?? '', /failed to load/);
      assert.match(out.error ?? '', /npm rebuild @zhusuan\/tfjs-backend-native/);
      assert.ok(!(out.error ?? '').includes('\n'), 'one line');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a build that failed at install: the recorded cause and the log in the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zsn-'));
    try {
      // What scripts/build.mjs leaves when the compiler is missing.
      mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
      writeFileSync(
        join(dir, 'build', 'install-error.txt'),
        'make: g++: No such file or directory\n',
      );
      const out = probe(join(dir, 'build', 'Release', 'zhusuan_native.node'));
      assert.equal(out.available, false);
      assert.equal(out.registered, false);
      const error = out.error ?? '';
      assert.match(error, /the build at install failed \(make: g\+\+: No such file or directory;/);
      assert.ok(error.includes(join(dir, 'build', 'install.log')), error);
      assert.match(error, /npm rebuild @zhusuan\/tfjs-backend-native/);
      assert.ok(!error.includes('\n'), 'one line');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
