/**
 * Line plots drawn straight into RGB images (no canvas, no fonts): for
 * training curves in the notebook and anywhere else a PNG is wanted.
 */
import type { Image } from './png.js';

/** One series of a {@link linePlot}. */
export interface PlotSeries {
  x: readonly number[];
  y: readonly number[];
  /** Colour, 0-255 per channel. */
  rgb: readonly [number, number, number];
  /** Draw each point as a 5×5 dot instead of joining the points. */
  dots?: boolean;
}

/** Size of a {@link linePlot}, in pixels. */
export interface PlotOptions {
  width?: number;
  height?: number;
}

/** Margins around the plotting area: left (tick labels), right, top, bottom (tick labels). */
const MARGIN = { left: 70, right: 20, top: 15, bottom: 35 };

/** 3×5 glyphs of the characters tick labels use, row-major, '1' = ink. */
const GLYPHS: Record<string, string> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001001001',
  '8': '111101111101111',
  '9': '111101111001111',
  '-': '000000111000000',
  '.': '000000000000010',
};

/**
 * Tick positions at 1, 2 or 5 times a power of ten, about six over [lo, hi],
 * and the decimals their labels need.
 */
export function niceTicks(lo: number, hi: number): { ticks: number[]; digits: number } {
  const raw = (hi - lo) / 6 || 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) {
    ticks.push(+t.toPrecision(12));
  }
  return { ticks, digits: Math.max(0, -Math.floor(Math.log10(step))) };
}

/**
 * A line plot as an RGB image: white background, light grid lines and
 * numeric labels at {@link niceTicks}, black axes, one polyline (or dots) per
 * series. The x range starts at 0 or the smallest x; the y range is the data's
 * with 5 % headroom. Non-finite values are left out of the ranges.
 * @example
 * writePng('curve.png', linePlot([{ x: [1, 2, 3], y: [-120, -100, -95], rgb: [200, 30, 30] }]));
 */
export function linePlot(series: readonly PlotSeries[], opts: PlotOptions = {}): Image {
  const { width = 720, height = 360 } = opts;
  if (series.length === 0 || series.every((s) => s.x.length === 0)) {
    throw new Error('linePlot: no points to plot');
  }
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new Error(`linePlot: a series has ${s.x.length} x values and ${s.y.length} y values`);
    }
  }
  const data = new Uint8Array(width * height * 3).fill(255);
  const put = (x: number, y: number, c: readonly number[]) => {
    x = Math.round(x);
    y = Math.round(y);
    if (x >= 0 && x < width && y >= 0 && y < height) data.set(c, (y * width + x) * 3);
  };
  const text = (s: string, x: number, y: number) => {
    [...s].forEach((ch, i) => {
      const g = GLYPHS[ch] ?? '000000000000000';
      for (let k = 0; k < 15; k++) {
        if (g[k] !== '1') continue;
        // Each glyph pixel is 2×2 image pixels; characters are 8 pixels apart.
        for (let d = 0; d < 4; d++) {
          put(x + i * 8 + (k % 3) * 2 + (d % 2), y + Math.floor(k / 3) * 2 + (d >> 1), [0, 0, 0]);
        }
      }
    });
  };
  const finite = (k: 'x' | 'y') => series.flatMap((s) => s[k]).filter(Number.isFinite);
  const x0 = Math.min(0, ...finite('x'));
  let x1 = Math.max(...finite('x'));
  let [y0, y1] = [Math.min(...finite('y')), Math.max(...finite('y'))];
  if (x1 <= x0) x1 = x0 + 1;
  const pad = (y1 - y0) * 0.05 || 1;
  [y0, y1] = [y0 - pad, y1 + pad];
  const { left: L, right: R, top: T, bottom: B } = MARGIN;
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (width - L - R);
  const py = (y: number) => height - B - ((y - y0) / (y1 - y0)) * (height - T - B);
  const grey = [225, 225, 225];
  const xt = niceTicks(x0, x1);
  for (const t of xt.ticks) {
    for (let y = T; y <= height - B; y++) put(px(t), y, grey);
    const s = t.toFixed(xt.digits);
    text(s, px(t) - s.length * 4, height - B + 8);
  }
  const yt = niceTicks(y0, y1);
  for (const t of yt.ticks) {
    for (let x = L; x <= width - R; x++) put(x, py(t), grey);
    const s = t.toFixed(yt.digits);
    text(s, L - 8 - s.length * 8, py(t) - 5);
  }
  for (let x = L; x <= width - R; x++) put(x, height - B, [0, 0, 0]);
  for (let y = T; y <= height - B; y++) put(L, y, [0, 0, 0]);
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      if (s.dots || s.x.length === 1) {
        for (let dx = -2; dx <= 2; dx++) {
          for (let dy = -2; dy <= 2; dy++) put(px(s.x[i]) + dx, py(s.y[i]) + dy, s.rgb);
        }
      }
      if (i === 0 || s.dots) continue;
      const [ax, ay, bx, by] = [px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i])];
      const n = Math.ceil(Math.max(Math.abs(bx - ax), Math.abs(by - ay))) + 1;
      for (let k = 0; k <= n; k++) {
        // Two pixels thick.
        put(ax + ((bx - ax) * k) / n, ay + ((by - ay) * k) / n, s.rgb);
        put(ax + ((bx - ax) * k) / n, ay + ((by - ay) * k) / n + 1, s.rgb);
      }
    }
  }
  return { width, height, channels: 3, data };
}

/** The image enlarged `scale` times in each direction (nearest neighbour). */
export function upscale(img: Image, scale: number): Image {
  if (!Number.isInteger(scale) || scale < 1) {
    throw new Error(`upscale: scale must be a positive integer, got ${scale}`);
  }
  const width = img.width * scale;
  const height = img.height * scale;
  const c = img.channels;
  const data = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (Math.floor(y / scale) * img.width + Math.floor(x / scale)) * c;
      for (let k = 0; k < c; k++) data[(y * width + x) * c + k] = img.data[src + k];
    }
  }
  return { width, height, channels: c, data };
}
