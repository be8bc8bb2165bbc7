/**
 * The checks every flow must pass, driven by one table (one row per layer
 * or composition): the log-determinant against the log |det| of an autodiff
 * Jacobian, forward and inverse; inverse ∘ forward and forward ∘ inverse =
 * identity; the density of a FlowDistribution on it integrating to 1 by
 * quadrature on a 1-D and a 2-D grid; seeded reproducibility; no tensor
 * leaked. Parameters are perturbed away from their initial values (a
 * coupling layer starts as the identity) so every part of each map is
 * exercised. The last test prints the measured errors (the figures of the
 * flows' note).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { noLeak, useCpu } from '../helpers.js';
import { grid1, grid2, jacobians, logAbsDet, maxAbsDiff, perturb, trapezoid } from './oracles.js';

before(useCpu);

interface Row {
  name: string;
  /** The layer on `dim` dimensions, initialised from `seed`. */
  make: (dim: number, seed: number) => zs.Bijector;
  /** Standard deviation of the noise added to every parameter. */
  perturbation: number;
}

const planars = (d: number, s: number, n: number) =>
  new zs.Sequential(Array.from({ length: n }, (_, i) => new zs.PlanarFlow(d, { seed: s + i })));

// prettier-ignore
const ROWS: Row[] = [
  { name: 'PlanarFlow', make: (d, s) => new zs.PlanarFlow(d, { seed: s }), perturbation: 0.5 },
  { name: 'PlanarFlow ×4 (planarNormalizingFlow)', make: (d, s) => planars(d, s, 4), perturbation: 0.5 },
  { name: 'InverseAutoregressiveFlow (gru, MADE [8, 8])',
    make: (d, s) => new zs.InverseAutoregressiveFlow(d, { hiddenSizes: [8, 8], seed: s }),
    perturbation: 0.3 },
  { name: 'InverseAutoregressiveFlow (normal, linear_ar)',
    make: (d, s) => new zs.InverseAutoregressiveFlow(d, { update: 'normal', seed: s }),
    perturbation: 0.3 },
  { name: 'IAF, Reverse, IAF (invAutoregressiveFlow)',
    make: (d, s) => new zs.Sequential([
      new zs.InverseAutoregressiveFlow(d, { hiddenSizes: [8], seed: s }),
      new zs.Reverse(d),
      new zs.InverseAutoregressiveFlow(d, { hiddenSizes: [8], seed: s + 1, order: [...Array(d).keys()].reverse() }),
    ]),
    perturbation: 0.3 },
  { name: 'AdditiveCoupling', make: (d, s) => new zs.AdditiveCoupling(d, { hiddenSizes: [8], seed: s }),
    perturbation: 0.4 },
  { name: 'AffineCoupling', make: (d, s) => new zs.AffineCoupling(d, { hiddenSizes: [8], seed: s }),
    perturbation: 0.4 },
  { name: 'Scaling', make: (d) => new zs.Scaling(d), perturbation: 0.4 },
  { name: 'Permute, Reverse',
    make: (d) => new zs.Sequential([new zs.Permute([...Array(d).keys()].map((i) => (i + 1) % d)), new zs.Reverse(d)]),
    perturbation: 0 },
  { name: 'NICE (4 additive couplings, Scaling)',
    make: (d, s) => new zs.Sequential([
      ...zs.couplingMasks(d, 4).map((mask, i) => new zs.AdditiveCoupling(d, { mask, hiddenSizes: [8], seed: s + i })),
      new zs.Scaling(d),
    ]),
    perturbation: 0.3 },
  { name: 'RealNVP (3 affine couplings, Half masks)',
    make: (d, s) => new zs.Sequential(
      zs.couplingMasks(d, 3, 'Half').map((mask, i) => new zs.AffineCoupling(d, { mask, hiddenSizes: [8], seed: s + i })),
    ),
    perturbation: 0.3 },
];

/** The measured figures, by row. */
const FIGURES: Record<string, Record<string, number>> = {};

/** The row's layer on `dim` dimensions with perturbed parameters. */
function build(row: Row, dim: number, seed = 11): zs.Bijector {
  const layer = row.make(dim, seed);
  perturb(layer, row.perturbation, 1000 + seed);
  return layer;
}

/** log q on `points` of a FlowDistribution with a standard Normal base and `layer`. */
function flowLogDensity(layer: zs.Bijector, points: number[][]): Float32Array {
  return tf.tidy(() => {
    const d = points[0].length;
    const base = new zs.Normal({ mean: tf.zeros([d]), std: 1, groupNdims: 1 });
    const q = new zs.FlowDistribution({ base, bijector: layer });
    return q.logProb(tf.tensor2d(points)).dataSync() as Float32Array;
  });
}

for (const row of ROWS) {
  test(`${row.name}: log-determinant, inverse, density, seeding, leaks`, () => {
    const before = tf.memory().numTensors;
    const fig: Record<string, number> = {};
    const dim = 4;
    const layer = build(row, dim);

    // Log-determinants against autodiff Jacobians (float32; 6 points, D = 4).
    const x = tf.randomNormal([6, dim], 0, 1.5, 'float32', 5);
    noLeak('forward', () => tf.dispose(layer.forward(x)));
    const { y, logDet } = layer.forward(x);
    const jf = jacobians((v) => layer.forward(v).y, x);
    fig.logDetError = maxAbsDiff(logDet.dataSync(), jf.map(logAbsDet));
    assert.ok(fig.logDetError < 1e-5, `forward log-det error ${fig.logDetError}`);
    noLeak('inverse', () => tf.dispose(layer.inverse(y)));
    const inv = layer.inverse(y);
    const ji = jacobians((v) => layer.inverse(v).x, y);
    fig.inverseLogDetError = maxAbsDiff(inv.logDet.dataSync(), ji.map(logAbsDet));
    assert.ok(fig.inverseLogDetError < 1e-5, `inverse log-det error ${fig.inverseLogDetError}`);
    const sumDet = Array.from(tf.tidy(() => tf.add(inv.logDet, logDet).dataSync()));
    assert.ok(Math.max(...sumDet.map(Math.abs)) < 1e-4, `inverse log-det = −forward: ${sumDet}`);

    // Round trips on 500 points of N(0, 2²) in each direction.
    const xs = tf.randomNormal([500, dim], 0, 2, 'float32', 6);
    fig.roundTripError = tf.tidy(() =>
      maxAbsDiff(layer.inverse(layer.forward(xs).y).x.dataSync(), xs.dataSync()),
    );
    assert.ok(fig.roundTripError < 1e-4, `inverse(forward(x)) − x: ${fig.roundTripError}`);
    const backError = tf.tidy(() =>
      maxAbsDiff(layer.forward(layer.inverse(xs).x).y.dataSync(), xs.dataSync()),
    );
    assert.ok(backError < 1e-4, `forward(inverse(y)) − y: ${backError}`);
    tf.dispose([x, y, logDet, inv.x, inv.logDet, xs]);

    // Density of a FlowDistribution integrates to 1: trapezoid rule on a grid.
    const layer1 = build(row, 1);
    const g1 = grid1(12, 4800);
    fig.integral1d = trapezoid(flowLogDensity(layer1, g1.points), g1.points, 12, g1.h);
    assert.ok(Math.abs(fig.integral1d - 1) < 1e-4, `1-D integral ${fig.integral1d}`);
    const layer2 = build(row, 2);
    const g2 = grid2(9, 160);
    fig.integral2d = trapezoid(flowLogDensity(layer2, g2.points), g2.points, 9, g2.h);
    assert.ok(Math.abs(fig.integral2d - 1) < 5e-4, `2-D integral ${fig.integral2d}`);

    // Seeded: the same seed gives the same layer, another seed another one.
    const values = (l: zs.Bijector) => l.variables.flatMap((v) => Array.from(v.dataSync()));
    const [a, b, c] = [row.make(dim, 3), row.make(dim, 3), row.make(dim, 4)];
    assert.deepEqual(values(a), values(b), 'same seed');
    if (values(a).some((v) => v !== 0) && row.name !== 'Scaling') {
      assert.notDeepEqual(values(a), values(c), 'another seed');
    }
    for (const l of [layer, layer1, layer2, a, b, c]) l.dispose();
    assert.equal(tf.memory().numTensors, before, 'tensors left after dispose');
    FIGURES[row.name] = fig;
  });
}

test('the figures: log-det and round-trip errors, integrals, per flow', (t) => {
  for (const [name, f] of Object.entries(FIGURES)) {
    t.diagnostic(
      `${name}: log-det error ${f.logDetError.toExponential(1)} (inverse ` +
        `${f.inverseLogDetError.toExponential(1)}), round trip ${f.roundTripError.toExponential(1)}, ` +
        `|∫ − 1| 1-D ${Math.abs(f.integral1d - 1).toExponential(1)}, 2-D ${Math.abs(f.integral2d - 1).toExponential(1)}`,
    );
  }
  assert.equal(Object.keys(FIGURES).length, ROWS.length, 'every row measured');
});

test('PlanarFlow: the hand-written gradient equals autodiff through the composite step', () => {
  // y = x + u·tanh(x·w + b), log-det log1p((1 − h²)·w·u), u from û, written
  // out with tfjs ops: values and the gradients of a random linear function
  // of (y, log-det) with respect to x, w, û and b, for x of rank 1 to 3.
  const composite = (x: tf.Tensor, w: tf.Tensor, uHat: tf.Tensor, b: tf.Tensor) => {
    const wuHat = tf.sum(tf.mul(w, uHat));
    const wu = tf.sub(tf.softplus(wuHat), 1);
    const u = tf.add(uHat, tf.mul(tf.div(tf.sub(wu, wuHat), tf.sum(tf.square(w))), w));
    const h = tf.tanh(tf.add(tf.sum(tf.mul(x, w), -1), b));
    return {
      y: tf.add(x, tf.mul(tf.expandDims(h, -1), u)),
      logDet: tf.log1p(tf.mul(tf.sub(1, tf.square(h)), wu)),
    };
  };
  const d = 4;
  const flow = new zs.PlanarFlow(d, { seed: 3, initStd: 0.7 });
  flow.b.assign(tf.scalar(0.3));
  for (const shape of [[d], [5, d], [2, 3, d]]) {
    tf.tidy(() => {
      const x = tf.randomNormal(shape, 0, 1.5, 'float32', 7);
      const ry = tf.randomNormal(shape, 0, 1, 'float32', 8);
      const rl = tf.randomNormal(shape.slice(0, -1), 0, 1, 'float32', 9);
      const loss = (r: { y: tf.Tensor; logDet: tf.Tensor }) =>
        tf.add(tf.sum(tf.mul(r.y, ry)), tf.sum(tf.mul(r.logDet, rl))) as tf.Scalar;
      const want = tf.grads((xv: tf.Tensor, w: tf.Tensor, u: tf.Tensor, b: tf.Tensor) =>
        loss(composite(xv, w, u, b)),
      )([x, flow.w, flow.uHat, flow.b]);
      const [gx] = tf.grads((xv: tf.Tensor) => loss(flow.forward(xv)))([x]);
      const { grads } = tf.variableGrads(() => loss(flow.forward(x)), flow.variables);
      const got = [gx, grads[flow.w.name], grads[flow.uHat.name], grads[flow.b.name]];
      ['x', 'w', 'uHat', 'b'].forEach((name, i) => {
        assert.deepEqual(got[i].shape, want[i].shape, name);
        const err = maxAbsDiff(got[i].dataSync(), want[i].dataSync());
        assert.ok(err < 1e-5, `[${shape}] d/d${name}: ${err}`);
      });
      const c = composite(x, flow.w, flow.uHat, flow.b);
      const r = flow.forward(x);
      assert.ok(maxAbsDiff(r.y.dataSync(), c.y.dataSync()) < 1e-6, `[${shape}] y`);
      assert.ok(maxAbsDiff(r.logDet.dataSync(), c.logDet.dataSync()) < 1e-6, `[${shape}] log-det`);
    });
  }
  flow.dispose();
});
