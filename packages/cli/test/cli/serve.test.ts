/**
 * `zhusuan serve`: the server's routes and errors, the viewer's module graph
 * as a browser resolves it, and the page itself in headless Chromium (Debian's
 * `chromium`, installed by scripts/install-system-deps.sh), whose decoded
 * pixels must equal the same library's in Node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { ViewerVae } from '@zhusuan/viewer';
import { parseWeights, type RunInfo } from '@zhusuan/viewer/protocol';
import { chromium } from 'playwright-core';
import { useBackend } from '../../src/backend.js';
import { startViewer } from '../../src/commands/serve.js';
import { openRun } from '../../src/vae/run.js';
import { tempDir, writeTinyDataset } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/zhusuan.js', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

const data = writeTinyDataset({ train: 120, test: 30 });
const run = path.join(tempDir(), 'tiny-run');
{
  const r = spawnSync(
    process.execPath,
    [BIN, 'train', '--run', run, '--dataset', data, '--epochs', '2', '--hidden', '16'].concat([
      '--z-dim',
      '4',
      '--batch-size',
      '40',
      '--backend',
      'cpu',
    ]),
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
}
fs.writeFileSync(
  path.join(run, 'eval.json'),
  JSON.stringify({
    test_elbo: -200.5,
    test_ll: -190.25,
    test_ll_stderr: 0.5,
    test_ll_sem_over_images: 1.5,
    particles: 10,
    n_test: 30,
    seconds: 1.25,
    epoch: 2,
    backend: 'cpu',
    dataset: data,
  }),
);

/** A GET (or other method) with the path sent exactly as given, unnormalised. */
function request(
  url: string,
  p: string,
  method = 'GET',
): Promise<{ status: number; type: string; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: p, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          type: String(res.headers['content-type']),
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

test('serve: the run, its weights, images and metrics; nothing outside the served trees', async () => {
  const viewer = await startViewer({ runDir: run, port: 0, host: '127.0.0.1', images: 12 });
  try {
    assert.match(viewer.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const info = JSON.parse((await request(viewer.url, '/api/run')).body.toString()) as RunInfo;
    assert.equal(info.name, 'tiny-run');
    assert.equal(info.epoch, 2);
    assert.equal(info.config.hidden, 16);
    assert.equal(info.eval?.test_ll, -190.25);
    assert.equal(info.evalValid, null);
    assert.deepEqual(info.images, {
      n: 12,
      height: 28,
      width: 28,
      split: 'test',
      binarized: true,
    });

    const images = (await request(viewer.url, '/api/images')).body;
    assert.equal(images.length, 12 * 784);
    assert.ok(images.every((b) => b === 0 || b === 255));

    const metrics = JSON.parse((await request(viewer.url, '/api/metrics')).body.toString());
    assert.deepEqual(
      metrics.map((m: { epoch: number }) => m.epoch),
      [1, 2],
    );
    // A line being appended is left out, not an error.
    fs.appendFileSync(path.join(run, 'metrics.jsonl'), '{"epoch": 3, "train_');
    try {
      const partial = JSON.parse((await request(viewer.url, '/api/metrics')).body.toString());
      assert.equal(partial.length, 2);
    } finally {
      const file = path.join(run, 'metrics.jsonl');
      const text = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, text.slice(0, text.lastIndexOf('\n') + 1));
    }

    // The weights the page gets decode exactly as the trainer's model does.
    const body = (await request(viewer.url, '/api/weights')).body;
    const { epoch, weights } = parseWeights(
      body.buffer.slice(body.byteOffset, body.byteOffset + body.length) as ArrayBuffer,
    );
    assert.equal(epoch, 2);
    await useBackend('cpu');
    const state = await openRun(run, 'cpu');
    const vae = new ViewerVae(weights);
    try {
      const z = tf.randomNormal([5, vae.zDim], 0, 1, 'float32', 3);
      const want = tf.tidy(() => tf.sigmoid(state.vae.decode(z)).dataSync());
      const got = vae.decode(z.dataSync() as Float32Array);
      z.dispose();
      assert.equal(got.length, 5 * 784);
      for (let i = 0; i < got.length; i++) {
        assert.ok(Math.abs(got[i] - want[i]) < 1e-6, `pixel ${i}: ${got[i]} vs ${want[i]}`);
      }
    } finally {
      vae.dispose();
      state.dispose();
    }

    for (const p of [
      '/nope',
      '/app/../../package.json',
      '/app/%2e%2e/%2e%2e/package.json',
      '/lib/zhusuan/../../package.json',
      '/lib/zhusuan/..%2f..%2fpackage.json',
      '/vendor/__proto__',
      '/app/app.d.ts',
    ]) {
      assert.equal((await request(viewer.url, p)).status, 404, p);
    }
    assert.equal((await request(viewer.url, '/%E0%A4%A')).status, 400);
    assert.equal((await request(viewer.url, '/', 'POST')).status, 405);
  } finally {
    await viewer.close();
  }
});

/** Static `import … from '…'`, `export … from '…'` and `import '…'` specifiers of an ES module. */
function importsOf(source: string): string[] {
  const specs = new Set<string>();
  for (const m of source.matchAll(/^\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]/gm)) {
    specs.add(m[1]);
  }
  for (const m of source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) specs.add(m[1]);
  return [...specs];
}

test('serve: every module the page imports resolves, through its import map, to JavaScript', async () => {
  const viewer = await startViewer({ runDir: run, port: 0, host: '127.0.0.1', images: 4 });
  try {
    const html = (await request(viewer.url, '/')).body.toString();
    const mapText = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];
    assert.ok(mapText, 'index.html has an inline import map');
    const imports = (JSON.parse(mapText) as { imports: Record<string, string> }).imports;
    const entry = /<script type="module" src="([^"]+)"/.exec(html)?.[1];
    assert.equal(entry, '/app/app.js');
    const css = /<link rel="stylesheet" href="([^"]+)"/.exec(html)?.[1];
    assert.equal((await request(viewer.url, css!)).status, 200);

    const seen = new Set<string>();
    const queue = [entry];
    while (queue.length > 0) {
      const p = queue.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      const res = await request(viewer.url, p);
      assert.equal(res.status, 200, `${p}: ${res.body}`);
      assert.match(res.type, /^text\/javascript/, p);
      for (const spec of importsOf(res.body.toString())) {
        const target = spec.startsWith('.')
          ? new URL(spec, `http://x${p}`).pathname
          : imports[spec];
        assert.ok(target, `${p} imports '${spec}', which the import map does not name`);
        queue.push(target);
      }
    }
    for (const target of Object.values(imports)) assert.ok(seen.has(target), `${target} unused`);
    for (const p of ['/app/model.js', '/app/protocol.js', '/lib/zhusuan/framework/bn.js']) {
      assert.ok(seen.has(p), `${p} not reached`);
    }
  } finally {
    await viewer.close();
  }
});

test('serve in headless Chromium: the page decodes with the library, pixel for pixel as in Node', async () => {
  assert.ok(
    fs.existsSync(CHROMIUM),
    `${CHROMIUM} missing: install Debian's chromium (bash scripts/install-system-deps.sh)`,
  );
  const viewer = await startViewer({ runDir: run, port: 0, host: '127.0.0.1', images: 30 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(viewer.url);
    // Browser-side code is passed as text: this package compiles without the DOM's types.
    await page.waitForFunction(
      "/^(ready|viewer:)/.test(document.getElementById('status').textContent)",
      null,
      { timeout: 60_000 },
    );
    assert.match((await page.textContent('#status'))!, /^ready: epoch 2, decoding with zhusuan/);
    assert.deepEqual(problems, []);
    assert.match((await page.textContent('#summary'))!, /^2 of 2 epochs on /);
    assert.match((await page.textContent('#results'))!, /-190\.25/);
    assert.equal(await page.locator('#curves svg path').count(), 1);

    // Pixel bytes of the page's 64 samples (seed 1) against the library in Node.
    const pagePixels = (await page.evaluate(
      `[...document.querySelectorAll('#samples canvas')].map((c) =>
        Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0)))`,
    )) as number[][];
    assert.equal(pagePixels.length, 64);
    const body = (await request(viewer.url, '/api/weights')).body;
    const vae = new ViewerVae(
      parseWeights(body.buffer.slice(body.byteOffset, body.byteOffset + body.length) as ArrayBuffer)
        .weights,
    );
    await useBackend('cpu');
    const means = vae.sample(64, 1);
    vae.dispose();
    const nodePixels = Array.from({ length: 64 }, (_, k) =>
      Array.from(means.subarray(k * 784, (k + 1) * 784), (v) => Math.round(v * 255)),
    );
    assert.deepEqual(pagePixels, nodePixels);

    // Reconstructions are pairs; interpolation is A, 10 steps, B; traversal one
    // row of 9 per dimension, at most 8 (the run has 4).
    assert.equal(await page.locator('#reconstructions canvas').count(), 48);
    assert.equal(await page.locator('#interpolation canvas').count(), 12);
    assert.equal(await page.locator('#traversal canvas').count(), 4 * 9);
    // Picking another image as A redraws the interpolation from it.
    const firstStep = "document.querySelector('#interpolation canvas').toDataURL()";
    const before = await page.evaluate(firstStep);
    await page.locator('#reconstructions canvas').nth(4).click();
    assert.equal(await page.locator('#reconstructions canvas.pick-a').count(), 1);
    assert.notEqual(await page.evaluate(firstStep), before);
    await page.click('#resample');
    assert.equal(await page.inputValue('#seed'), '2');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await viewer.close();
  }
});

test('zhusuan serve: usage errors exit 2, a port in use exits 1 naming it; SIGINT stops it', async () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'serve', ...args], { encoding: 'utf8', timeout: 60_000 });
  const noRun = cli();
  assert.equal(noRun.status, 2);
  assert.match(noRun.stderr, /--run/);
  const missing = cli('--run', path.join(tempDir(), 'nothing'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /does not exist/);
  const badPort = cli('--run', run, '--port', '70000');
  assert.equal(badPort.status, 2);
  assert.match(badPort.stderr, /--port: must be at most 65535/);

  const busy = await startViewer({ runDir: run, port: 0, host: '127.0.0.1', images: 2 });
  try {
    const port = new URL(busy.url).port;
    const clash = cli('--run', run, '--port', port);
    assert.equal(clash.status, 1);
    assert.match(clash.stderr, new RegExp(`--port ${port} on 127\\.0\\.0\\.1 is in use`));
  } finally {
    await busy.close();
  }

  // A real process: serves until SIGINT, then exits 0.
  const child = spawn(process.execPath, [BIN, 'serve', '--run', run, '--port', '0']);
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = /at (http:\/\/\S+) /.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
  });
  assert.equal((await request(url, '/api/run')).status, 200);
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', (c) => resolve(c));
    child.kill('SIGINT');
  });
  assert.equal(code, 0, stderr);
});

/** A GET with the given headers; status and body. */
function get(
  url: string,
  p: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: p, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('serve answers only its own host names and origins (DNS rebinding)', async () => {
  const viewer = await startViewer({ runDir: run, port: 0, host: '127.0.0.1', images: 2 });
  try {
    const port = new URL(viewer.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost']) {
      assert.equal((await get(viewer.url, '/api/run', { Host: host })).status, 200, host);
    }
    for (const host of [`evil.example:${port}`, 'attacker.test', `127.0.0.1.nip.io:${port}`]) {
      const r = await get(viewer.url, '/api/weights', { Host: host });
      assert.equal(r.status, 403, host);
      assert.doesNotMatch(r.body.toString('latin1'), /gen\/h1/);
    }
    const sameOrigin = await get(viewer.url, '/api/run', { Origin: `http://127.0.0.1:${port}` });
    assert.equal(sameOrigin.status, 200);
    for (const origin of ['http://evil.example', 'null', 'file://']) {
      assert.equal((await get(viewer.url, '/api/metrics', { Origin: origin })).status, 403, origin);
    }
  } finally {
    await viewer.close();
  }
});

test('serve never leaves its trees through symlinks and never echoes a file in an error', async () => {
  const copy = path.join(tempDir(), 'linked-run');
  fs.cpSync(run, copy, { recursive: true });
  const outside = path.join(tempDir(), 'secret.json');
  const SECRET = 'TOP-SECRET-CONTENT-0123456789';
  fs.writeFileSync(
    outside,
    JSON.stringify({
      ...JSON.parse(fs.readFileSync(path.join(run, 'eval.json'), 'utf8')),
      secret: SECRET,
    }),
  );
  // A symlink out of the run directory: as if absent.
  fs.symlinkSync(outside, path.join(copy, 'eval-valid.json'));
  // A file inside the run that is not what its name says: a 500 without its content.
  fs.writeFileSync(path.join(copy, 'notes.txt'), `${SECRET}\nnot json at all\n`);
  fs.rmSync(path.join(copy, 'eval.json'));
  fs.symlinkSync('notes.txt', path.join(copy, 'eval.json'));
  // A symlink in the page's module tree pointing out of it.
  const appDir = fileURLToPath(new URL('../../../../viewer/dist/src/', import.meta.url));
  const appLink = path.join(appDir, 'zz-outside-link.js');
  fs.rmSync(appLink, { force: true });
  fs.symlinkSync(outside, appLink);
  const viewer = await startViewer({ runDir: copy, port: 0, host: '127.0.0.1', images: 2 });
  const logged: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) =>
    logged.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const info = await get(viewer.url, '/api/run');
    assert.equal(info.status, 500);
    assert.equal(info.body.toString(), 'internal error (the server logged the cause)\n');
    assert.ok(!info.body.includes(SECRET));
    assert.match(logged.join(''), /eval\.json/, 'the cause goes to the terminal');
    fs.rmSync(path.join(copy, 'eval.json'));
    const fixed = await get(viewer.url, '/api/run');
    assert.equal(fixed.status, 200);
    assert.equal((JSON.parse(fixed.body.toString()) as RunInfo).evalValid, null);
    assert.ok(!fixed.body.includes(SECRET));
    const app = await get(viewer.url, '/app/zz-outside-link.js');
    assert.equal(app.status, 404);
    assert.ok(!app.body.includes(SECRET));
    // The checkpoint itself linked out of the run: not served.
    const ck = path.join(copy, 'checkpoint.zsck');
    fs.renameSync(ck, path.join(path.dirname(outside), 'checkpoint.zsck'));
    fs.symlinkSync(path.join(path.dirname(outside), 'checkpoint.zsck'), ck);
    assert.equal((await get(viewer.url, '/api/weights')).status, 404);
  } finally {
    process.stderr.write = write;
    fs.rmSync(appLink, { force: true });
    await viewer.close();
  }
});

/** `total` GETs of `p`, `concurrency` at a time over keep-alive sockets: throughput and p99. */
async function load(url: string, p: string, total: number, concurrency: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const { hostname, port } = new URL(url);
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.get({ hostname, port, path: p, agent }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          if (res.statusCode !== 200) errors++;
          latencies.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        sent++;
        await one();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    errors,
    done: latencies.length,
    perSecond: latencies.length / seconds,
    p99: latencies[Math.ceil(0.99 * latencies.length) - 1],
  };
}

test('serve under load: 2,000 requests at concurrency 20 to each route, no errors', async () => {
  const viewer = await startViewer({ runDir: run, port: 0, host: '127.0.0.1', images: 30 });
  try {
    const lines: string[] = [];
    for (const route of [
      '/',
      '/app/app.js',
      '/api/run',
      '/api/weights',
      '/api/images',
      '/api/metrics',
    ]) {
      const r = await load(viewer.url, route, 2000, 20);
      assert.equal(r.errors, 0, route);
      assert.equal(r.done, 2000, route);
      lines.push(`${route} ${r.perSecond.toFixed(0)}/s p99 ${r.p99.toFixed(1)} ms`);
    }
    process.stdout.write(`# serve load (2000 requests, concurrency 20): ${lines.join('; ')}\n`);
  } finally {
    await viewer.close();
  }
});
