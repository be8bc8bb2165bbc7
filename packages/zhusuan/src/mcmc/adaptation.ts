/**
 * Warm-up adaptation for HMC-type kernels as pure functions (numpyro's
 * `infer/hmc_util.py`): step-size adaptation by dual averaging (Hoffman &
 * Gelman, 2014, Algorithm 5), their initial step-size heuristic
 * (Algorithm 4), and Welford's running mean and variance of the draws, from
 * which a diagonal mass is estimated, and Stan's windowed warm-up schedule
 * (numpyro's `build_adaptation_schedule`). Each takes a state (or an
 * iteration) and returns a new one; the kernels ({@link HMC}, {@link NUTS})
 * follow the schedule to decide when to update, restart and finish them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertInteger } from '../checks.js';

// ---- step size: dual averaging ----------------------------------------------

/** The state of dual averaging on log ε (numpyro's `DAState`). */
export interface DualAveragingState {
  /** m, the number of updates so far. */
  readonly iteration: number;
  /** H̄_m, the running average of δ − α_t (target minus observed acceptance). */
  readonly hBar: number;
  /** log ε_m, the log step size to use next (the iterate). */
  readonly logStepSize: number;
  /** log ε̄_m, the weighted average of the iterates: the log step size to keep after warm-up. */
  readonly logStepSizeAvg: number;
  /** μ, the point the iterates are shrunk towards: log(10·ε0). */
  readonly mu: number;
}

/** The constants of dual averaging (Hoffman & Gelman's defaults in brackets). */
export interface DualAveragingOptions {
  /** δ, the mean acceptance probability aimed at, in (0, 1) (0.8 in HMC). */
  targetAcceptanceRate: number;
  /** γ > 0, how strongly the iterates are shrunk towards μ (0.05). */
  gamma: number;
  /** t0 ≥ 0, which damps the first updates (10). */
  t0: number;
  /** κ in (0, 1], the decay of the averaging weights m^−κ (0.75). */
  kappa: number;
}

/**
 * A fresh dual-averaging state for the initial step size `stepSize` (ε0):
 * μ = log(10·ε0), every average at 0. Restart with it when the target
 * changes (a new mass, a new adaptation window).
 */
export function dualAveragingInit(stepSize: number): DualAveragingState {
  return {
    iteration: 0,
    hBar: 0,
    logStepSize: Math.log(stepSize),
    logStepSizeAvg: 0,
    mu: Math.log(10 * stepSize),
  };
}

/**
 * One update with the observed mean acceptance probability `acceptance`
 * (α_m) of the iteration just run:
 *
 *   H̄_m = (1 − 1/(m + t0))·H̄_{m−1} + (δ − α_m)/(m + t0)
 *   log ε_m = μ − (√m/γ)·H̄_m
 *   log ε̄_m = m^−κ·log ε_m + (1 − m^−κ)·log ε̄_{m−1}
 *
 * Use exp(`logStepSize`) for the next iteration and exp(`logStepSizeAvg`)
 * once the warm-up ends.
 * @example
 * let da = zs.dualAveragingInit(0.1);
 * da = zs.dualAveragingUpdate(da, info.acceptanceRate, {
 *   targetAcceptanceRate: 0.8, gamma: 0.05, t0: 10, kappa: 0.75,
 * });
 * const nextStepSize = Math.exp(da.logStepSize);
 */
export function dualAveragingUpdate(
  state: DualAveragingState,
  acceptance: number,
  opts: DualAveragingOptions,
): DualAveragingState {
  const m = state.iteration + 1;
  const w = 1 / (m + opts.t0);
  const hBar = (1 - w) * state.hBar + w * (opts.targetAcceptanceRate - acceptance);
  const logStepSize = state.mu - (Math.sqrt(m) / opts.gamma) * hBar;
  const r = Math.pow(m, -opts.kappa);
  const logStepSizeAvg = r * logStepSize + (1 - r) * state.logStepSizeAvg;
  return { iteration: m, hBar, logStepSize, logStepSizeAvg, mu: state.mu };
}

/**
 * A reasonable initial step size (Hoffman & Gelman's Algorithm 4): from
 * `stepSize`, double it while `meanAcceptance` stays above 0.5, or halve it
 * while it stays at or below 0.5, and return the first step size across
 * that line (at most `maxSteps` doublings or halvings).
 * @param meanAcceptance the mean acceptance probability of one leapfrog
 *   step of the given size from the current state, with momenta held fixed
 *   across the calls.
 */
export function findReasonableStepSize(
  stepSize: number,
  meanAcceptance: (stepSize: number) => number,
  maxSteps = 40,
): number {
  let eps = stepSize;
  let a = meanAcceptance(eps);
  const dir = a > 0.5 ? 1 : -1;
  for (let i = 0; i < maxSteps && (dir > 0 ? a > 0.5 : a <= 0.5); i++) {
    eps *= Math.pow(2, dir);
    a = meanAcceptance(eps);
  }
  return eps;
}

// ---- mass: Welford's running variance -----------------------------------------

/**
 * Running mean and variance of draws (numpyro's `welford_covariance`, the
 * diagonal), elementwise over the shape of one draw. Draws may carry
 * `chainDims` leading chain axes, pooled: the state's tensors have size 1
 * there.
 */
export interface WelfordState {
  /** The mean, shape `[1,…,1, ...event]` (`chainDims` ones). */
  readonly mean: tf.Tensor;
  /** The variance about the mean, divided by the (weighted) number of draws; same shape. */
  readonly variance: tf.Tensor;
  /** The number of updates so far. */
  readonly count: number;
  /** How many leading axes of a draw index chains. */
  readonly chainDims: number;
}

/**
 * An empty Welford state for draws of shape `drawShape` whose first
 * `chainDims` axes index chains (mean and variance zeros of shape
 * `[1,…,1, ...drawShape.slice(chainDims)]`).
 */
export function welfordInit(drawShape: number[], chainDims = 0): WelfordState {
  const shape = [...new Array<number>(chainDims).fill(1), ...drawShape.slice(chainDims)];
  return { mean: tf.zeros(shape), variance: tf.zeros(shape), count: 0, chainDims };
}

/**
 * The state after one more draw `x` (shape `[...chains, ...event]`), a new
 * state of new tensors (the old one is left to the caller):
 *
 *   d = w·(x − mean);  mean' = mean + d̄;  var' = (1 − w)·var + mean_c(d·(x − mean'))
 *
 * with averages over the chain axes. The weight `w` of the new draw is 1/n
 * by default (n the count after the update), which gives the exact mean and
 * population variance of all draws so far, chains pooled; a larger one
 * forgets old draws (HMC's exponentially weighted (1 − d)/(1 − dⁿ)).
 */
export function welfordUpdate(state: WelfordState, x: tf.Tensor, weight?: number): WelfordState {
  const count = state.count + 1;
  const w = weight ?? 1 / count;
  const chainAxes = Array.from({ length: state.chainDims }, (_, i) => i);
  const meanChains = (t: tf.Tensor): tf.Tensor =>
    chainAxes.length === 0 ? t : tf.mean(t, chainAxes, true);
  const { mean, variance } = tf.tidy(() => {
    const incr = tf.mul(tf.sub(x, state.mean), w);
    const newMean = tf.add(state.mean, meanChains(incr));
    const newVar = tf.add(
      tf.mul(state.variance, 1 - w),
      meanChains(tf.mul(incr, tf.sub(x, newMean))),
    );
    return { mean: newMean, variance: newVar };
  });
  return { mean, variance, count, chainDims: state.chainDims };
}

/**
 * The variance estimate of `state` (a new tensor); with `regularize` (the
 * default) shrunk towards 1e-3 as Stan and numpyro do,
 * (n/(n + 5))·var + 1e-3·5/(n + 5) after n updates, so that a variance from
 * few or identical draws stays positive. Its reciprocal is a diagonal mass.
 */
export function welfordFinalize(state: WelfordState, regularize = true): tf.Tensor {
  const n = state.count;
  if (!regularize) return tf.clone(state.variance);
  return tf.tidy(() => tf.add(tf.mul(state.variance, n / (n + 5)), (1e-3 * 5) / (n + 5)));
}

// ---- Stan's windowed warm-up schedule --------------------------------------------

/**
 * One window of the warm-up (iterations `start` to `end`, both included,
 * counted from 0). In a `fast` window only the step size adapts; in a `slow`
 * one the draws also feed the mass estimate, which is replaced at the
 * window's end.
 */
export interface AdaptationWindow {
  /** The window's first warm-up step (0-based). */
  readonly start: number;
  /** One past the window's last step. */
  readonly end: number;
  /** 'fast': step size only; 'slow': the mass is estimated from the window's draws. */
  readonly kind: 'fast' | 'slow';
}

/** The window sizes of {@link adaptationSchedule} (Stan's defaults in brackets). */
export interface AdaptationScheduleOptions {
  /** The initial fast window, in which the chains leave their starting points (75). */
  initBuffer?: number;
  /** The final fast window, in which the step size adapts to the last mass (50). */
  termBuffer?: number;
  /** The first slow window; each next one doubles (25). */
  baseWindow?: number;
}

/**
 * Stan's warm-up schedule for `nWarmup` iterations (Stan reference manual,
 * "HMC algorithm parameters"; numpyro's `build_adaptation_schedule`): an
 * initial fast window of `initBuffer`, slow windows of `baseWindow`,
 * 2·`baseWindow`, 4·`baseWindow`, … (the last one stretched to fill the
 * space when the next doubling would not fit twice), and a final fast window
 * of `termBuffer`. When the three defaults do not fit, the buffers are 15%
 * and 10% of `nWarmup` and the first slow window the rest; below 20
 * iterations there is one fast window (no mass adaptation).
 *
 * The mass is estimated only from draws of the current slow window, so the
 * transient from the starting points (the initial window) and the draws made
 * with an older mass never enter it.
 * @example
 * zs.adaptationSchedule(300);
 * // fast 0–74, slow 75–99, slow 100–149, slow 150–249, fast 250–299
 */
export function adaptationSchedule(
  nWarmup: number,
  opts: AdaptationScheduleOptions = {},
): AdaptationWindow[] {
  assertInteger('adaptationSchedule', 'nWarmup', nWarmup, 'positive');
  let init = opts.initBuffer ?? 75;
  let term = opts.termBuffer ?? 50;
  let base = opts.baseWindow ?? 25;
  assertInteger('adaptationSchedule', 'initBuffer', init, 'non-negative');
  assertInteger('adaptationSchedule', 'termBuffer', term, 'non-negative');
  assertInteger('adaptationSchedule', 'baseWindow', base, 'positive');
  if (nWarmup < 20) return [{ start: 0, end: nWarmup - 1, kind: 'fast' }];
  if (init + base + term > nWarmup) {
    init = Math.floor(0.15 * nWarmup);
    term = Math.floor(0.1 * nWarmup);
    base = nWarmup - init - term;
  }
  const windows: AdaptationWindow[] = [];
  if (init > 0) windows.push({ start: 0, end: init - 1, kind: 'fast' });
  const slowEnd = nWarmup - term; // the first iteration of the final fast window
  let start = init;
  let size = base;
  while (start < slowEnd) {
    // Stretch this window to the end of the slow phase unless the next,
    // twice as large, fits after it.
    const next = 3 * size <= slowEnd - start ? 2 * size : 0;
    if (next === 0) size = slowEnd - start;
    windows.push({ start, end: start + size - 1, kind: 'slow' });
    start += size;
    size = next;
  }
  if (term > 0) windows.push({ start: slowEnd, end: nWarmup - 1, kind: 'fast' });
  return windows;
}

/** What a kernel does after warm-up iteration t ({@link adaptationAction}). */
export interface AdaptationAction {
  /** Feed this iteration's draw to the mass estimate (t lies in a slow window). */
  readonly collectMass: boolean;
  /**
   * t ends a slow window: the mass becomes the inverse of the estimated
   * variance, the estimate starts afresh, and the step size is searched for
   * again and its dual averaging restarted.
   */
  readonly updateMass: boolean;
  /** t is the last warm-up iteration: fix the step size at its dual-averaged value. */
  readonly last: boolean;
}

/**
 * The adaptation events of warm-up iteration `t` (from 0) under `schedule`
 * ({@link adaptationSchedule}); the step size adapts at every warm-up
 * iteration.
 */
export function adaptationAction(
  schedule: readonly AdaptationWindow[],
  t: number,
): AdaptationAction {
  const w = schedule.find((x) => t >= x.start && t <= x.end);
  if (w === undefined) {
    throw new Error(
      `adaptationAction: iteration ${t} lies outside the schedule ` +
        `(0–${schedule[schedule.length - 1]?.end ?? -1})`,
    );
  }
  const slow = w.kind === 'slow';
  return {
    collectMass: slow,
    updateMass: slow && t === w.end,
    last: t === schedule[schedule.length - 1].end,
  };
}
