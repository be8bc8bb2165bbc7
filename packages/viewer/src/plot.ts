/**
 * Training curves as self-contained SVG text: no DOM needed, so the viewer
 * draws them in the browser and tests read them in Node.
 */
import type { EpochMetrics } from '@zhusuan/vae';

/** One line of a chart: its points in data coordinates. */
export interface Series {
  label: string;
  color: string;
  points: [number, number][];
}

/** Size and labels of {@link lineChart}. */
export interface ChartOptions {
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /**
   * Lowest y shown. By default the range covers every point after the first
   * `skipFraction` of x (default 2%), so the first epochs' far lower ELBO
   * does not flatten the rest; points outside are clipped.
   */
  yMin?: number;
  skipFraction?: number;
}

/**
 * About `count` round tick values inside [lo, hi]: the step of 1, 2 or 5 ×
 * a power of ten nearest (in ratio) to (hi − lo) / count.
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const far = (s: number) => Math.abs(Math.log(s / raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).reduce((a, b) => (far(b) < far(a) ? b : a));
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A line chart of `series` as an SVG document string. */
export function lineChart(series: Series[], opts: ChartOptions = {}): string {
  const width = opts.width ?? 640;
  const height = opts.height ?? 320;
  const m = { left: 64, right: 16, top: 16, bottom: 44 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => isFinite(x) && isFinite(y));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`;
  if (all.length === 0) {
    return `${head}<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no epochs recorded yet</text></svg>`;
  }
  const xs = all.map((p) => p[0]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  const cut = x0 + (opts.skipFraction ?? 0.02) * (x1 - x0);
  const kept = all.filter(([x]) => x > cut || x1 - x0 < 10);
  const ys = (kept.length > 0 ? kept : all).map((p) => p[1]);
  const y0 = opts.yMin ?? Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y1 <= y0) y1 = y0 + 1;
  const pad = 0.05 * (y1 - y0);
  const lo = y0 - pad;
  const hi = y1 + pad;
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.top + (1 - (y - lo) / (hi - lo)) * ph;
  const f = (v: number) => v.toFixed(1);

  const parts = [
    head,
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#999"/>`,
  ];
  for (const t of niceTicks(lo, hi, 5)) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${f(sy(t))}" y2="${f(sy(t))}" stroke="#eee"/>`,
      `<text x="${m.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${t}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1, 6)) {
    parts.push(`<text x="${f(sx(t))}" y="${m.top + ph + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(
    `<clipPath id="plot"><rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/></clipPath>`,
  );
  for (const s of series) {
    const pts = s.points.filter(([x, y]) => isFinite(x) && isFinite(y));
    if (pts.length === 0) continue;
    const d = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${f(sx(x))},${f(sy(y))}`).join('');
    parts.push(
      `<path d="${d}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="1.5" clip-path="url(#plot)"><title>${escapeXml(s.label)}</title></path>`,
    );
  }
  series.forEach((s, i) => {
    const y = m.top + 14 + 16 * i;
    parts.push(
      `<line x1="${m.left + pw - 150}" x2="${m.left + pw - 130}" y1="${y - 4}" y2="${y - 4}" stroke="${escapeXml(s.color)}" stroke-width="2"/>`,
      `<text x="${m.left + pw - 124}" y="${y}">${escapeXml(s.label)}</text>`,
    );
  });
  if (opts.xLabel) {
    parts.push(
      `<text x="${m.left + pw / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`,
    );
  }
  if (opts.yLabel) {
    parts.push(
      `<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The fields of a `metrics.jsonl` line the chart draws. */
export type ChartMetrics = Pick<EpochMetrics, 'epoch' | 'train_elbo' | 'valid_elbo'>;

/** The training chart of a run: train bound per epoch, and validation ELBO when recorded. */
export function trainingChart(
  rows: ChartMetrics[],
  bound = 'ELBO',
  opts: ChartOptions = {},
): string {
  const series: Series[] = [
    {
      label: `train ${bound}`,
      color: '#1f77b4',
      points: rows.map((r) => [r.epoch, r.train_elbo]),
    },
  ];
  const valid = rows.filter((r) => typeof r.valid_elbo === 'number');
  if (valid.length > 0) {
    series.push({
      label: 'validation ELBO',
      color: '#d62728',
      points: valid.map((r) => [r.epoch, r.valid_elbo!]),
    });
  }
  return lineChart(series, { xLabel: 'epoch', yLabel: 'nats per image', ...opts });
}
