/**
 * The warm-up adaptation functions: dual averaging against a hand-computed
 * sequence and on a synthetic acceptance curve, the step-size heuristic's
 * exact answers, Welford's running variance against two-pass float64
 * oracles, and HMC driven by exactly these functions.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  adaptationAction,
  adaptationSchedule,
  dualAveragingInit,
  dualAveragingUpdate,
  findReasonableStepSize,
  welfordFinalize,
  welfordInit,
  welfordUpdate,
  type DualAveragingOptions,
  type WelfordState,
} from '../../src/mcmc/adaptation.js';
import { HMC } from '../../src/mcmc/hmc.js';
import * as random from '../../src/random.js';
import { assertClose, noLeak, rng, useCpu } from '../helpers.js';

before(useCpu);

const HG: DualAveragingOptions = { targetAcceptanceRate: 0.8, gamma: 0.05, t0: 10, kappa: 0.75 };

// ---- dual averaging -----------------------------------------------------------

test('dualAveragingInit centres on log(10·ε0) with every average at 0', () => {
  assert.deepEqual(dualAveragingInit(0.5), {
    iteration: 0,
    hBar: 0,
    logStepSize: Math.log(0.5),
    logStepSizeAvg: 0,
    mu: Math.log(5),
  });
});

test('dualAveragingUpdate follows Hoffman & Gelman step by step', () => {
  // ε0 = 1 (μ = log 10), δ = 0.8, γ = 0.05, t0 = 10, κ = 0.75, acceptances 0.6, 0.9, 0.8:
  //   H̄1 = 0.2/11,                    log ε1 = log 10 − 20·0.2/11 = log 10 − 4/11
  //   H̄2 = (11/12)·0.2/11 − 0.1/12 = 1/120,   log ε2 = log 10 − 20√2/120 = log 10 − √2/6
  //   H̄3 = (12/13)/120 + 0 = 1/130,     log ε3 = log 10 − 20√3/130 = log 10 − 2√3/13
  // and log ε̄_m = m^−0.75·log ε_m + (1 − m^−0.75)·log ε̄_{m−1}, log ε̄1 = log ε1.
  const l1 = Math.LN10 - 4 / 11;
  const l2 = Math.LN10 - Math.SQRT2 / 6;
  const l3 = Math.LN10 - (2 * Math.sqrt(3)) / 13;
  const r2 = 2 ** -0.75;
  const r3 = 3 ** -0.75;
  const bar2 = r2 * l2 + (1 - r2) * l1;
  const want = [
    { hBar: 0.2 / 11, logStepSize: l1, logStepSizeAvg: l1 },
    { hBar: 1 / 120, logStepSize: l2, logStepSizeAvg: bar2 },
    { hBar: 1 / 130, logStepSize: l3, logStepSizeAvg: r3 * l3 + (1 - r3) * bar2 },
  ];
  let state = dualAveragingInit(1);
  [0.6, 0.9, 0.8].forEach((alpha, i) => {
    state = dualAveragingUpdate(state, alpha, HG);
    assert.equal(state.iteration, i + 1);
    assert.equal(state.mu, Math.log(10));
    for (const key of ['hBar', 'logStepSize', 'logStepSizeAvg'] as const) {
      assertClose(state[key], want[i][key], 1e-14, 1e-16, `step ${i + 1} ${key}`);
    }
  });
});

test('dual averaging drives the acceptance to its target on a synthetic curve', () => {
  // Acceptance e^−ε (decreasing in ε): the target 0.8 is reached at ε* = −log 0.8.
  // The early errors weigh on H̄ as 1/m, so ε̄ closes in on ε* like 1/√m.
  const target = -Math.log(0.8);
  for (const eps0 of [0.01, 1, 10]) {
    let state = dualAveragingInit(eps0);
    let eps = eps0;
    const error: number[] = [];
    for (let m = 1; m <= 20000; m++) {
      state = dualAveragingUpdate(state, Math.exp(-eps), HG);
      eps = Math.exp(state.logStepSize);
      if (m === 2000 || m === 20000)
        error.push(Math.abs(Math.exp(state.logStepSizeAvg) / target - 1));
    }
    const kept = Math.exp(state.logStepSizeAvg);
    assert.ok(error[1] < 0.01, `ε̄ from ε0 = ${eps0}: ${kept} vs ${target}`);
    assert.ok(error[1] < error[0] / 2, `ε̄ from ε0 = ${eps0} converges: ${error}`);
    assertClose(Math.exp(-kept), 0.8, 0.002, 0, `acceptance at ε̄ from ε0 = ${eps0}`);
  }
});

test('findReasonableStepSize doubles or halves to the first step size across 0.5', () => {
  const calls: number[] = [];
  const accept = (eps: number): number => {
    calls.push(eps);
    return Math.exp(-eps);
  };
  // Up from 0.01: e^−0.64 > 0.5 ≥ e^−1.28, so 0.01·2⁷.
  assert.equal(findReasonableStepSize(0.01, accept), 1.28);
  assert.deepEqual(calls, [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28]);
  // Down from 10: e^−1.25 ≤ 0.5 < e^−0.625, so 10·2⁻⁴.
  assert.equal(findReasonableStepSize(10, accept), 0.625);
  // Acceptance always 1: at most maxSteps doublings.
  assert.equal(
    findReasonableStepSize(1, () => 1, 5),
    32,
  );
});

// ---- Welford ------------------------------------------------------------------

/** `T` draws of shape `shape` from a seeded generator, as plain arrays and tensors. */
function draws(seed: number, T: number, shape: number[]): { flat: number[][]; t: tf.Tensor[] } {
  const r = rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const flat = Array.from({ length: T }, () =>
    Array.from({ length: size }, (_, j) => 3 * (r() - 0.5) + j),
  );
  return { flat, t: flat.map((f) => tf.tensor(f, shape)) };
}

/**
 * Weighted mean and variance (divided by the total weight) per event
 * element, two-pass in float64: draw t has weight `weights[t]`, its chains
 * (the leading `chains` of the flat array's `chains·event` values) equal
 * shares.
 */
function twoPass(
  flat: number[][],
  chains: number,
  weights: number[],
): { mean: number[]; v: number[] } {
  const event = flat[0].length / chains;
  const total = weights.reduce((a, b) => a + b, 0) * chains;
  const mean = Array.from({ length: event }, (_, j) => {
    let s = 0;
    flat.forEach((f, t) => {
      for (let c = 0; c < chains; c++) s += weights[t] * f[c * event + j];
    });
    return s / total;
  });
  const v = mean.map((m, j) => {
    let s = 0;
    flat.forEach((f, t) => {
      for (let c = 0; c < chains; c++) s += weights[t] * (f[c * event + j] - m) ** 2;
    });
    return s / total;
  });
  return { mean, v };
}

/** Runs `welfordUpdate` over `ts` (disposing the states it replaces) and returns the last. */
function run(state: WelfordState, ts: tf.Tensor[], weight?: (t: number) => number): WelfordState {
  let s = state;
  ts.forEach((x, i) => {
    const next = welfordUpdate(s, x, weight?.(i + 1));
    tf.dispose([s.mean, s.variance]);
    s = next;
  });
  return s;
}

test('Welford: the mean and population variance of every draw, chains pooled (float64 two-pass)', () => {
  for (const [shape, chainDims] of [
    [[3], 0],
    [[2, 3], 0],
    [[4, 3], 1],
    [[2, 2, 3], 2],
  ] as [number[], number][]) {
    const T = 60;
    const { flat, t } = draws(7, T, shape);
    const chains = shape.slice(0, chainDims).reduce((a, b) => a * b, 1);
    const want = twoPass(flat, chains, new Array<number>(T).fill(1));
    const before = tf.memory().numTensors;
    const init = welfordInit(shape, chainDims);
    const stateShape = [...new Array<number>(chainDims).fill(1), ...shape.slice(chainDims)];
    assert.deepEqual(init.mean.shape, stateShape);
    const s = run(init, t);
    assert.equal(tf.memory().numTensors, before + 2, 'only the state is left');
    assert.equal(s.count, T);
    assert.deepEqual(s.variance.shape, stateShape);
    const what = `shape [${shape}], chainDims ${chainDims}`;
    assertClose(s.mean.dataSync(), want.mean, 1e-6, 1e-6, `${what} mean`);
    assertClose(s.variance.dataSync(), want.v, 2e-6, 1e-6, `${what} variance`);
    tf.dispose([s.mean, s.variance, ...t]);
  }
});

test('Welford with weight (1 − d)/(1 − dᵗ): the exponentially weighted mean and variance', () => {
  const d = 0.9;
  const T = 40;
  const shape = [3, 2];
  const { flat, t } = draws(11, T, shape);
  const want = twoPass(
    flat,
    3,
    Array.from({ length: T }, (_, i) => d ** (T - 1 - i)),
  );
  const s = run(welfordInit(shape, 1), t, (n) => (1 - d) / (1 - d ** n));
  assertClose(s.mean.dataSync(), want.mean, 1e-6, 1e-6, 'mean');
  assertClose(s.variance.dataSync(), want.v, 2e-6, 1e-6, 'variance');
  tf.dispose([s.mean, s.variance, ...t]);
});

test('welfordFinalize shrinks the variance towards 1e-3 as Stan does, or returns a copy', () => {
  const state: WelfordState = {
    mean: tf.zeros([2]),
    variance: tf.tensor([2, 0]),
    count: 15,
    chainDims: 0,
  };
  const reg = noLeak('finalize', () => {
    const v = welfordFinalize(state);
    const out = Array.from(v.dataSync());
    v.dispose();
    return out;
  });
  // (15/20)·var + 1e-3·5/20.
  assertClose(reg, [1.5 + 2.5e-4, 2.5e-4], 1e-6, 0, 'regularised');
  const raw = welfordFinalize(state, false);
  assert.notEqual(raw, state.variance);
  assert.deepEqual(Array.from(raw.dataSync()), [2, 0]);
  tf.dispose([raw, state.mean, state.variance]);
});

// ---- Stan's windowed schedule ----------------------------------------------------

/** `[start, end, kind]` triples of a schedule. */
const windows = (n: number) =>
  adaptationSchedule(n).map((w) => [w.start, w.end, w.kind] as [number, number, string]);

test("adaptationSchedule lays out Stan's windows: 75 fast, slow windows doubling from 25, 50 fast", () => {
  assert.deepEqual(windows(300), [
    [0, 74, 'fast'],
    [75, 99, 'slow'],
    [100, 149, 'slow'],
    [150, 249, 'slow'], // 100; the next (200) would not fit, so this one takes the rest
    [250, 299, 'fast'],
  ]);
  // Stan's default warm-up: mass updates at iterations 100, 150, 250, 450 and 950 (1-based).
  assert.deepEqual(windows(1000), [
    [0, 74, 'fast'],
    [75, 99, 'slow'],
    [100, 149, 'slow'],
    [150, 249, 'slow'],
    [250, 449, 'slow'],
    [450, 949, 'slow'],
    [950, 999, 'fast'],
  ]);
  assert.deepEqual(windows(150), [
    [0, 74, 'fast'],
    [75, 99, 'slow'],
    [100, 149, 'fast'],
  ]);
  // The defaults do not fit: 15% fast, 10% fast, the rest one slow window.
  assert.deepEqual(windows(100), [
    [0, 14, 'fast'],
    [15, 89, 'slow'],
    [90, 99, 'fast'],
  ]);
  assert.deepEqual(windows(20), [
    [0, 2, 'fast'],
    [3, 17, 'slow'],
    [18, 19, 'fast'],
  ]);
  // Below 20 iterations: the step size only.
  assert.deepEqual(windows(19), [[0, 18, 'fast']]);
  assert.deepEqual(
    adaptationSchedule(200, { initBuffer: 50, termBuffer: 30, baseWindow: 40 }).map((w) => [
      w.start,
      w.end,
    ]),
    [
      [0, 49],
      [50, 89],
      [90, 169], // 80; the next (160) would not fit
      [170, 199],
    ],
  );
});

test('adaptationSchedule tiles the warm-up with slow windows that never shrink', () => {
  for (let n = 1; n <= 3000; n++) {
    const s = adaptationSchedule(n);
    assert.equal(s[0].start, 0, `n = ${n}`);
    assert.equal(s[s.length - 1].end, n - 1, `n = ${n}`);
    s.forEach((w, i) => {
      assert.ok(w.end >= w.start, `n = ${n}: empty window ${i}`);
      if (i > 0) assert.equal(w.start, s[i - 1].end + 1, `n = ${n}: gap before window ${i}`);
    });
    const slow = s.filter((w) => w.kind === 'slow').map((w) => w.end - w.start + 1);
    slow.forEach((size, i) => assert.ok(i === 0 || size >= slow[i - 1], `n = ${n}: ${slow}`));
    if (n >= 20) assert.ok(slow.length >= 1, `n = ${n}: no slow window`);
  }
});

test('adaptationAction: collect in slow windows, update the mass at their ends, finish at the last step', () => {
  const s = adaptationSchedule(300);
  const collect: number[] = [];
  const update: number[] = [];
  const last: number[] = [];
  for (let t = 0; t < 300; t++) {
    const a = adaptationAction(s, t);
    if (a.collectMass) collect.push(t);
    if (a.updateMass) update.push(t);
    if (a.last) last.push(t);
  }
  assert.deepEqual(
    collect,
    Array.from({ length: 175 }, (_, i) => 75 + i),
  );
  assert.deepEqual(update, [99, 149, 249]);
  assert.deepEqual(last, [299]);
  assert.throws(
    () => adaptationAction(s, 300),
    /adaptationAction: iteration 300 lies outside the schedule \(0–299\)/,
  );
  assert.throws(
    () => adaptationSchedule(0),
    /adaptationSchedule: `nWarmup` must be a positive integer, got 0/,
  );
  assert.throws(
    () => adaptationSchedule(100, { baseWindow: 2.5 }),
    /`baseWindow` must be a positive integer/,
  );
});

// ---- HMC runs on these functions --------------------------------------------

test("HMC adapts its step size and mass with exactly these functions, in Stan's windows", () => {
  random.setSeed(4);
  const logp = (v: Record<string, tf.Tensor>): tf.Tensor =>
    tf.mul(tf.sum(tf.square(tf.div(v.x, tf.tensor([1, 0.2]))), -1), -0.5);
  const x = tf.variable(
    tf.tensor([
      [0.5, 0.1],
      [-1, 0.3],
      [2, -0.2],
    ]),
  );
  // 20 warm-up steps: fast 0–2, slow 3–17, fast 18–19.
  const nWarmup = 20;
  const schedule = adaptationSchedule(nWarmup);
  const hmc = new HMC({
    stepSize: 0.2,
    nLeapfrogs: 3,
    adaptStepSize: true,
    adaptMass: true,
    nWarmup,
    findInitialStepSize: false,
  });
  let eps = 0.2;
  let da = dualAveragingInit(eps);
  let w = welfordInit([3, 2], 1);
  let want: number[] = [1, 1];
  for (let t = 0; t < nWarmup; t++) {
    const info = hmc.step(logp, {}, { x });
    assert.equal(info.stepSize, eps, `step ${t} size`);
    da = dualAveragingUpdate(da, info.acceptanceRate, HG);
    eps = Math.exp(da.logStepSize);
    const action = adaptationAction(schedule, t);
    // The mass estimate sees the draws of the slow window only (the state after each step).
    if (action.collectMass) {
      const next = welfordUpdate(w, x);
      tf.dispose([w.mean, w.variance]);
      w = next;
    }
    if (action.updateMass) {
      const v = welfordFinalize(w);
      want = Array.from(tf.reciprocal(v).dataSync());
      tf.dispose([v, w.mean, w.variance]);
      w = welfordInit([3, 2], 1);
      // The step size search is off: dual averaging restarts from the current step size.
      da = dualAveragingInit(eps);
    }
    if (action.last) eps = Math.exp(da.logStepSizeAvg);
    const mass = hmc.getMass()!.x;
    assert.deepEqual(Array.from(mass.dataSync()), want, `mass after step ${t}`);
    mass.dispose();
  }
  assert.equal(schedule[1].end, 17);
  assert.ok(!hmc.adaptStepSize && !hmc.adaptMass, 'adaptation ended with the warm-up');
  assert.equal(hmc.stepSize, eps);
  assert.equal(hmc.step(logp, {}, { x }).stepSize, eps, 'fixed after the warm-up');
  tf.dispose([w.mean, w.variance, x]);
  hmc.dispose();
});
