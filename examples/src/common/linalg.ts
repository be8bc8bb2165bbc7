/** Small dense float64 linear algebra for exact references (row-major square matrices). */

/** The Cholesky factor L (lower, L Lᵀ = a) of a symmetric positive definite n×n matrix. */
export function cholesky(a: ArrayLike<number>, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0))
          throw new Error(`cholesky: the matrix is not positive definite (pivot ${i}: ${s})`);
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  return l;
}

/** The inverse of a symmetric positive definite n×n matrix, through its Cholesky factor. */
export function inverseSpd(a: ArrayLike<number>, n: number): Float64Array {
  const l = cholesky(a, n);
  // Solve L Lᵀ X = I column by column.
  const inv = new Float64Array(n * n);
  const y = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    for (let i = 0; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
      y[i] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * inv[k * n + c];
      inv[i * n + c] = s / l[i * n + i];
    }
  }
  return inv;
}

/** y = A x for an n×n matrix A. */
export function matVec(a: ArrayLike<number>, x: ArrayLike<number>, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) y[i] += a[i * n + j] * x[j];
  return y;
}

/** The sample covariance (divided by m) of the rows of row-major `x` ([m, d]). */
export function covariance(
  x: ArrayLike<number>,
  d: number,
): { mean: Float64Array; cov: Float64Array } {
  const m = x.length / d;
  const mean = new Float64Array(d);
  for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / m;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < m; i++) {
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++)
        cov[a * d + b] += ((x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b])) / m;
    }
  }
  return { mean, cov };
}
