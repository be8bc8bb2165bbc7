/**
 * Oracles of the flow tests: the log |det| of an autodiff Jacobian (one
 * tf.grad per output dimension, the determinant in float64), quadrature of a
 * density on a 1-D or 2-D grid (float64 sums), and random non-trivial
 * parameters for a layer.
 */
import * as tf from '@tensorflow/tfjs';

/** log |det A| of a square float64 matrix, by Gaussian elimination with partial pivoting. */
export function logAbsDet(a: number[][]): number {
  const m = a.map((r) => [...r]);
  const n = m.length;
  let s = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const piv = m[c][c];
    s += Math.log(Math.abs(piv));
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / piv;
      for (let k = c; k < n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return s;
}

/**
 * The Jacobians ∂f(x)_n/∂x_n of a map acting row by row on x [N, D]: [N][D][D],
 * row i from tf.grad of Σ_n f(x)[n, i].
 */
export function jacobians(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): number[][][] {
  const [n, d] = x.shape;
  const rows: number[][] = [];
  for (let i = 0; i < d; i++) {
    const g = tf.tidy(() => {
      const onehot = tf.oneHot(tf.scalar(i, 'int32'), d).toFloat();
      return tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(f(xx), onehot)))(x);
    });
    rows.push(Array.from(g.dataSync()));
    g.dispose();
  }
  return Array.from({ length: n }, (_, k) =>
    Array.from({ length: d }, (_, i) => rows[i].slice(k * d, (k + 1) * d)),
  );
}

/** Max |a − b| over two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A 1-D grid: n + 1 points from −l to l, and its spacing. */
export function grid1(l: number, n: number): { points: number[][]; h: number } {
  const h = (2 * l) / n;
  return { points: Array.from({ length: n + 1 }, (_, i) => [-l + i * h]), h };
}

/** A 2-D grid: (n + 1)² points over [−l, l]², and its spacing. */
export function grid2(l: number, n: number): { points: number[][]; h: number } {
  const h = (2 * l) / n;
  const points: number[][] = [];
  for (let i = 0; i <= n; i++) for (let j = 0; j <= n; j++) points.push([-l + i * h, -l + j * h]);
  return { points, h };
}

/**
 * ∫ exp(logDensity) over a grid of {@link grid1} or {@link grid2}, by the
 * trapezoid rule in float64 (edge points weighted ½ per axis).
 */
export function trapezoid(
  logDensity: ArrayLike<number>,
  points: number[][],
  l: number,
  h: number,
): number {
  let s = 0;
  const edge = (v: number) => (Math.abs(Math.abs(v) - l) < h / 2 ? 0.5 : 1);
  for (let k = 0; k < points.length; k++) {
    s += points[k].reduce((w, v) => w * edge(v), 1) * Math.exp(logDensity[k]);
  }
  return s * h ** points[0].length;
}

/** Adds Normal(0, scale²) noise, seeded, to every variable of `layer`: non-trivial parameters. */
export function perturb(layer: { variables: tf.Variable[] }, scale: number, seed: number): void {
  layer.variables.forEach((v, i) => {
    tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, scale, 'float32', seed + i))));
  });
}
