/**
 * The No-U-Turn Sampler (Hoffman & Gelman, 2014), as numpyro's `NUTS` and
 * Stan's: iterative tree doubling (numpyro's `build_tree` with
 * `_iterative_build_subtree`), multinomial sampling of the proposal
 * (progressive uniform within a new subtree, biased towards the new subtree
 * when it joins the tree; Betancourt, 2017, A.3), the generalized no-U-turn
 * criterion on momenta (Betancourt, A.4.2) checked on every balanced
 * sub-subtree through checkpoints, a maximum tree depth, and divergence at an
 * energy error above `maxDeltaEnergy` (1000). ZhuSuan has no NUTS. As in
 * numpyro, the U-turn is not checked again across the junction of two merged
 * subtrees (Stan's extra checks since 2.26).
 *
 * Batched chains: all chains double their trees in lockstep, each in its own
 * random direction, with one gradient evaluation of the whole batch per
 * leapfrog step; a chain whose tree has finished (a U-turn, a divergence)
 * keeps integrating but its results are masked out. A step therefore costs
 * as many batched gradient evaluations as the longest tree among the chains
 * (plus one at the start), and reads the log density back once per leapfrog
 * step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertInteger } from '../checks.js';
import { nextSeed, seedWords, uniform53 } from '../random.js';
import {
  acceptProb,
  energyErrors,
  kinetic,
  leapfrog,
  massDot,
  type LogDensityFn,
} from './hamiltonian.js';
import {
  HamiltonianKernel,
  type HamiltonianOptions,
  type HmcInfo,
  type StartPoint,
  type Transition,
} from './kernel.js';

/** Options of {@link NUTS}. */
export interface NutsOptions extends HamiltonianOptions {
  /**
   * The largest tree depth: a trajectory has at most 2^maxTreeDepth − 1
   * leapfrog steps. Default 10 (Stan, numpyro).
   */
  maxTreeDepth?: number;
}

/** What one {@link NUTS.step} reports. */
export interface NutsInfo extends HmcInfo {
  /** Per chain: the depth of the tree built (2^depth − 1 leapfrog steps when it ran to the end). */
  treeDepth: number[];
}

/** A point of phase space, one tensor per latent: position, momentum, gradient. */
interface Point {
  q: tf.Tensor[];
  p: tf.Tensor[];
  g: tf.Tensor[];
}

/** log(e^a + e^b), −∞ when both are. */
function logAddExp(a: number, b: number): number {
  const m = Math.max(a, b);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** For a leaf index n: the checkpoints [min, max] its turning checks use (numpyro's `_leaf_idx_to_ckpt_idxs`). */
export function checkpointRange(n: number): [number, number] {
  const popcount = (x: number): number => {
    let c = 0;
    for (let v = x; v > 0; v >>>= 1) c += v & 1;
    return c;
  };
  const idxMax = popcount(n >>> 1);
  let trailingOnes = 0;
  for (let v = n; v & 1; v >>>= 1) trailingOnes++;
  return [idxMax - trailingOnes + 1, idxMax];
}

/**
 * The No-U-Turn Sampler over the latent variables of a model: each step
 * builds a trajectory by doubling until it makes a U-turn (or diverges, or
 * reaches `maxTreeDepth`) and picks the new state from all its points, so no
 * trajectory length needs tuning. Step-size and mass adaptation, jitter,
 * chains and the step info are HMC's ({@link HMC}); the step size adapts by
 * default (aiming at a mean acceptance statistic of 0.8).
 *
 * Holds small variables for the mass adaptation: call `dispose()` when done.
 * @example
 * const z = tf.variable(tf.zeros([nChains, 2]));
 * const nuts = new zs.NUTS({ nWarmup: 500, adaptMass: true });
 * for (let i = 0; i < 1500; i++) {
 *   const info = nuts.step(model, { x }, { z }); // info.treeDepth, info.divergent, ...
 *   if (i >= 500) keep(z.arraySync());
 * }
 * nuts.dispose();
 */
export class NUTS extends HamiltonianKernel<NutsInfo> {
  /** The largest tree depth. */
  readonly maxTreeDepth: number;

  constructor(opts: NutsOptions = {}) {
    super('NUTS', opts, true);
    const d = opts.maxTreeDepth ?? 10;
    assertInteger('NUTS', 'maxTreeDepth', d, 'positive');
    if (d > 30) throw new Error(`NUTS: \`maxTreeDepth\` must be at most 30, got ${d}`);
    this.maxTreeDepth = d;
  }

  protected makeInfo(base: HmcInfo, tr: Transition): NutsInfo {
    return { ...base, treeDepth: tr.treeDepth! };
  }

  protected transition(
    logDensity: LogDensityFn,
    start: StartPoint,
    eps: number,
    mass: tf.Tensor[] | null,
    chainShape: number[],
  ): Transition {
    const nChainDims = chainShape.length;
    const C = start.logp.length;
    const p0 = start.p;
    const rng = seedWords(nextSeed());
    const uniforms = (): number[] => Array.from({ length: C }, () => uniform53(rng));
    // Tensors made here live until the step's tidy scope ends; those replaced
    // along the way are disposed (never the latent variables themselves).
    const keep = new Set<tf.Tensor>(start.q);
    const release = (before: tf.Tensor[], after: tf.Tensor[]): void => {
      const live = new Set(after);
      for (const t of new Set(before)) if (!live.has(t) && !keep.has(t)) t.dispose();
    };
    /** Per latent, a boolean mask of the chains in `m`, broadcast against the latent. */
    const select = (m: boolean[], a: tf.Tensor[], b: tf.Tensor[]): tf.Tensor[] => {
      if (m.every((x) => x)) return a;
      if (!m.some((x) => x)) return b;
      return tf.tidy(() => {
        const mask = tf.tensor(
          m.map((x) => (x ? 1 : 0)),
          chainShape,
          'bool',
        );
        return a.map((ai, i) =>
          tf.where(
            tf.reshape(mask, [...chainShape, ...new Array(ai.rank - nChainDims).fill(1)]),
            ai,
            b[i],
          ),
        );
      });
    };
    /** M⁻¹-inner products a·(rSum − (a + b)/2) and b·(…) per chain, as in numpyro's `_is_turning`. */
    const turningAngles = (a: tf.Tensor[], b: tf.Tensor[], rSum: tf.Tensor[]): tf.Tensor[] => {
      const centred = rSum.map((r, i) => tf.sub(r, tf.mul(tf.add(a[i], b[i]), 0.5)));
      return [massDot(a, centred, mass, nChainDims), massDot(b, centred, mass, nChainDims)];
    };

    // The tree: its two edges, the momentum sum, the proposal and per-chain scalars.
    let left: Point = { q: start.q, p: p0, g: start.grads };
    let right = left;
    let rSum = p0;
    let propQ = start.q;
    const propLogp = start.logp.slice();
    const propDH = new Array<number>(C).fill(0);
    const weight = new Array<number>(C).fill(0); // log Σ e^{−ΔH} over the tree's points
    const active = new Array<boolean>(C).fill(true);
    const moved = new Array<boolean>(C).fill(false);
    const divergent = new Array<boolean>(C).fill(false);
    const depth = new Array<number>(C).fill(0);
    const nLeaves = new Array<number>(C).fill(0);
    const sumAccept = new Array<number>(C).fill(0);
    const treeTensors = (): tf.Tensor[] => [
      ...left.q,
      ...left.p,
      ...left.g,
      ...right.q,
      ...right.p,
      ...right.g,
      ...rSum,
      ...propQ,
    ];

    for (let d = 0; d < this.maxTreeDepth && active.some((a) => a); d++) {
      const goRight = uniforms().map((u) => u < 0.5);
      const stepT = tf.tidy(() => {
        const e = tf.tensor(
          goRight.map((r) => (r ? eps : -eps)),
          chainShape,
        );
        return start.q.map((q) =>
          tf.reshape(e, [...chainShape, ...new Array(q.rank - nChainDims).fill(1)]),
        );
      });
      // ---- a new subtree of 2^d leaves from the edge in each chain's direction.
      const subActive = active.slice();
      let end: Point = {
        q: select(goRight, right.q, left.q),
        p: select(goRight, right.p, left.p),
        g: select(goRight, right.g, left.g),
      };
      let subRSum: tf.Tensor[] = tf.tidy(() => p0.map((p) => tf.zerosLike(p)));
      let subPropQ = end.q;
      const subPropLogp = new Array<number>(C).fill(NaN);
      const subPropDH = new Array<number>(C).fill(Infinity);
      const subWeight = new Array<number>(C).fill(-Infinity);
      const subTurning = new Array<boolean>(C).fill(false);
      const subDiverging = new Array<boolean>(C).fill(false);
      const ckptR: tf.Tensor[][] = [];
      const ckptRSum: tf.Tensor[][] = [];
      const subTensors = (): tf.Tensor[] => [
        ...end.q,
        ...end.p,
        ...end.g,
        ...subRSum,
        ...subPropQ,
        ...ckptR.flat(),
        ...ckptRSum.flat(),
      ];
      for (let n = 0; n < 2 ** d && subActive.some((a) => a); n++) {
        const before = [...treeTensors(), ...subTensors()];
        const [lo, hi] = checkpointRange(n);
        const leaf = leapfrog('NUTS.step', logDensity, end.q, end.p, end.g, stepT, 1, mass);
        const rSumNew = tf.tidy(() => subRSum.map((r, i) => tf.add(r, leaf.p[i])));
        if (n % 2 === 0) {
          ckptR[hi] = leaf.p;
          ckptRSum[hi] = rSumNew;
        }
        // One read-back per leaf: log density, kinetic energy and the turning checks.
        const read = tf.tidy(() => {
          const parts = [leaf.logp, kinetic(leaf.p, mass, nChainDims)];
          for (let j = hi; j >= lo; j--) {
            const sub = rSumNew.map((r, i) => tf.add(tf.sub(r, ckptRSum[j][i]), ckptR[j][i]));
            parts.push(...turningAngles(ckptR[j], leaf.p, sub));
          }
          return tf.concat(parts.map((t) => tf.reshape(t, [C]))).dataSync();
        });
        const lp = read.subarray(0, C);
        const dH = energyErrors(start.logp, start.kinetic, lp, read.subarray(C, 2 * C)); // H(leaf) − H(start)
        const u = uniforms();
        const takeLeaf = new Array<boolean>(C).fill(false);
        for (let c = 0; c < C; c++) {
          if (!subActive[c]) continue;
          const w = -dH[c];
          nLeaves[c]++;
          sumAccept[c] += acceptProb(dH[c]);
          // Progressive uniform sampling: the new leaf with probability e^w / Σ e^w.
          const total = logAddExp(subWeight[c], w);
          const prob = n === 0 ? 1 : Math.exp(w - total);
          if (u[c] < prob) {
            takeLeaf[c] = true;
            subPropLogp[c] = lp[c];
            subPropDH[c] = dH[c];
          }
          subWeight[c] = total;
          let turning = false;
          for (let k = 0; k <= hi - lo; k++) {
            const aL = read[(2 + 2 * k) * C + c];
            const aR = read[(3 + 2 * k) * C + c];
            turning = turning || aL <= 0 || aR <= 0;
          }
          subTurning[c] = turning;
          subDiverging[c] = !(dH[c] <= this.maxDeltaEnergy);
          subActive[c] = !turning && !subDiverging[c];
        }
        subPropQ = select(takeLeaf, leaf.q, subPropQ);
        end = { q: leaf.q, p: leaf.p, g: leaf.grads };
        subRSum = rSumNew;
        leaf.logp.dispose();
        release(before, [...treeTensors(), ...subTensors()]);
      }
      // ---- join the subtree to the tree (biased towards the subtree, numpyro's
      // `_biased_transition_kernel`); a turning or divergent subtree is never picked.
      const before = [...treeTensors(), ...subTensors(), ...stepT];
      const u = uniforms();
      const take = active.map(
        (a, c) =>
          a &&
          !subTurning[c] &&
          !subDiverging[c] &&
          u[c] < Math.exp(Math.min(0, subWeight[c] - weight[c])),
      );
      left = {
        q: select(goRight, left.q, end.q),
        p: select(goRight, left.p, end.p),
        g: select(goRight, left.g, end.g),
      };
      right = {
        q: select(goRight, end.q, right.q),
        p: select(goRight, end.p, right.p),
        g: select(goRight, end.g, right.g),
      };
      rSum = tf.tidy(() => rSum.map((r, i) => tf.add(r, subRSum[i])));
      propQ = select(take, subPropQ, propQ);
      const angles = tf.tidy(() =>
        tf.concat(turningAngles(left.p, right.p, rSum).map((t) => tf.reshape(t, [C]))).dataSync(),
      );
      for (let c = 0; c < C; c++) {
        if (!active[c]) continue;
        if (take[c]) {
          propLogp[c] = subPropLogp[c];
          propDH[c] = subPropDH[c];
          moved[c] = true;
        }
        weight[c] = logAddExp(weight[c], subWeight[c]);
        depth[c] = d + 1;
        divergent[c] = subDiverging[c];
        const turning = subTurning[c] || angles[c] <= 0 || angles[C + c] <= 0;
        active[c] = !turning && !divergent[c];
      }
      release(before, treeTensors());
    }
    return {
      q: propQ,
      take: moved,
      logProb: propLogp,
      acceptance: sumAccept.map((s, c) => s / nLeaves[c]),
      energyError: propDH,
      divergent,
      nLeapfrogs: nLeaves,
      treeDepth: depth,
    };
  }
}
