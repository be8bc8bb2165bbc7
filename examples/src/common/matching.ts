/**
 * Matching learned components to true ones: the assignment problem solved
 * exactly (the Hungarian algorithm), and the distances between discrete
 * distributions that the topic model is scored by.
 */

/**
 * The minimum-cost perfect matching of an n×n cost matrix (Kuhn-Munkres,
 * the O(n³) shortest-augmenting-path form with row and column potentials).
 * Returns `assignment` with row i matched to column `assignment[i]`, and the
 * total cost Σ_i cost[i][assignment[i]].
 * @throws Error when the matrix is empty, not square or holds a non-finite number.
 * @example
 * hungarian([[4, 1], [2, 8]]); // { assignment: [1, 0], cost: 3 }
 */
export function hungarian(cost: readonly (readonly number[])[]): {
  assignment: number[];
  cost: number;
} {
  const n = cost.length;
  if (n === 0) throw new Error('hungarian: `cost` is empty; give an n×n matrix, n ≥ 1');
  cost.forEach((row, i) => {
    if (row.length !== n) {
      throw new Error(
        `hungarian: \`cost\` must be square: row ${i} has ${row.length} entries, expected ${n}`,
      );
    }
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new Error(`hungarian: cost[${i}][${j}] is ${v}, not finite`);
    });
  });
  // 1-based arrays as in the classic formulation: column 0 is a virtual
  // column whose row is the one being inserted.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const rowOf = new Int32Array(n + 1); // rowOf[j]: the row matched to column j (0: none)
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    rowOf[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = rowOf[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[rowOf[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    // Augment along the path back to the virtual column.
    do {
      const j1 = way[j0];
      rowOf[j0] = rowOf[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Array<number>(n);
  for (let j = 1; j <= n; j++) assignment[rowOf[j] - 1] = j - 1;
  return { assignment, cost: assignment.reduce((s, j, i) => s + cost[i][j], 0) };
}

/** The cosine of the angle between two vectors: a·b / (|a| |b|) (0 when either is zero). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * The Hellinger distance between two discrete distributions,
 * √(1 − Σ_i √(p_i q_i)): 0 for equal ones, 1 for disjoint supports.
 */
export function hellinger(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let bc = 0;
  for (let i = 0; i < p.length; i++) bc += Math.sqrt(p[i] * q[i]);
  return Math.sqrt(Math.max(0, 1 - bc));
}
