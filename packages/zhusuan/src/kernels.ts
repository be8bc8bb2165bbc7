/**
 * Optional backend kernels. A tfjs backend may register kernels under these
 * names to run a library operation in one native pass; the library looks for
 * them on the active backend and otherwise composes the operation from tfjs
 * ops. A registered kernel must compute what the composite computes — the
 * random ones the very same numbers — so a program's results do not depend on
 * whether the kernel exists. `@zhusuan/tfjs-backend-native` registers all of
 * them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sumLast, untaped } from './utils.js';

/** Names of the kernels a backend may provide, and their contracts. */
export const OPTIONAL_KERNELS = {
  /**
   * No inputs; attributes `{shape, seed, mean, stdDev}` with `seed` a string:
   * exactly the float32 numbers of `tf.randomNormal(shape, mean, stdDev,
   * 'float32', seed)` (tfjs seeds its generator with `String(seed)`).
   */
  randomNormal: 'ZsRandomNormal',
  /**
   * No inputs; attributes `{shape, seed, minval, maxval}`: exactly the numbers
   * of `tf.randomUniform(shape, minval, maxval, 'float32', seed)`.
   */
  randomUniform: 'ZsRandomUniform',
  /**
   * Inputs `logits`, `given` (float32, broadcasting against each other):
   * `given · logits − softplus(logits)` element-wise; with the attribute
   * `groupNdims` = k > 0, summed over the last k axes of the broadcast shape
   * (a distribution's group axes) inside the kernel. The library registers
   * its gradient, which uses {@link OPTIONAL_KERNELS.bernoulliLogProbGrad}
   * when present.
   */
  bernoulliLogProb: 'ZsBernoulliLogProb',
  /**
   * Inputs `dy` (at the shape `bernoulliLogProb` returned for the same
   * `groupNdims`), `logits`, `given`: `dy · (given − sigmoid(logits))` at the
   * broadcast shape, dy repeated over the group axes.
   */
  bernoulliLogProbGrad: 'ZsBernoulliLogProbGrad',
  /**
   * Inputs `given`, `mean`, `logstd` (float32, broadcasting):
   * `−½((given − mean)·e^−logstd)² − ½log 2π − logstd` element-wise, summed
   * over the last `groupNdims` axes as for `bernoulliLogProb`. The library
   * registers its gradient, which uses
   * {@link OPTIONAL_KERNELS.normalLogProbGrad} when present.
   */
  normalLogProb: 'ZsNormalLogProb',
  /**
   * Inputs `dy` (at the shape `normalLogProb` returned for the same
   * `groupNdims`), `given`, `mean`, `logstd`; two outputs at the broadcast
   * shape, dy repeated over the group axes: `−z·e^−logstd·dy` (the gradient
   * for `given`; the mean's is its negative) and `(z² − 1)·dy` (for
   * `logstd`), z = (given − mean)·e^−logstd.
   */
  normalLogProbGrad: 'ZsNormalLogProbGrad',
  /**
   * Inputs `mean`, `logstd` (float32, broadcasting to `shape`); attributes
   * `{shape, seed}` as for `randomNormal`. Two outputs of that shape: the
   * reparameterised sample `ε·e^logstd + mean` and its noise term
   * `ε·e^logstd`, where ε are exactly the numbers of `tf.randomNormal(shape,
   * 0, 1, 'float32', seed)`, rounded as Exp, Multiply and Add round. The
   * library registers its gradient (the noise term is saved for it) and
   * passes the parameters' shapes as the extra attributes `meanShape` and
   * `logstdShape`, which the kernel may ignore.
   */
  normalSample: 'ZsNormalSample',
  /**
   * One input, `logits` or `probs` (float32, broadcasting to `shape`);
   * attributes `{shape, seed, dtype}` with `seed` as for `randomUniform` and
   * `dtype` 'float32' or 'int32': exactly the numbers of `tf.cast(tf.less(u,
   * p), dtype)`, u = `tf.randomUniform(shape, 0, 1, 'float32', seed)` and p the
   * probabilities, or the logits' sigmoid rounded as the backend's `Sigmoid`
   * kernel rounds. The library registers its gradient: zero for the input (a
   * sample carries none), as the composite gives. It also passes the input's
   * shape as the extra attribute `paramShape`, which the kernel may ignore.
   */
  bernoulliSample: 'ZsBernoulliSample',
  /**
   * Inputs `x`, `l` (float32, broadcasting against each other, rank ≥ 1):
   * Σ over the last axis of the broadcast shape of `x·l`, with 0 wherever
   * x = 0 even where l = −∞ (a multinomial's Σ_k x_k log p_k): the numbers of
   * `tf.sum(tf.where(tf.equal(x, 0), 0, tf.mul(x, l)), -1)` on the same
   * backend. With the attribute `log` true, `l` holds probabilities and
   * `tf.log(l)` takes its place (rounded as the backend's `Log` kernel
   * rounds). The library registers its gradient (for `l`: `x·dy`, divided
   * by `l` under `log`; for `x`: `where(x = 0, 0, l or log l)·dy`; each
   * computed only when asked for).
   */
  countsDot: 'ZsCountsDot',
  /**
   * Inputs `dy` (one value per row of the last axis, the shape `countsDot`
   * returned), `x`, `l`; attribute `log`: the gradient of `countsDot` for
   * `l` at the broadcast shape, `x·dy` with dy repeated over the last axis,
   * divided by `l` under `log`, rounded as Multiply then RealDiv round (the
   * library sums it down to `l`'s shape). Used when present.
   */
  countsDotGrad: 'ZsCountsDotGrad',
  /**
   * Inputs `a`, `b` (float32, one shape); attribute `scale` (a number,
   * rounded to float32): `a + b·scale`, the numbers of `tf.add(a, tf.mul(b,
   * scale))` (the product rounded first). The library registers its
   * gradient (dy for a, dy·scale for b).
   */
  addScaled: 'ZsAddScaled',
  /**
   * One stochastic-gradient MCMC update of one latent after its gradient
   * (`SGLD`, `PSGLD`, `SGHMC`, `SGNHT`), in the composite's float32 steps
   * (each a float32 Add, Sub, Multiply, Square, Sqrt, Reciprocal or Exp;
   * every constant below is rounded to float32 first). Inputs, all float32
   * of the latent's shape unless said: `q` (the latent; for second order the
   * half-step position q + v/2), `grad` (the log density's gradient there),
   * `noise` (the step's injected noise, drawn by the caller), and by kind
   * `v` (the momentum, or PSGLD's squared-gradient average) and `alpha`
   * (SGNHT's friction: the latent's shape, or a scalar). Attribute `kind`:
   *
   * - `'sgld'`, `{gradScale}`: q' = (q + grad·gradScale) + noise.
   * - `'psgld'`, `{decay, oneMinusDecay, epsilon, learningRate, gradScale}`:
   *   v' = v·decay + grad²·oneMinusDecay, p = 1/(√v' + epsilon),
   *   q' = (q + (p·grad)·gradScale) + noise·√(p·learningRate).
   * - `'sghmc'`, `{secondOrder, momentumScale, learningRate}` (m, η):
   *   v' = (v·m + grad·η) + noise, q' = q + v'; second order
   *   v' = ((v·m + grad·η) + noise)·m, q' = q + v'·0.5.
   * - `'sgnht'`, `{secondOrder, learningRate, tuneScale}` (η, r): as
   *   `'sghmc'` with m = 1 − α (first order) or e^(α·−0.5) (second order),
   *   then α' = α + (k − η)·r with k = v'² element-wise for a vector α and
   *   k = mean(v'²) for a scalar one.
   *
   * Outputs, in order: q', then v' (all but SGLD), then α' (SGNHT, α's
   * shape), then a float32 vector `check`: 1 if every element of q' is
   * finite else 0, then for SGHMC and SGNHT mean(v'²), then for SGNHT
   * mean(α'). The means must round as the backend's own `Mean` of the
   * backend's `Square` does (tfjs' cpu kernel divides each element by n in
   * float32, then sums in order in double; `@zhusuan/tfjs-backend-native`
   * sums in double and multiplies by 1/n in double), since the sampler
   * composes them from those kernels without this one.
   */
  sgmcmcUpdate: 'ZsSgmcmcUpdate',
  /**
   * Inputs `x` [..., dim], `w` and `uHat` [dim], `b` [] (float32): one step
   * of a planar flow (`PlanarFlow`), two outputs: y = x + u·h
   * [..., dim] and log(1 + (1 − h²)·w·u) [...], with h = tanh(x·w + b) per
   * row and u = û + ((w·u − w·û)/‖w‖²)·w, w·u = softplus(w·û) − 1. Within
   * float32 rounding of the composite: element-wise steps may round as its
   * kernels do, but the dot products (w·û, ‖w‖², x·w) may be summed in
   * another order (accumulate in double or pairwise). The library registers
   * its gradient, and uses the kernel only where the backend also has
   * {@link OPTIONAL_KERNELS.planarStepGrad}.
   */
  planarStep: 'ZsPlanarStep',
  /**
   * Inputs `dy` [..., dim] and `dl` [...] (the upstream gradients of
   * `planarStep`'s two outputs), `x`, `w`, `uHat`, `b` as for it; four
   * outputs, the gradients for x, w, uHat and b at their shapes, within
   * float32 rounding of the composite's (the sums over rows, Σ h·dy, Σ da·x,
   * Σ da and Σ h'·dl/D, in any fixed order, accumulated in double or
   * pairwise: the result must not depend on thread timing).
   */
  planarStepGrad: 'ZsPlanarStepGrad',
  /**
   * Input `x` (float32); attributes `axes` (non-negative, increasing; none
   * is allowed) and `keepDims`: log Σ exp(x − c) + c over the axes, c the
   * maximum there, or 0 where that is not finite (a slice all −∞ gives −∞) —
   * exactly the numbers of `zs.logSumExp`'s composite on the same backend:
   * Max, `where(isFinite(m), m, 0)`, Sub, Exp (rounded as the backend's Exp
   * kernel rounds), Sum (in the backend's Sum order), Log and Add. The
   * library registers its gradient, and uses the kernel only where the
   * backend also has {@link OPTIONAL_KERNELS.logSumExpGrad}.
   */
  logSumExp: 'ZsLogSumExp',
  /**
   * Inputs `dy` (at the shape `logSumExp` returned), `x`; the attributes of
   * `logSumExp`: the gradient (dy / s)·e at x's shape, with e = exp(x − c)
   * and s = Σ e computed as `logSumExp` computes them, rounded as the
   * composite's RealDiv, then Multiply, round.
   */
  logSumExpGrad: 'ZsLogSumExpGrad',
  /**
   * Inputs `dy` (float32) and `indices` (int32); attributes `{paramShape,
   * axis, batchDims}`, with `0 ≤ batchDims ≤ axis < paramShape.length` (the
   * library passes them normalised) and `dy` of the gather's output shape
   * `paramShape[:axis] + indices.shape[batchDims:] + paramShape[axis+1:]`:
   * the gradient of `tf.gather(x, indices, axis, batchDims)` for `x` of
   * `paramShape`, in that shape. Viewing `x` as [B, O, N, S] (B the batch
   * axes, O those up to `axis`, N = paramShape[axis], S the rest), `indices`
   * as [B, P] and `dy` as [B, O, P, S]: `dx[b, o, j, s]` is the sum of
   * `dy[b, o, p, s]` over the positions p with `indices[b, p] = j`, added in
   * float64 in ascending p from 0 and rounded to float32 once (0 where j is
   * not gathered). That is the order and precision of tfjs' cpu
   * `UnsortedSegmentSum` and of the native backend's, so the library's
   * composite (Transpose, UnsortedSegmentSum, Transpose: tfjs' own gather
   * gradient) gives the same numbers bit for bit for finite dy. An index
   * outside [0, N) is an error. The library registers its gradient (for a
   * second derivative): the gather of the incoming gradient.
   */
  gatherGrad: 'ZsGatherGrad',
  /**
   * Inputs `x` [n, d], `y` [m, d] and `scale` [d] (float32): the RBF kernel
   * matrix of {@link rbfKernel}, two outputs [n, m]: k = exp(−½·max(0,
   * |xs_i|² + |ys_c|² − 2·xs_i·ys_c)) with xs = x·r, ys = y·r, r =
   * 1/√scale, and kh = k where the clipped squared distance was positive,
   * 0 where it was clipped. Within float32 rounding of the library's
   * composite: element-wise steps may round as its Rsqrt, Multiply, Add,
   * Sub, Relu, Exp and Step kernels do, but the row norms and the product
   * may be summed in another fixed order. Used only where the backend also
   * has {@link OPTIONAL_KERNELS.rbfKernelGrad}.
   */
  rbfKernel: 'ZsRbfKernel',
  /**
   * Inputs `dk` [n, m] (the upstream gradient of k), `kh` [n, m] (as
   * `rbfKernel` returned it), `x`, `y`, `scale` as for it; three outputs,
   * the gradients for x [n, d], y [m, d] and scale [d]: with gp = dk·kh,
   * dxs = gp·ys − xs·Σ_c gp, dys = gpᵀ·xs − ys·Σ_i gp, dx = dxs·r, dy =
   * dys·r and dscale = (Σ_i dxs·xs + Σ_c dys·ys)·(−½r²), within float32
   * rounding of the composite (sums in any fixed order: the result must not
   * depend on thread timing).
   */
  rbfKernelGrad: 'ZsRbfKernelGrad',
} as const;

/** True when the active backend registers kernel `name`. */
export function backendHasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

function runKernel(name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * `tf.randomNormal(shape, mean, stdDev, 'float32', seed)`, through the
 * backend's {@link OPTIONAL_KERNELS.randomNormal} kernel when it has one.
 * @param seed a positive integer (tfjs treats 0 as "no seed").
 */
export function seededNormal(shape: number[], seed: number, mean = 0, stdDev = 1): tf.Tensor {
  if (backendHasKernel(OPTIONAL_KERNELS.randomNormal)) {
    return runKernel(
      OPTIONAL_KERNELS.randomNormal,
      {},
      { shape, seed: String(seed), mean, stdDev },
    );
  }
  return tf.randomNormal(shape, mean, stdDev, 'float32', seed);
}

/**
 * `tf.randomUniform(shape, minval, maxval, 'float32', seed)`, through the
 * backend's {@link OPTIONAL_KERNELS.randomUniform} kernel when it has one.
 */
export function seededUniform(shape: number[], seed: number, minval = 0, maxval = 1): tf.Tensor {
  if (backendHasKernel(OPTIONAL_KERNELS.randomUniform)) {
    return runKernel(
      OPTIONAL_KERNELS.randomUniform,
      {},
      {
        shape,
        seed: String(seed),
        minval,
        maxval,
      },
    );
  }
  return tf.randomUniform(shape, minval, maxval, 'float32', seed);
}

/** Sums `g` (of the broadcast shape) down to `shape`, for a broadcast input's gradient. */
export function reduceToShape(g: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, g.shape);
  if (axes.length === 0) return g;
  // Only axes of size 1 (one particle against its parameters): no sum needed.
  if (axes.every((a) => g.shape[a] === 1)) return tf.reshape(g, shape);
  return tf.reshape(tf.sum(g, axes), shape);
}

/**
 * `tf.broadcastTo(x, shape)` (a new tensor, the same values) whose gradient
 * sums `dy` over the broadcast axes. tfjs' own gradient of the `Tile` behind
 * `broadcastTo` adds `dy`'s slices one at a time (two kernels per repeat: a
 * broadcast of a scalar to a batch of 200 costs 400 in the backward pass),
 * and it has none for ranks above 4.
 */
export function expandTo(x: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(x.shape, shape)) return tf.clone(x);
  const inShape = x.shape;
  const op = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.broadcastTo(inputs[0] as tf.Tensor, shape),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => reduceToShape(dy as tf.Tensor, inShape),
  }));
  return op(x);
}

const gradientsRegistered = new Set<string>();
/** Registers `config` (tfjs' registry is global) unless it already is. */
export function ensureGradient(config: tf.GradConfig): void {
  if (gradientsRegistered.has(config.kernelName)) return;
  gradientsRegistered.add(config.kernelName);
  if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
}

/**
 * Runs the optional kernel `gradient.kernelName` on `inputs`, its gradient
 * registered, when every input is float32 and the backend has that kernel
 * and every kernel in `needs`; null otherwise (the caller then composes the
 * operation from tfjs ops).
 */
function runFused(
  gradient: tf.GradConfig,
  inputs: Record<string, tf.Tensor>,
  attrs: object,
  needs: string[] = [],
): tf.Tensor | null {
  for (const name in inputs) if (inputs[name].dtype !== 'float32') return null;
  if (!backendHasKernel(gradient.kernelName) || !needs.every(backendHasKernel)) return null;
  ensureGradient(gradient);
  return runKernel(gradient.kernelName, inputs, attrs);
}

/** The `groupNdims` attribute of a log-density kernel (0 when absent). */
interface GroupAttrs {
  groupNdims: number;
}

function groupOf(attrs: tf.NamedAttrMap | undefined): number {
  return (attrs as Partial<GroupAttrs> | undefined)?.groupNdims ?? 0;
}

/**
 * `dy` of a log-density summed over `k` group axes, with `k` trailing axes of
 * size 1 so that it broadcasts back over the group against the element-wise
 * operands.
 */
function ungroup(dy: tf.Tensor, k: number): tf.Tensor {
  return k === 0 ? dy : tf.reshape(dy, [...dy.shape, ...new Array<number>(k).fill(1)]);
}

function checkGroup(fn: string, groupNdims: number, rank: number): void {
  if (!Number.isInteger(groupNdims) || groupNdims < 0 || groupNdims > rank) {
    throw new Error(
      `${fn}: groupNdims must be an integer in [0, ${rank}] (the broadcast rank), got ${groupNdims}`,
    );
  }
}

const bernoulliGradient: tf.GradConfig = {
  kernelName: OPTIONAL_KERNELS.bernoulliLogProb,
  inputsToSave: ['logits', 'given'],
  gradFunc: (dy, saved, attrs) => {
    const [logits, given] = saved;
    const k = groupOf(attrs);
    const g = dy as tf.Tensor;
    return {
      // d/dl [x·l − softplus(l)] = x − sigmoid(l); d/dx = l.
      logits: () => {
        const gl = backendHasKernel(OPTIONAL_KERNELS.bernoulliLogProbGrad)
          ? runKernel(
              OPTIONAL_KERNELS.bernoulliLogProbGrad,
              { dy: g, logits, given },
              { groupNdims: k },
            )
          : tf.mul(ungroup(g, k), tf.sub(given, tf.sigmoid(logits)));
        return reduceToShape(gl, logits.shape);
      },
      given: () => {
        // logits may be broadcast over given's group axes: expand to the
        // element-wise shape before summing down to given's.
        const full = tf.broadcast_util.assertAndGetBroadcastShape(logits.shape, given.shape);
        const gx = tf.mul(ungroup(g, k), logits);
        return reduceToShape(
          gx.shape.length === full.length && gx.shape.every((d, i) => d === full[i])
            ? gx
            : tf.broadcastTo(gx, full),
          given.shape,
        );
      },
    };
  },
};

/**
 * `given · logits − softplus(logits)` (broadcasting), the Bernoulli
 * log-probability from logits, summed over the last `groupNdims` axes of the
 * broadcast shape: one kernel where the backend has
 * {@link OPTIONAL_KERNELS.bernoulliLogProb} (and one backward with
 * `bernoulliLogProbGrad`), else Multiply, Softplus, Sub and Sum.
 */
export function bernoulliLogProbFromLogits(
  logits: tf.Tensor,
  given: tf.Tensor,
  groupNdims = 0,
): tf.Tensor {
  const rank = Math.max(logits.rank, given.rank);
  checkGroup('bernoulliLogProbFromLogits', groupNdims, rank);
  const fused = runFused(bernoulliGradient, { logits, given }, { groupNdims });
  if (fused !== null) return fused;
  return tf.tidy(() => sumLast(tf.sub(tf.mul(given, logits), tf.softplus(logits)), groupNdims));
}

/** Attributes of {@link OPTIONAL_KERNELS.normalSample} as the library passes them. */
interface NormalSampleAttrs {
  shape: number[];
  seed: string;
  meanShape: number[];
  logstdShape: number[];
}

const normalSampleGradient: tf.GradConfig = {
  kernelName: OPTIONAL_KERNELS.normalSample,
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    // z = ε·e^logstd + mean: dz/dmean = 1, dz/dlogstd = ε·e^logstd (saved).
    const [noise] = saved;
    const dz = (dys as tf.Tensor[])[0];
    const { meanShape, logstdShape } = attrs as unknown as NormalSampleAttrs;
    return {
      mean: () => reduceToShape(dz, meanShape),
      logstd: () => reduceToShape(tf.mul(dz, noise), logstdShape),
    };
  },
};

/**
 * A reparameterised Normal sample of `shape` from logstd,
 * `ε·e^logstd + mean` with ε = `tf.randomNormal(shape, 0, 1, 'float32',
 * seed)`: one kernel forward (after the draw) and a multiply backward where
 * the backend has {@link OPTIONAL_KERNELS.normalSample}, else the draw, Exp,
 * Multiply and Add; the same numbers either way.
 * @param shape the sample's shape, to which mean and logstd broadcast.
 * @param seed a positive integer (tfjs treats 0 as "no seed").
 */
export function normalSampleFromLogstd(
  mean: tf.Tensor,
  logstd: tf.Tensor,
  shape: number[],
  seed: number,
): tf.Tensor {
  if (
    mean.dtype === 'float32' &&
    logstd.dtype === 'float32' &&
    backendHasKernel(OPTIONAL_KERNELS.normalSample)
  ) {
    ensureGradient(normalSampleGradient);
    const attrs: NormalSampleAttrs = {
      shape,
      seed: String(seed),
      meanShape: mean.shape,
      logstdShape: logstd.shape,
    };
    const [z, noise] = tf
      .engine()
      .runKernel(
        OPTIONAL_KERNELS.normalSample,
        { mean, logstd },
        attrs as unknown as tf.NamedAttrMap,
      ) as [tf.Tensor, tf.Tensor];
    noise.dispose(); // the tape keeps its own copy for the gradient
    return z;
  }
  return tf.tidy(() => tf.add(tf.mul(seededNormal(shape, seed), tf.exp(logstd)), mean));
}

/** ½ log 2π, the Normal log-density's constant. */
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

const normalGradient: tf.GradConfig = {
  kernelName: OPTIONAL_KERNELS.normalLogProb,
  inputsToSave: ['given', 'mean', 'logstd'],
  gradFunc: (dy, saved, attrs) => {
    const [given, mean, logstd] = saved;
    const k = groupOf(attrs);
    const g = dy as tf.Tensor;
    let gx: tf.Tensor;
    let gs: tf.Tensor;
    if (backendHasKernel(OPTIONAL_KERNELS.normalLogProbGrad)) {
      [gx, gs] = tf
        .engine()
        .runKernel(
          OPTIONAL_KERNELS.normalLogProbGrad,
          { dy: g, given, mean, logstd },
          { groupNdims: k },
        ) as [tf.Tensor, tf.Tensor];
    } else {
      // z has the element-wise shape, so dy broadcasts back over the group.
      const gFull = ungroup(g, k);
      const e = tf.exp(tf.neg(logstd));
      const z = tf.mul(tf.sub(given, mean), e);
      gx = tf.neg(tf.mul(tf.mul(z, e), gFull));
      gs = tf.mul(tf.sub(tf.square(z), 1), gFull);
    }
    return {
      given: () => reduceToShape(gx, given.shape),
      mean: () => tf.neg(reduceToShape(gx, mean.shape)),
      logstd: () => reduceToShape(gs, logstd.shape),
    };
  },
};

/**
 * The Normal log-density from logstd, `−½((given − mean)·e^−logstd)² −
 * ½log 2π − logstd` (broadcasting), summed over the last `groupNdims` axes of
 * the broadcast shape: one kernel forward and one backward where the backend
 * has {@link OPTIONAL_KERNELS.normalLogProb} (and `normalLogProbGrad`), else
 * tfjs ops.
 */
export function normalLogProbFromLogstd(
  given: tf.Tensor,
  mean: tf.Tensor,
  logstd: tf.Tensor,
  groupNdims = 0,
): tf.Tensor {
  const rank = Math.max(given.rank, mean.rank, logstd.rank);
  checkGroup('normalLogProbFromLogstd', groupNdims, rank);
  const fused = runFused(normalGradient, { given, mean, logstd }, { groupNdims });
  if (fused !== null) return fused;
  return tf.tidy(() => {
    const z = tf.mul(tf.sub(given, mean), tf.exp(tf.neg(logstd)));
    return sumLast(tf.sub(tf.sub(tf.mul(tf.square(z), -0.5), HALF_LOG_2PI), logstd), groupNdims);
  });
}

/** Attributes of {@link OPTIONAL_KERNELS.bernoulliSample} as the library passes them. */
interface BernoulliSampleAttrs {
  shape: number[];
  seed: string;
  dtype: 'float32' | 'int32';
  paramShape: number[];
}

/**
 * A Bernoulli sample of `shape` in one kernel where the backend has
 * {@link OPTIONAL_KERNELS.bernoulliSample} (and `param` is float32):
 * `cast(less(u, p), dtype)` with u = `tf.randomUniform(shape, 0, 1,
 * 'float32', seed)` and p = `param` (`kind` 'probs') or its sigmoid
 * (`kind` 'logits'), with no gradient path to `param` (see `untaped`).
 * Returns null without the kernel: the caller composes the same numbers
 * from tfjs ops.
 * @param shape the sample's shape, to which `param` broadcasts.
 * @param seed a positive integer (tfjs treats 0 as "no seed").
 */
export function fusedBernoulliSample(
  kind: 'logits' | 'probs',
  param: tf.Tensor,
  shape: number[],
  seed: number,
  dtype: 'float32' | 'int32',
): tf.Tensor | null {
  if (param.dtype !== 'float32' || !backendHasKernel(OPTIONAL_KERNELS.bernoulliSample)) {
    return null;
  }
  const attrs: BernoulliSampleAttrs = { shape, seed: String(seed), dtype, paramShape: param.shape };
  return untaped(() => runKernel(OPTIONAL_KERNELS.bernoulliSample, { [kind]: param }, attrs));
}

/** Options of {@link countsDot}. */
export interface CountsDotOptions {
  /** `l` holds probabilities p: Σ x·log p (0 where x = 0, also where p = 0). Default false. */
  log?: boolean;
}

/** True when `t` has the shape `t` and `other` broadcast to. */
function hasBroadcastShape(t: tf.Tensor, other: tf.Tensor): boolean {
  const full = tf.broadcast_util.assertAndGetBroadcastShape(t.shape, other.shape);
  return full.length === t.rank && full.every((d, i) => d === t.shape[i]);
}

/** d/dl Σ x·l = x (x/p for l = log p), times dy repeated over the last axis, summed down to l's shape. */
function countsDotGradL(x: tf.Tensor, l: tf.Tensor, dy: tf.Tensor, log: boolean): tf.Tensor {
  // Under log the kernel divides before any sum down to l's shape, so it
  // gives the composite's numbers only where l has the full shape.
  if (
    x.dtype === 'float32' &&
    l.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    backendHasKernel(OPTIONAL_KERNELS.countsDotGrad) &&
    (!log || hasBroadcastShape(l, x))
  ) {
    return reduceToShape(runKernel(OPTIONAL_KERNELS.countsDotGrad, { dy, x, l }, { log }), l.shape);
  }
  const g = reduceToShape(tf.mul(x, tf.expandDims(dy, -1)), l.shape);
  return log ? tf.div(g, l) : g;
}

/** d/dx Σ x·l = l (log p), 0 where x = 0, times dy repeated over the last axis, summed down to x's shape. */
function countsDotGradX(x: tf.Tensor, l: tf.Tensor, dy: tf.Tensor, log: boolean): tf.Tensor {
  const lv = log ? tf.log(l) : l;
  return reduceToShape(tf.mul(tf.where(tf.equal(x, 0), 0, lv), tf.expandDims(dy, -1)), x.shape);
}

const countsDotGradient: tf.GradConfig = {
  kernelName: OPTIONAL_KERNELS.countsDot,
  inputsToSave: ['x', 'l'],
  gradFunc: (dy, saved, attrs) => {
    const [x, l] = saved;
    const g = dy as tf.Tensor;
    const log = (attrs as { log?: boolean } | undefined)?.log === true;
    return { x: () => countsDotGradX(x, l, g, log), l: () => countsDotGradL(x, l, g, log) };
  },
};

/**
 * The composite of {@link countsDot} as one custom op: its forward kernels
 * run off the tape, so a gradient computation neither keeps their inputs
 * nor runs the select's and the product's gradients.
 */
function countsDotComposite(log: boolean) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, l] = args as tf.Tensor[];
    (args[2] as tf.GradSaveFunc)([x, l]);
    return {
      value: tf.sum(tf.where(tf.equal(x, 0), 0, tf.mul(x, log ? tf.log(l) : l)), -1),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, ls] = saved;
        const g = dy as tf.Tensor;
        return [countsDotGradX(xs, ls, g, log), countsDotGradL(xs, ls, g, log)];
      },
    };
  });
}
const countsDotComposites = { plain: countsDotComposite(false), log: countsDotComposite(true) };

/**
 * Σ_k x_k·l_k over the last axis (x and l float32, broadcasting), 0 where
 * x_k = 0 even if l_k = −∞: the value of `sum(where(x == 0, 0, x·l), -1)`
 * and its gradients (dl = x·dy, dx = where(x == 0, 0, l)·dy); with
 * `{log: true}`, Σ_k x_k·log p_k of probabilities `l` = p, as if `tf.log(p)`
 * were passed (also 0 where x_k = 0 = p_k). One kernel forward where the
 * backend has {@link OPTIONAL_KERNELS.countsDot}, whose gradient computes
 * only the inputs' gradients that are asked for; else one custom op of tfjs
 * ops. The same numbers either way.
 * @example
 * // log p(x) of word counts x [docs, V] up to the coefficient, p [docs, V]:
 * const lp = zs.countsDot(x, p, { log: true }); // [docs]
 */
export function countsDot(x: tf.Tensor, l: tf.Tensor, opts: CountsDotOptions = {}): tf.Tensor {
  const log = opts.log === true;
  const fused = runFused(countsDotGradient, { x, l }, { log });
  if (fused !== null) return fused;
  return (log ? countsDotComposites.log : countsDotComposites.plain)(x, l) as tf.Tensor;
}

/** The sampler of an {@link OPTIONAL_KERNELS.sgmcmcUpdate} call. */
export type SgmcmcUpdateKind = 'sgld' | 'psgld' | 'sghmc' | 'sgnht';

/**
 * One SG-MCMC update through the backend's
 * {@link OPTIONAL_KERNELS.sgmcmcUpdate} kernel (see it for the inputs,
 * attributes and outputs), or null when the backend has none: the caller
 * then composes the same numbers from tfjs ops.
 */
export function fusedSgmcmcUpdate(
  kind: SgmcmcUpdateKind,
  inputs: tf.NamedTensorMap,
  attrs: Record<string, number | boolean>,
): tf.Tensor[] | null {
  if (!backendHasKernel(OPTIONAL_KERNELS.sgmcmcUpdate)) return null;
  return tf.engine().runKernel(OPTIONAL_KERNELS.sgmcmcUpdate, inputs, {
    kind,
    ...attrs,
  } as unknown as tf.NamedAttrMap) as tf.Tensor[];
}

const planarStepGradient: tf.GradConfig = {
  kernelName: OPTIONAL_KERNELS.planarStep,
  inputsToSave: ['x', 'w', 'uHat', 'b'],
  gradFunc: (dys, saved) => {
    const [x, w, uHat, b] = saved;
    const [dy, dl] = dys as tf.Tensor[];
    const [dx, dw, dUHat, db] = tf
      .engine()
      .runKernel(OPTIONAL_KERNELS.planarStepGrad, { dy, dl, x, w, uHat, b }, {}) as tf.Tensor[];
    return { x: () => dx, w: () => dw, uHat: () => dUHat, b: () => db };
  },
};

/**
 * One planar flow step (see `PlanarFlow`) as one kernel forward and
 * one backward, where the backend has {@link OPTIONAL_KERNELS.planarStep}
 * and `planarStepGrad` and the operands are float32: y [..., dim] and the
 * log-determinant [...]. Returns null otherwise: the caller composes the
 * step from tfjs ops.
 */
export function fusedPlanarStep(
  x: tf.Tensor,
  w: tf.Tensor,
  uHat: tf.Tensor,
  b: tf.Tensor,
): { y: tf.Tensor; logDet: tf.Tensor } | null {
  if (
    [x, w, uHat, b].some((t) => t.dtype !== 'float32') ||
    !backendHasKernel(OPTIONAL_KERNELS.planarStep) ||
    !backendHasKernel(OPTIONAL_KERNELS.planarStepGrad)
  ) {
    return null;
  }
  ensureGradient(planarStepGradient);
  const [y, logDet] = tf
    .engine()
    .runKernel(OPTIONAL_KERNELS.planarStep, { x, w, uHat, b }, {}) as tf.Tensor[];
  return { y, logDet };
}

const addScaledGradient: tf.GradConfig = {
  kernelName: OPTIONAL_KERNELS.addScaled,
  gradFunc: (dy, _saved, attrs) => {
    const g = dy as tf.Tensor;
    const { scale } = attrs as unknown as { scale: number };
    return { a: () => g, b: () => tf.mul(g, scale) };
  },
};

const logSumExpGradient: tf.GradConfig = {
  kernelName: OPTIONAL_KERNELS.logSumExp,
  // The backward kernel recomputes the exponentials from x: the tape keeps
  // x alone, and a forward pass without a gradient writes no copy of them.
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    return {
      x: () => runKernel(OPTIONAL_KERNELS.logSumExpGrad, { dy: dy as tf.Tensor, x }, attrs),
    };
  },
};

/**
 * `a + b·scale` for `a` and `b` of one shape and a number `scale`: one
 * kernel where the backend has {@link OPTIONAL_KERNELS.addScaled}, else
 * `tf.add(a, tf.mul(b, scale))`; the same numbers either way. A leapfrog's
 * position and momentum steps are such updates.
 */
export function addScaled(a: tf.Tensor, b: tf.Tensor, scale: number): tf.Tensor {
  const fused = tf.util.arraysEqual(a.shape, b.shape)
    ? runFused(addScaledGradient, { a, b }, { scale })
    : null;
  return fused ?? tf.add(a, tf.mul(b, scale));
}

/**
 * log Σ exp(x) over `axes` (normalised: non-negative, increasing) as one
 * kernel forward and one backward, where the backend has
 * {@link OPTIONAL_KERNELS.logSumExp} and `logSumExpGrad` and x is float32.
 * Returns null otherwise: the caller composes it from tfjs ops.
 */
export function fusedLogSumExp(x: tf.Tensor, axes: number[], keepDims: boolean): tf.Tensor | null {
  return runFused(logSumExpGradient, { x }, { axes, keepDims }, [OPTIONAL_KERNELS.logSumExpGrad]);
}
