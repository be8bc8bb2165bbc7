import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  columnMoments,
  erfc,
  ksPValue,
  ksStatistic,
  maxAbs,
  normalCdf,
} from '../src/common/stats.js';

test('erfc and the normal CDF against reference values (Python math.erfc)', () => {
  const cases: [number, number][] = [
    [0.5, 0.4795001221869535],
    [2, 0.004677734981047265],
    [-1, 1.8427007929497148],
    [0, 1],
  ];
  for (const [x, want] of cases) {
    assert.ok(Math.abs(erfc(x) - want) < 1e-15 * Math.max(1, want) + 1e-17, `erfc(${x})`);
  }
  assert.ok(Math.abs(normalCdf(1) - 0.8413447460685429) < 1e-15);
  assert.ok(Math.abs(normalCdf(-1.96) - 0.024997895148220435) < 1e-15);
});

test('columnMoments and maxAbs: population moments per column', () => {
  const { mean, std } = columnMoments([1, 10, 3, 20, 5, 30], 2);
  assert.deepEqual(mean, [3, 20]);
  assert.ok(Math.abs(std[0] - Math.sqrt(8 / 3)) < 1e-15);
  assert.ok(Math.abs(std[1] - Math.sqrt(200 / 3)) < 1e-13);
  assert.equal(maxAbs([-3, 2]), 3);
});

test('ksStatistic: exact on small samples; the p-value rejects a wrong CDF', () => {
  // Uniform CDF on [0, 1] and samples at 0.1, 0.5, 0.9: sup gap at 0.1 → 1/3 − 0.1?
  // Gaps: max(1/3 − 0.1, 0.1 − 0, 2/3 − 0.5, 0.5 − 1/3, 1 − 0.9, 0.9 − 2/3) = 0.2333…
  const d = ksStatistic([0.9, 0.1, 0.5], (x) => x);
  assert.ok(Math.abs(d - (0.9 - 2 / 3)) < 1e-15, `${d}`);
  // 2000 evenly spread quantiles of the normal pass; shifted by 0.2 they fail.
  const n = 2000;
  const q = Array.from({ length: n }, (_, i) => {
    // Inverse CDF by bisection, to 1e-12.
    const p = (i + 0.5) / n;
    let lo = -10;
    let hi = 10;
    while (hi - lo > 1e-12) {
      const mid = (lo + hi) / 2;
      if (normalCdf(mid) < p) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  });
  assert.ok(ksPValue(ksStatistic(q, normalCdf), n) > 0.99);
  assert.ok(
    ksPValue(
      ksStatistic(
        q.map((v) => v + 0.2),
        normalCdf,
      ),
      n,
    ) < 1e-10,
  );
});
