/**
 * The page `zhusuan serve` shows: a run's training curves and results, and
 * its VAE decoded in the browser (tfjs' cpu backend and the zhusuan
 * library): fresh samples, reconstructions, latent interpolation and
 * traversal. Data comes from the server's `/api/*` endpoints (see the CLI's
 * `serve` command).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { interpolate, latentActivity, traverse, ViewerVae } from './model.js';
import type { EpochMetrics } from '@zhusuan/vae';
import { trainingChart } from './plot.js';
import { parseWeights, type RunInfo } from './protocol.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`viewer: element #${id} missing from the page`);
  return el as T;
};

function status(message: string, error = false): void {
  const el = $('status');
  el.textContent = message;
  el.classList.toggle('error', error);
}

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${(await res.text()).trim()}`);
  return res;
}

/** A canvas showing one grayscale image (values in [0, 1]). */
function digit(values: Float32Array, h: number, w: number, title?: string): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  canvas.className = 'digit';
  if (title !== undefined) canvas.title = title;
  const ctx = canvas.getContext('2d');
  if (ctx === null) throw new Error('viewer: the browser gives no 2D canvas context');
  const img = ctx.createImageData(w, h);
  const rgba = img.data;
  for (let i = 0; i < h * w; i++) {
    // A Uint8ClampedArray clamps to 0-255 itself; Math.round keeps the rounding explicit.
    const v = Math.round(values[i] * 255);
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v;
    rgba[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

/** Fills `container` with a grid of images, `cols` per row. */
function grid(
  container: HTMLElement,
  values: Float32Array,
  n: number,
  shape: [number, number],
  cols: number,
): HTMLCanvasElement[] {
  const [h, w] = shape;
  container.replaceChildren();
  container.style.gridTemplateColumns = `repeat(${cols}, auto)`;
  const out: HTMLCanvasElement[] = [];
  for (let k = 0; k < n; k++) {
    const c = digit(values.subarray(k * h * w, (k + 1) * h * w), h, w);
    container.append(c);
    out.push(c);
  }
  return out;
}

function formatNumber(v: unknown, digits = 2): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–';
}

function describe(info: RunInfo): void {
  const c = info.config;
  const bound =
    c.objective === 'elbo'
      ? `ELBO${c.particles > 1 ? ` averaged over ${c.particles} samples` : ''}`
      : `${c.objective.toUpperCase()} (K = ${c.particles})`;
  $('title').textContent = `zhusuan run: ${info.name}`;
  $('summary').textContent =
    `${info.epoch} of ${c.epochs} epochs on ${c.dataset}; d = ${c.zDim}, hidden ${c.hidden}, ` +
    `batch ${c.batchSize}, ${bound}, Adam lr ${c.lr}` +
    (c.lrDecay !== 1 ? ` ×${c.lrDecay} every ${c.lrDecayEvery} epochs` : '') +
    (c.validation > 0 ? `, ${c.validation} training images held out for validation` : '');
  const rows: [string, number, number, number][] = [];
  // An evaluation file keeps its figures in the test_* fields whichever
  // images it scored (eval-valid.json: the validation images).
  for (const [label, e] of [
    ['test', info.eval],
    ['validation', info.evalValid],
  ] as const) {
    if (e === null) continue;
    rows.push([
      `${label} (${e.particles} particles, epoch ${e.epoch})`,
      e.test_elbo,
      e.test_ll,
      e.test_ll_stderr,
    ]);
  }
  const table = $('results');
  table.replaceChildren();
  if (rows.length === 0) {
    table.textContent = "No evaluation yet: run 'zhusuan eval --run DIR'.";
    return;
  }
  const head = document.createElement('tr');
  for (const t of ['', 'ELBO', 'IS log-likelihood', 'standard error']) {
    const th = document.createElement('th');
    th.textContent = t;
    head.append(th);
  }
  table.append(head);
  for (const [label, elbo, ll, se] of rows) {
    const tr = document.createElement('tr');
    for (const t of [label, formatNumber(elbo), formatNumber(ll), formatNumber(se, 3)]) {
      const td = document.createElement('td');
      td.textContent = t;
      tr.append(td);
    }
    table.append(tr);
  }
}

async function drawCurves(info: RunInfo): Promise<void> {
  const rows = (await (await fetchOk('/api/metrics')).json()) as EpochMetrics[];
  const c = info.config;
  const bound =
    c.objective === 'elbo' ? 'ELBO' : `${c.objective.toUpperCase()} bound (K = ${c.particles})`;
  // The SVG is built by trainingChart, which escapes every label.
  $('curves').innerHTML = trainingChart(rows, bound, { width: 720, height: 320 });
}

async function main(): Promise<void> {
  status('loading the run…');
  await tf.setBackend('cpu');
  const info = (await (await fetchOk('/api/run')).json()) as RunInfo;
  describe(info);
  await drawCurves(info);
  $<HTMLButtonElement>('refresh-curves').onclick = () => {
    drawCurves(info).catch((e: Error) => status(e.message, true));
  };

  // The weights carry their own epoch: a training run may have finished
  // another since /api/run was read.
  const { epoch, weights } = parseWeights(await (await fetchOk('/api/weights')).arrayBuffer());
  const vae = new ViewerVae(weights);
  const shape: [number, number] = [info.images.height, info.images.width];
  if (shape[0] * shape[1] !== vae.xDim) {
    throw new Error(`images are ${shape[0]}×${shape[1]} but the model has ${vae.xDim} pixels`);
  }
  const bytes = new Uint8Array(await (await fetchOk('/api/images')).arrayBuffer());
  const images = Float32Array.from(bytes, (b) => b / 255);
  const nImages = images.length / vae.xDim;
  const means = vae.encode(images);
  const activity = latentActivity(means, vae.zDim);
  const imageOf = (k: number) => images.subarray(k * vae.xDim, (k + 1) * vae.xDim);
  const zOf = (k: number) => means.subarray(k * vae.zDim, (k + 1) * vae.zDim);

  // Samples.
  const seedInput = $<HTMLInputElement>('seed');
  const drawSamples = () => {
    const seed = Number(seedInput.value);
    const t0 = performance.now();
    grid($('samples'), vae.sample(64, seed), 64, shape, 8);
    status(`64 samples decoded in ${(performance.now() - t0).toFixed(0)} ms (seed ${seed})`);
  };
  $<HTMLButtonElement>('resample').onclick = () => {
    seedInput.value = String(Number(seedInput.value) + 1);
    drawSamples();
  };
  seedInput.onchange = drawSamples;

  // Reconstructions; clicking an original picks it for interpolation and traversal.
  const shown = Math.min(24, nImages);
  const recon = vae.reconstruct(images.subarray(0, shown * vae.xDim));
  const pairs = new Float32Array(2 * shown * vae.xDim);
  for (let k = 0; k < shown; k++) {
    pairs.set(imageOf(k), 2 * k * vae.xDim);
    pairs.set(recon.subarray(k * vae.xDim, (k + 1) * vae.xDim), (2 * k + 1) * vae.xDim);
  }
  const canvases = grid($('reconstructions'), pairs, 2 * shown, shape, 12);
  $('images-note').textContent =
    `${info.images.split} images ${info.images.binarized ? '(binarised once, fixed seed)' : ''}, ` +
    `each beside its reconstruction from E_q[z | x]. Click an image to pick it as A, shift-click as B.`;

  let a = 0;
  let b = Math.min(1, nImages - 1);
  const steps = $<HTMLInputElement>('steps');
  const range = $<HTMLInputElement>('range');
  const dims = $<HTMLSelectElement>('dims');
  const fromPrior = $<HTMLInputElement>('from-prior');

  const drawInterpolation = () => {
    const k = Math.max(2, Math.min(20, Math.round(Number(steps.value)) || 10));
    const decoded = vae.decode(interpolate(zOf(a), zOf(b), k));
    const row = new Float32Array((k + 2) * vae.xDim);
    row.set(imageOf(a), 0);
    row.set(decoded, vae.xDim);
    row.set(imageOf(b), (k + 1) * vae.xDim);
    grid($('interpolation'), row, k + 2, shape, k + 2);
  };

  const drawTraversal = () => {
    const r = Math.max(0.5, Math.min(10, Number(range.value) || 3));
    const values = Array.from({ length: 9 }, (_, i) => -r + (2 * r * i) / 8);
    const base = fromPrior.checked ? new Float32Array(vae.zDim) : zOf(a);
    const chosen = dims.value === 'all' ? activity.order : activity.order.slice(0, 8);
    const all = new Float32Array(chosen.length * values.length * vae.xDim);
    chosen.forEach((dim, i) => {
      all.set(vae.decode(traverse(base, dim, values)), i * values.length * vae.xDim);
    });
    const canvases = grid($('traversal'), all, chosen.length * values.length, shape, values.length);
    chosen.forEach((dim, i) => {
      for (let j = 0; j < values.length; j++) {
        canvases[i * values.length + j].title =
          `z[${dim}] = ${values[j].toFixed(2)} (variance of E_q[z[${dim}]] ${activity.variance[dim].toFixed(3)})`;
      }
    });
    $('activity').textContent =
      `${activity.active} of ${vae.zDim} latent dimensions are active (variance of E_q[z | x] over ` +
      `${nImages} images > 0.01); rows are dimensions, most active first, each swept over ` +
      `[${-r}, ${r}] from ${fromPrior.checked ? 'z = 0' : 'image A’s E_q[z | x]'}.`;
  };

  const pick = () => {
    canvases.forEach((c, i) => {
      c.classList.toggle('pick-a', i === 2 * a);
      c.classList.toggle('pick-b', i === 2 * b);
    });
    drawInterpolation();
    drawTraversal();
  };
  canvases.forEach((c, i) => {
    if (i % 2 === 1) return;
    c.onclick = (ev) => {
      if (ev.shiftKey) b = i / 2;
      else a = i / 2;
      pick();
    };
  });
  for (const el of [steps, range, dims, fromPrior]) el.onchange = pick;

  drawSamples();
  pick();
  status(`ready: epoch ${epoch}, decoding with zhusuan on tfjs' ${tf.getBackend()} backend`);
}

main().catch((e: Error) => status(`viewer: ${e.message}`, true));
