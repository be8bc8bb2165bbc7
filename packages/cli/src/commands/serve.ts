/**
 * `zhusuan serve`: a local web page for looking at a run (the
 * `@zhusuan/viewer` package). The server only hands out files and the run's
 * data; the page decodes with the zhusuan library on tfjs in the browser.
 *
 * Routes (GET and HEAD only):
 * - `/`, `/style.css`: the viewer's page; `/app/*.js`: its modules;
 * - `/lib/zhusuan/**.js`: the library; `/lib/vae/*.js`: the VAE's definition;
 *   `/vendor/*.js`: tfjs-core and
 *   tfjs-backend-cpu as single ES modules, and the one seedrandom generator
 *   the cpu backend imports, wrapped as an ES module;
 * - `/api/run` (JSON), `/api/weights` (binary, see the viewer's protocol),
 *   `/api/images` (bytes), `/api/metrics` (JSON array of `metrics.jsonl`).
 *
 * The checkpoint and metrics are read on every request, so a page reloaded
 * beside a training run shows its latest epoch.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parseEvalReport, parseMetricsLine } from '@zhusuan/vae';
import { encodeWeights, type RunInfo } from '@zhusuan/viewer/protocol';
import { parseFlags, required, UsageError, type FlagTable } from '../args.js';
import { viewingImages } from '../data/index.js';
import { loadCheckpoint } from '../run/checkpoint.js';
import { readConfig, runFile } from '../run/files.js';

/** Flags of `zhusuan serve`. */
export const SERVE_FLAGS = {
  run: { type: 'string', help: 'run directory (required)' },
  port: { type: 'int', default: 8000, min: 0, max: 65535, help: 'port (0: any free port)' },
  host: { type: 'string', default: '127.0.0.1', help: 'address to listen on' },
  images: {
    type: 'int',
    default: 100,
    min: 2,
    max: 10000,
    help: 'test images (training images when there are none) for reconstructions and latent statistics',
  },
} satisfies FlagTable;

/** A running viewer server. */
export interface ViewerServer {
  /** The page's address, e.g. `http://127.0.0.1:8000/`. */
  url: string;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const packageDir = (spec: string) => path.dirname(require.resolve(`${spec}/package.json`));

/** Where the page's files come from. */
function staticRoots() {
  const viewer = packageDir('@zhusuan/viewer');
  const zhusuan = path.dirname(require.resolve('zhusuan'));
  const vae = path.dirname(require.resolve('@zhusuan/vae'));
  const cpu = packageDir('@tensorflow/tfjs-backend-cpu');
  return {
    page: path.join(viewer, 'static'),
    app: path.join(viewer, 'dist', 'src'),
    zhusuan,
    vae,
    vendor: new Map([
      ['tfjs-core.js', path.join(packageDir('@tensorflow/tfjs-core'), 'dist', 'tf-core.fesm.js')],
      ['tfjs-backend-cpu.js', path.join(cpu, 'dist', 'tf-backend-cpu.fesm.js')],
    ]),
    // The seedrandom the cpu backend itself resolves.
    alea: path.join(
      path.dirname(
        createRequire(path.join(cpu, 'package.json')).resolve('seedrandom/package.json'),
      ),
      'lib',
      'alea.js',
    ),
  };
}

/**
 * seedrandom ships CommonJS; the cpu backend's ES module imports it only for
 * `seedrandom.alea`. Its alea.js assigns `module.exports` when a `module`
 * object is in scope, so one is provided and re-exported.
 */
function seedrandomModule(aleaFile: string): string {
  return [
    '// seedrandom/lib/alea.js, wrapped as an ES module by zhusuan serve.',
    'const module = { exports: {} };',
    'const define = undefined;',
    fs.readFileSync(aleaFile, 'utf8'),
    'export const alea = module.exports;',
    '',
  ].join('\n');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/** `rel` inside `root`, or undefined when it would leave it or is not a servable file. */
function within(root: string, rel: string): string | undefined {
  const file = path.resolve(root, rel);
  if (!file.startsWith(root + path.sep) || TYPES[path.extname(file)] === undefined) return;
  return fs.existsSync(file) && fs.statSync(file).isFile() ? file : undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the viewer's server for `runDir`. */
export async function startViewer(opts: {
  runDir: string;
  port: number;
  host: string;
  images: number;
}): Promise<ViewerServer> {
  const { runDir } = opts;
  const cfg = readConfig(runDir);
  const ckFile = runFile(runDir, 'checkpoint');
  loadCheckpoint(ckFile); // fail now, naming the file, rather than in the page
  const roots = staticRoots();
  const seedrandom = seedrandomModule(roots.alea);

  // The images the page reconstructs (viewing is not training, so test images
  // are fine), one byte a pixel.
  const { x, n, split, rows: height, cols: width } = viewingImages(cfg.dataset, opts.images);
  const imageBytes = Uint8Array.from(x, (v) => v * 255);

  const readEval = (role: 'eval' | 'evalValid') => {
    const file = runFile(runDir, role);
    if (!fs.existsSync(file)) return null;
    try {
      return parseEvalReport(fs.readFileSync(file, 'utf8'), file);
    } catch (err) {
      throw new HttpError(500, (err as Error).message);
    }
  };

  const api = new Map<string, () => { type: string; body: string | Uint8Array }>(
    Object.entries({
      '/api/run': () => {
        const info: RunInfo = {
          name: path.basename(path.resolve(runDir)),
          config: cfg,
          epoch: loadCheckpoint(ckFile).epoch,
          eval: readEval('eval'),
          evalValid: readEval('evalValid'),
          images: { n, height, width, split, binarized: true },
        };
        return { type: TYPES['.json'], body: JSON.stringify(info) };
      },
      '/api/weights': () => {
        const ck = loadCheckpoint(ckFile);
        return { type: 'application/octet-stream', body: encodeWeights(ck.epoch, ck.weights) };
      },
      '/api/images': () => ({ type: 'application/octet-stream', body: imageBytes }),
      '/api/metrics': () => {
        const file = runFile(runDir, 'metrics');
        const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
        const rows: unknown[] = [];
        for (const line of lines) {
          if (line.trim() === '') continue;
          try {
            rows.push(parseMetricsLine(line, file));
          } catch {
            // A line being appended right now; the next request will have it.
          }
        }
        return { type: TYPES['.json'], body: JSON.stringify(rows) };
      },
      '/vendor/seedrandom.js': () => ({ type: TYPES['.js'], body: seedrandom }),
    }),
  );

  const resolveFile = (p: string): string | undefined => {
    if (p === '/' || p === '/index.html') return path.join(roots.page, 'index.html');
    if (p === '/style.css') return path.join(roots.page, 'style.css');
    if (p.startsWith('/app/')) return within(roots.app, p.slice('/app/'.length));
    if (p.startsWith('/lib/zhusuan/'))
      return within(roots.zhusuan, p.slice('/lib/zhusuan/'.length));
    if (p.startsWith('/lib/vae/')) return within(roots.vae, p.slice('/lib/vae/'.length));
    if (p.startsWith('/vendor/')) return roots.vendor.get(p.slice('/vendor/'.length));
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string | Uint8Array) => {
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        throw new HttpError(405, `${req.method} not allowed`);
      }
      let p: string;
      try {
        p = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      } catch {
        throw new HttpError(400, 'malformed URL');
      }
      const handler = api.get(p);
      if (handler !== undefined) {
        const { type, body } = handler();
        send(200, type, body);
        return;
      }
      const file = resolveFile(p);
      if (file === undefined) throw new HttpError(404, `${p} not found`);
      send(200, TYPES[path.extname(file)], fs.readFileSync(file));
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      send(status, 'text/plain; charset=utf-8', `${(err as Error).message}\n`);
      if (status === 500)
        process.stderr.write(`zhusuan serve: ${req.url}: ${(err as Error).message}\n`);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'is in use (pick another with --port, or 0 for any free port)'
          : err.code === 'EACCES'
            ? 'needs privileges (pick one above 1023)'
            : `cannot be used (${err.code ?? err.message})`;
      reject(new Error(`--port ${opts.port} on ${opts.host} ${why}`));
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs `zhusuan serve` until interrupted (Ctrl-C or SIGTERM). */
export async function serveCommand(argv: string[]): Promise<void> {
  const f = parseFlags('serve', argv, SERVE_FLAGS);
  const runDir = required('run', f.run);
  if (f.host!.trim() === '')
    throw new UsageError('--host: expected an address, got an empty string');
  const viewer = await startViewer({ runDir, port: f.port!, host: f.host!, images: f.images! });
  process.stderr.write(`zhusuan serve: viewing ${runDir} at ${viewer.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void viewer.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
