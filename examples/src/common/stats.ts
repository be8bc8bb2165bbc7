/** Summary statistics of samples, in float64. */

/** Mean and (population) standard deviation of each column of row-major `x` ([n, d]). */
export function columnMoments(x: ArrayLike<number>, d: number): { mean: number[]; std: number[] } {
  const n = x.length / d;
  const mean = new Array<number>(d).fill(0);
  const sq = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sq[j] += (x[i * d + j] - mean[j]) ** 2;
  return { mean, std: sq.map((s) => Math.sqrt(s / n)) };
}

/** Largest absolute value. */
export function maxAbs(v: readonly number[]): number {
  return v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
}

/**
 * The Kolmogorov-Smirnov statistic of samples against a continuous CDF:
 * sup |F_n(x) − F(x)|.
 */
export function ksStatistic(samples: ArrayLike<number>, cdf: (x: number) => number): number {
  const s = Float64Array.from(samples).sort();
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(s[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

/** Φ, the standard normal CDF (Abramowitz-Stegun 7.1.26 is too coarse; erfc by continued fraction). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** The complementary error function, to ~1e-14 relative (Numerical Recipes' erfc via Chebyshev). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 2 / (2 + z);
  const ty = 4 * t - 2;
  const cof = [
    -1.3026537197817094, 0.6419697923564902, 1.9476473204185836e-2, -9.561514786808631e-3,
    -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5,
    -1.624290004647e-6, 1.30365583558e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9,
    5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11, 2.394038e-12, -6.886027e-12,
    8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16,
    -2.8e-17,
  ];
  let d = 0;
  let dd = 0;
  for (let j = cof.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + cof[j];
    dd = tmp;
  }
  const r = t * Math.exp(-z * z + 0.5 * (cof[0] + ty * d) - dd);
  return x >= 0 ? r : 2 - r;
}

/**
 * The p-value of a one-sample KS statistic `d` with `n` samples, from the
 * asymptotic Kolmogorov distribution with Stephens' small-sample correction
 * λ = (√n + 0.12 + 0.11/√n)·d: P(K > λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²) for
 * λ ≥ 1.18, else 1 − (√(2π)/λ) Σ e^(−(2k−1)²π²/(8λ²)) (the series that
 * converges there).
 */
export function ksPValue(d: number, n: number): number {
  const lambda = (Math.sqrt(n) + 0.12 + 0.11 / Math.sqrt(n)) * d;
  if (lambda <= 0) return 1;
  let p: number;
  if (lambda < 1.18) {
    let sum = 0;
    for (let k = 1; k <= 20; k++) {
      sum += Math.exp((-((2 * k - 1) ** 2) * Math.PI ** 2) / (8 * lambda * lambda));
    }
    p = 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum;
  } else {
    p = 0;
    for (let k = 1; k <= 100; k++)
      p += 2 * (-1) ** (k - 1) * Math.exp(-2 * k * k * lambda * lambda);
  }
  return Math.min(1, Math.max(0, p));
}
