/**
 * Headless Chromium for the repository's browser tests (the library's suite
 * in test/browser, the consumer's page in test/consumer): Debian's
 * /usr/bin/chromium driven by playwright-core, and a static file server for
 * the pages and their bundles.
 *
 * WebGL: headless Chromium has no GPU here; with these flags its WebGL2 runs
 * on SwiftShader (a CPU implementation of Vulkan, under ANGLE), which tfjs'
 * webgl backend uses like any GPU (float32 textures included).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (scripts/install-system-deps.sh installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags: no sandbox (CI runs as root), WebGL on SwiftShader, nothing fetched from outside. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Starts headless Chromium; fails naming the missing executable. */
export async function launchChromium(): Promise<Browser> {
  assert.ok(
    fs.existsSync(CHROMIUM),
    `${CHROMIUM} missing: install Debian's chromium (bash scripts/install-system-deps.sh)`,
  );
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/** A static server for the files under `root`, on 127.0.0.1 and a free port. */
export async function serveDir(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    const file = path.resolve(
      base,
      '.' + decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname),
    );
    const type = TYPES[path.extname(file)];
    if (!file.startsWith(base + path.sep) || type === undefined || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': type }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The WebGL renderer a page of this browser gets (e.g. SwiftShader's), or why there is none. */
export async function webglRenderer(page: Page): Promise<string> {
  // Browser-side code as text: these tests compile without the DOM's types.
  return (await page.evaluate(`(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (gl === null) return 'no WebGL2 context';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  })()`)) as string;
}
