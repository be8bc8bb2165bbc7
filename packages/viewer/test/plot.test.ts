/** The viewer's SVG charts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineChart, niceTicks, trainingChart } from '../src/plot.js';

test('niceTicks: round steps of 1, 2 or 5 times a power of ten, inside the range', () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(-101.3, -86.2, 3), [-100, -95, -90]);
  assert.deepEqual(niceTicks(0.01, 0.049, 4), [0.01, 0.02, 0.03, 0.04]);
  assert.deepEqual(niceTicks(3, 3), [3]);
  assert.deepEqual(niceTicks(NaN, 1), []);
});

/** The points of each `<path d="M..L..">` of an SVG string, in pixels. */
function paths(svg: string): [number, number][][] {
  return [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) =>
    m[1]
      .split(/[ML]/)
      .filter((p) => p !== '')
      .map((p) => p.split(',').map(Number) as [number, number]),
  );
}

test('lineChart: one path per series, x increasing left to right, higher y drawn higher', () => {
  const svg = lineChart(
    [
      {
        label: 'a',
        color: '#000',
        points: [
          [1, -100],
          [2, -95],
          [3, -90],
        ],
      },
      {
        label: 'b',
        color: '#f00',
        points: [
          [1, -98],
          [3, -97],
        ],
      },
    ],
    { width: 400, height: 200 },
  );
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="400" height="200"/);
  const [a, b] = paths(svg);
  assert.equal(a.length, 3);
  assert.equal(b.length, 2);
  assert.ok(a[0][0] < a[1][0] && a[1][0] < a[2][0]);
  assert.ok(a[0][1] > a[1][1] && a[1][1] > a[2][1], 'SVG y grows downwards');
  // Both series share the axes: equal x draw at equal pixels.
  assert.equal(a[0][0], b[0][0]);
  assert.equal(a[2][0], b[1][0]);
});

test('lineChart: labels are escaped; no points gives a message, not an empty plot', () => {
  const svg = lineChart([
    {
      label: '<b>&',
      color: 'red',
      points: [
        [0, 1],
        [1, 2],
      ],
    },
  ]);
  assert.match(svg, /&lt;b&gt;&amp;/);
  assert.doesNotMatch(svg, /<b>/);
  assert.match(lineChart([{ label: 'x', color: 'red', points: [] }]), /no epochs recorded yet/);
});

test('trainingChart: a validation line only when metrics have one', () => {
  const rows = [
    { epoch: 1, train_elbo: -150 },
    { epoch: 2, train_elbo: -120 },
  ];
  assert.equal(paths(trainingChart(rows)).length, 1);
  const withValid = trainingChart(
    rows.map((r) => ({ ...r, valid_elbo: r.train_elbo - 2 })),
    'IWAE bound',
  );
  assert.equal(paths(withValid).length, 2);
  assert.match(withValid, /train IWAE bound/);
  assert.match(withValid, /validation ELBO/);
});
