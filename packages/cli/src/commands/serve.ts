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
 * The checkpoint is loaded (and verified) once per change of the file, so a
 * page reloaded beside a training run shows its latest epoch; metrics and
 * evaluations are read per request.
 *
 * What it serves, and to whom: only requests whose Host (and Origin, when
 * sent) name this server — an IP literal, `localhost` or this machine's own
 * names — so a page elsewhere cannot reach the run through DNS rebinding;
 * only files whose resolved path (symlinks followed) stays inside the served
 * trees and the run directory; error bodies never carry a file's content.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import { isIP, type AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseMetricsLine, RUN_FILES, type EvalReport } from '@zhusuan/vae';
import { encodeWeights, type RunInfo } from '@zhusuan/viewer/protocol';
import { parseFlags, required, UsageError, type FlagTable } from '../args.js';
import { viewingImages } from '../data/index.js';
import { loadCheckpoint, maxCheckpointBytes } from '../run/checkpoint.js';
import { readConfig, readEvalReport } from '../run/files.js';
import { readTextFile } from '../run/io.js';

/** Flags of `zhusuan serve`. */
export const SERVE_FLAGS = {
  run: {
    type: 'string',
    metavar: 'DIR',
    positional: 'accept',
    help: 'run directory (required; may be given as the argument)',
  },
  port: { type: 'int', default: 8000, min: 0, max: 65535, help: 'port (0: any free port)' },
  host: { type: 'string', default: '127.0.0.1', metavar: 'ADDRESS', help: 'address to listen on' },
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

/** Where the page's files come from (resolved paths: no symlink in them). */
function staticRoots() {
  const viewer = packageDir('@zhusuan/viewer');
  const zhusuan = path.dirname(require.resolve('zhusuan'));
  const vae = path.dirname(require.resolve('@zhusuan/vae'));
  const cpu = packageDir('@tensorflow/tfjs-backend-cpu');
  return {
    page: fs.realpathSync(path.join(viewer, 'static')),
    app: fs.realpathSync(path.join(viewer, 'dist', 'src')),
    zhusuan: fs.realpathSync(zhusuan),
    vae: fs.realpathSync(vae),
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

/**
 * `file`'s resolved path (symlinks followed) when it is a regular file inside
 * the resolved directory `root`; undefined otherwise (absent, outside, or
 * not a regular file).
 */
function resolvedInside(root: string, file: string): string | undefined {
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    return undefined;
  }
  if (!real.startsWith(root + path.sep)) return undefined;
  return fs.statSync(real, { throwIfNoEntry: false })?.isFile() ? real : undefined;
}

/** `rel` inside `root`, or undefined when it would leave it or is not a servable file. */
function within(root: string, rel: string): string | undefined {
  const file = path.resolve(root, rel);
  if (!file.startsWith(root + path.sep) || TYPES[path.extname(file)] === undefined) return;
  return resolvedInside(root, file);
}

/** Whether `host` is loopback: `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** The name part of a Host header (`example.com:8000`, `[::1]:80`), lower-cased. */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') >>> 0);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/**
 * Whether a request's Host names this server: an IP literal (DNS rebinding
 * needs a name), `localhost` or a `*.localhost` name, or one of `names`
 * (the `--host` given and this machine's host name).
 */
function ownHost(name: string, names: ReadonlySet<string>): boolean {
  return isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost') || names.has(name);
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
  const runRoot = fs.realpathSync(runDir);
  /** A run file's resolved path, or undefined when absent or resolving outside the run. */
  const runPath = (name: string) => resolvedInside(runRoot, path.join(runRoot, name));
  const checkpoints = new CheckpointCache(
    () => runPath(RUN_FILES.checkpoint),
    maxCheckpointBytes(cfg),
  );
  checkpoints.get(); // fail now, naming the file, rather than in the page
  const roots = staticRoots();
  const seedrandom = seedrandomModule(roots.alea);
  const names = new Set(
    [opts.host, os.hostname(), os.hostname().split('.')[0]].map((h) => hostName(h)),
  );

  // The images the page reconstructs (viewing is not training, so test images
  // are fine), one byte a pixel.
  const { x, n, split, rows: height, cols: width } = viewingImages(cfg.dataset, opts.images);
  const imageBytes = Uint8Array.from(x, (v) => v * 255);

  // Read by the run's own name (its resolved path is inside the run): messages name that.
  const readEval = (name: string): EvalReport | null =>
    runPath(name) === undefined ? null : readEvalReport(path.join(runRoot, name));

  const api = new Map<string, () => { type: string; body: string | Uint8Array }>(
    Object.entries({
      '/api/run': () => {
        const info: RunInfo = {
          name: path.basename(runRoot),
          config: cfg,
          epoch: checkpoints.get().epoch,
          eval: readEval(RUN_FILES.eval),
          evalValid: readEval(RUN_FILES.evalValid),
          images: { n, height, width, split, binarized: true },
        };
        return { type: TYPES['.json'], body: JSON.stringify(info) };
      },
      '/api/weights': () => ({
        type: 'application/octet-stream',
        body: checkpoints.get().message,
      }),
      '/api/images': () => ({ type: 'application/octet-stream', body: imageBytes }),
      '/api/metrics': () => {
        const file = runPath(RUN_FILES.metrics);
        const lines =
          file === undefined
            ? []
            : readTextFile(file, { maxBytes: 64 * 1024 * 1024, what: 'metrics file' }).split('\n');
        const rows: unknown[] = [];
        for (const line of lines) {
          if (line.trim() === '') continue;
          try {
            rows.push(parseMetricsLine(line, file!));
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
    if (p === '/' || p === '/index.html') return within(roots.page, 'index.html');
    if (p === '/style.css') return within(roots.page, 'style.css');
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
      const host = req.headers.host;
      if (host === undefined) throw new HttpError(400, 'a Host header is required');
      if (!ownHost(hostName(host), names)) {
        throw new HttpError(403, 'this server answers only requests for its own host names');
      }
      const origin = req.headers.origin;
      if (origin !== undefined && !sameServer(origin, names)) {
        throw new HttpError(403, 'cross-origin requests are refused');
      }
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
      if (file === undefined) throw new HttpError(404, 'not found');
      send(200, TYPES[path.extname(file)], fs.readFileSync(file));
    } catch (err) {
      if (err instanceof HttpError) {
        send(err.status, 'text/plain; charset=utf-8', `${err.message}\n`);
        return;
      }
      // The cause goes to the server's terminal only: it may quote a file.
      send(500, 'text/plain; charset=utf-8', 'internal error (the server logged the cause)\n');
      process.stderr.write(`zhusuan serve: ${req.url}: ${oneLine((err as Error).message)}\n`);
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

/** Whether an Origin header names this server (by the same rules as Host). */
function sameServer(origin: string, names: ReadonlySet<string>): boolean {
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && ownHost(hostName(u.host), names);
  } catch {
    return false; // 'null' (a sandboxed frame, a file) or garbage
  }
}

const oneLine = (s: string) => s.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 500);

/** The run's checkpoint, loaded and verified once per change of the file, and its weights message. */
class CheckpointCache {
  private key = '';
  private value: { epoch: number; message: Uint8Array } | undefined;

  /** @param locate the checkpoint's resolved path, or undefined when it is not servable. */
  constructor(
    private readonly locate: () => string | undefined,
    private readonly maxBytes: number,
  ) {}

  /**
   * The current checkpoint's epoch and weights message.
   * @throws HttpError 404 when the checkpoint is absent or outside the run;
   *   CheckpointError when it is corrupt.
   */
  get(): { epoch: number; message: Uint8Array } {
    const file = this.locate();
    const st = file === undefined ? undefined : fs.statSync(file, { throwIfNoEntry: false });
    if (file === undefined || st === undefined) throw new HttpError(404, 'no checkpoint');
    // A new file (rename) or a rewrite changes one of these.
    const key = [file, st.dev, st.ino, st.size, st.mtimeMs, st.ctimeMs].join(':');
    if (key !== this.key || this.value === undefined) {
      const ck = loadCheckpoint(file, { maxBytes: this.maxBytes });
      this.value = { epoch: ck.epoch, message: encodeWeights(ck.epoch, ck.weights) };
      this.key = key;
    }
    return this.value;
  }
}

/** Runs `zhusuan serve` until interrupted (Ctrl-C or SIGTERM). */
export async function serveCommand(argv: string[]): Promise<void> {
  const f = parseFlags('serve', argv, SERVE_FLAGS);
  const runDir = required('run', f.run);
  if (f.host!.trim() === '')
    throw new UsageError('--host: expected an address, got an empty string');
  const viewer = await startViewer({ runDir, port: f.port!, host: f.host!, images: f.images! });
  process.stderr.write(`zhusuan serve: viewing ${runDir} at ${viewer.url} (Ctrl-C to stop)\n`);
  if (!isLoopback(f.host!)) {
    process.stderr.write(
      `zhusuan serve: warning: --host ${f.host} is not a loopback address: anyone who can reach ` +
        "this machine can read the run's weights, metrics and test images\n",
    );
  }
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
