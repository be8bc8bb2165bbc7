/**
 * Loads the Node-API addon (build/Release/zhusuan_native.node) and describes
 * its functions. Loading never throws: when the addon is missing or broken,
 * {@link nativeLoadError} says why and how to fix it, and the package's
 * callers fall back to another tfjs backend.
 *
 * `ZHUSUAN_NATIVE_ADDON=/path/to/zhusuan_native.node` loads the addon from
 * elsewhere (tests point it at a missing file to exercise the fallback).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Codes of the addon's broadcasting binary ops: binding/kernels.h's BinaryOp
 * (kAdd there is Add here; test/op_codes.test.ts checks the two lists match,
 * as for the enums below).
 */
export const enum BinaryOp {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
  Max = 4,
  Min = 5,
  SquaredDifference = 6,
  Pow = 7,
  Prelu = 8,
  Atan2 = 9,
  /** a = logits, b = x: x·a − softplus(a). */
  BernoulliLogProb = 10,
  Equal = 20,
  NotEqual = 21,
  Less = 22,
  LessEqual = 23,
  Greater = 24,
  GreaterEqual = 25,
}

/** Codes of the addon's unary ops (binding/kernels.h). */
export const enum UnaryOp {
  Neg = 0,
  Abs = 1,
  Exp = 2,
  Log = 3,
  Log1p = 4,
  Sqrt = 5,
  Rsqrt = 6,
  Square = 7,
  Reciprocal = 8,
  Sigmoid = 9,
  Softplus = 10,
  Relu = 11,
  Relu6 = 12,
  Step = 13,
  Sign = 14,
  Tanh = 15,
  Elu = 16,
  LeakyRelu = 17,
  Expm1 = 18,
  Sin = 19,
  Cos = 20,
  Floor = 21,
  Ceil = 22,
  Clip = 23,
  Selu = 24,
  Round = 25,
  /** std::erf; in the addon, not registered as a tfjs kernel (see kernels/unary.ts). */
  Erf = 26,
  Linear = 27,
}

/** Reduction codes (binding/kernels.h, kReduceSum there is Sum here). */
export const enum ReduceOp {
  Sum = 0,
  Mean = 1,
  Max = 2,
  Min = 3,
  Prod = 4,
}

/**
 * Codes of the addon's boolean kernels (binding/kernels.h): LogicalNot,
 * IsFinite, IsNan and IsInf through `predicate`, LogicalAnd and LogicalOr
 * through `logical`.
 */
export const enum BoolOp {
  LogicalNot = 0,
  IsFinite = 1,
  IsNan = 2,
  IsInf = 3,
  LogicalAnd = 10,
  LogicalOr = 11,
}

/** Fused activations of the matmul epilogue (binding/kernels.h, kActRelu there is Relu here). */
/** The samplers of `sgmcmcUpdate` (kernels.h SgmcmcKind). */
export const enum SgmcmcKind {
  Sgld = 0,
  Psgld = 1,
  Sghmc = 2,
  Sgnht = 3,
}

export const enum Act {
  Linear = 0,
  Relu = 1,
  Relu6 = 2,
  Elu = 3,
  LeakyRelu = 4,
  Sigmoid = 5,
}

/** The typed arrays of tfjs' float32, int32 and bool tensors on the cpu backend. */
export type ElementArray = Float32Array | Int32Array | Uint8Array;

/** What the addon reports about itself. */
export interface AddonInfo {
  /** Kernel build in use: 'avx2' (AVX2+FMA) or 'base'. */
  isa: string;
  /** Threads for element-wise kernels. */
  threads: number;
  /** Threads for the fused Adam update. */
  adamThreads: number;
  /** Elements below which element-wise kernels stay on one thread. */
  parallelMin: number;
  /** FLOPs below which a group of matrix products stays on the calling thread. */
  gemmPoolMinFlops: number;
  /** openblas_get_config(). */
  blasConfig: string;
  /** openblas_get_num_threads(): OpenBLAS' own threads within one product. */
  blasThreads: number;
  /** Threads the GEMMs are spread over (OpenBLAS itself runs one thread each). */
  gemmThreads: number;
  /** Wall seconds spent in matrix products since the addon loaded (cumulative). */
  gemmSeconds: number;
  /** Floating-point operations of those GEMMs (2·M·N·K each). */
  gemmFlops: number;
  /** Number of matrix products. */
  gemmCalls: number;
}

/** Matrix products of one shape (or one group run side by side), timed in place. */
export interface GemmShapeRecord {
  /**
   * The products, as op(A)·op(B) with each operand's stored shape, `^T` where
   * it is read transposed (`784x128^T·128x500` is Aᵀ·B with A stored
   * [128, 784]); products run side by side are joined by ` | `, and n equal
   * products of a batch are written `n × shape`.
   */
  products: string;
  /** Calls of the group. */
  calls: number;
  /** Wall seconds, summed over the calls. */
  seconds: number;
  /** Floating-point operations, summed over the calls (2·M·N·K a product). */
  flops: number;
}

/**
 * The addon's functions. Arrays are the cpu backend's typed arrays; outputs
 * are written in place. Shapes are passed as Int32Arrays.
 */
export interface NativeAddon {
  matMul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    /** With bIndex: product i reads a's batch aIndex[i] and b's batch bIndex[i]. */
    aIndex?: Int32Array | null,
    bIndex?: Int32Array | null,
  ): void;
  fusedMatMul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    bias: Float32Array | null,
    act: Act,
    alpha: number,
    aIndex?: Int32Array | null,
    bIndex?: Int32Array | null,
  ): void;
  binary(
    op: BinaryOp,
    a: Float32Array,
    aShape: Int32Array,
    b: Float32Array,
    bShape: Int32Array,
    out: Float32Array | Uint8Array,
  ): void;
  unary(op: UnaryOp, x: Float32Array, out: Float32Array, alpha: number, beta: number): void;
  /**
   * LogicalAnd or LogicalOr of two bool arrays with broadcasting, as the cpu
   * kernels compute them for any byte values (`a && b`, `a || b`); `out` has
   * the broadcast shape.
   */
  logical(
    op: BoolOp.LogicalAnd | BoolOp.LogicalOr,
    a: Uint8Array,
    aShape: Int32Array,
    b: Uint8Array,
    bShape: Int32Array,
    out: Uint8Array,
  ): void;
  /**
   * out[i] = f(x[i]) for every element of `out`: LogicalNot of a bool array
   * (`x ? 0 : 1`), or IsFinite, IsNan, IsInf of a float32 one.
   */
  predicate(
    op: BoolOp.LogicalNot | BoolOp.IsFinite | BoolOp.IsNan | BoolOp.IsInf,
    x: Uint8Array | Float32Array,
    out: Uint8Array,
  ): void;
  /**
   * tfjs' Select: out[i] = cond[floor(i / inner)] === 1 ? t[i] : e[i] for
   * every element of `out`, converted to out's type, which must be the upcast
   * of t's and e's (float32 over int32 over bool).
   */
  select(
    cond: Uint8Array,
    t: ElementArray,
    e: ElementArray,
    out: ElementArray,
    inner: number,
  ): void;
  /** out = a + b·s element-wise (one length), the product rounded to float32 first. */
  addScaled(a: Float32Array, b: Float32Array, out: Float32Array, s: number): void;
  /**
   * Gradients of y = act(x·w + b), x [m, k], w [k, n]: dz = dy ⊙ act'(·)
   * into `dz` (null only for a linear act), dx = dz·wᵀ, dw = xᵀ·dz and
   * db = column sums of dz; null outputs are skipped (x may then be null
   * when dw is, w when dx is). dx and dw are computed in parallel.
   */
  denseGrad(
    dy: Float32Array,
    y: Float32Array | null,
    x: Float32Array | null,
    w: Float32Array | null,
    dx: Float32Array | null,
    dw: Float32Array | null,
    db: Float32Array | null,
    dz: Float32Array | null,
    m: number,
    k: number,
    n: number,
    act: Act,
    alpha: number,
  ): void;
  reduce(
    op: ReduceOp,
    x: Float32Array,
    out: Float32Array,
    shape: Int32Array,
    mask: Int32Array,
  ): void;
  adam(
    p: Float32Array,
    m: Float32Array,
    v: Float32Array,
    g: Float32Array,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    biasCorrection1: number,
    biasCorrection2: number,
    epsilon: number,
    negLearningRate: number,
  ): void;
  slice(
    x: Float32Array | Int32Array,
    out: Float32Array | Int32Array,
    meta: Int32Array,
    elemBytes?: number,
  ): void;
  /** Row copies of 4-byte elements: src and dst both Float32Arrays or both Int32Arrays. */
  copy2d(
    src: Float32Array | Int32Array,
    srcOffset: number,
    srcStride: number,
    dst: Float32Array | Int32Array,
    dstOffset: number,
    dstStride: number,
    rows: number,
    cols: number,
  ): void;
  transpose(x: Float32Array | Int32Array, out: Float32Array | Int32Array, meta: Int32Array): void;
  fill(out: Float32Array, value: number): void;
  /**
   * `tile(x, out, [rank, ...dims, ...reps])`: out[i] = x[i mod dims] per
   * axis; Float32Array, Int32Array or Uint8Array (x and out of one type).
   */
  tile(x: ElementArray, out: ElementArray, meta: Int32Array): void;
  /**
   * `pad(x, out, [rank, ...outDims, ...before, ...xDims], value)`: out filled
   * with `value`, x copied into the window at `before` (Float32Array or
   * Int32Array, x and out of one type).
   */
  pad(
    x: Float32Array | Int32Array,
    out: Float32Array | Int32Array,
    meta: Int32Array,
    value: number,
  ): void;
  /**
   * out[b, o, i, :] = x[b, o, indices[b, i], :] for x [batch, outer, dimSize,
   * slice] and indices [batch, n]; x and out of one array type. Returns -1,
   * or the position in `indices` of the first index outside [0, dimSize)
   * (nothing is written then).
   */
  gather(
    x: ElementArray,
    indices: Int32Array,
    out: ElementArray,
    batch: number,
    outer: number,
    dimSize: number,
    slice: number,
  ): number;
  /**
   * out [numSegments, inner] = the sums of the rows of x [n, inner] by
   * segment id (n = ids.length), in double over the rows in order; ids
   * outside [0, numSegments) drop their row.
   */
  unsortedSegmentSum(
    x: Float32Array,
    segmentIds: Int32Array,
    out: Float32Array,
    inner: number,
    numSegments: number,
  ): void;
  /**
   * The gradient of `gather` for x, in x's layout: out[b, o, j, :] = the sum
   * of dy[b, o, i, :] over the positions i with indices[b, i] = j, in double
   * over i ascending, rounded once; dy [batch, outer, n, slice] and out
   * [batch, outer, dimSize, slice] float32, indices [batch, n]. Returns -1,
   * or the position in `indices` of the first index outside [0, dimSize)
   * (nothing is written then).
   */
  gatherGrad(
    dy: Float32Array,
    indices: Int32Array,
    out: Float32Array,
    batch: number,
    outer: number,
    dimSize: number,
    slice: number,
  ): number;
  /**
   * out[b] = the lower Cholesky factor of the lower triangle of a[b], for
   * `batch` row-major n × n matrices (zeros above the diagonal; NaN from a
   * failing pivot on, as the zhusuan library's op-by-op path, see
   * binding/linalg.cc).
   */
  cholesky(a: Float32Array, out: Float32Array, batch: number, n: number): void;
  /**
   * out[t] = op(m)⁻¹·rhs[bIndex[t]], m = matrix[mIndex[t]] (n × n, only its
   * `lower` or upper triangle read, op(m) = mᵀ when `adjoint`), rhs and out
   * n × k, for t in [0, mIndex.length).
   */
  triangularSolve(
    matrix: Float32Array,
    rhs: Float32Array,
    out: Float32Array,
    n: number,
    k: number,
    lower: boolean,
    adjoint: boolean,
    mIndex: Int32Array,
    bIndex: Int32Array,
  ): void;
  /** Softmax over rows of `cols` elements, in the cpu kernel's steps. */
  softmax(x: Float32Array, out: Float32Array, cols: number): void;
  /**
   * out = log Σ exp(x − shift) + shift over the axes flagged in `mask` (1
   * for a reduced axis of `shape`; out has the remaining elements), shift =
   * the max there, or 0 where it is not finite: the steps and roundings of
   * Max, Select, Sub, Exp, Sum, Log and Add on this backend. `e`, of x's
   * size, is scratch for the exponentials.
   */
  logSumExp(
    x: Float32Array,
    e: Float32Array,
    out: Float32Array,
    shape: Int32Array,
    mask: Int32Array,
  ): void;
  /**
   * dx = (dy / s)·exp(x − shift), the gradient of {@link logSumExp} for dy
   * (one value per output element), s and shift recomputed from x as it
   * computes them, rounded as RealDiv and Multiply round.
   */
  logSumExpGrad(
    x: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    shape: Int32Array,
    mask: Int32Array,
  ): void;
  /**
   * y = conv2d(x, filter), NHWC, filter [fH, fW, inC, outC]; `geom` holds
   * [batch, inH, inW, inC, outH, outW, outC, fH, fW, sH, sW, dH, dW, padTop,
   * padLeft].
   */
  conv2d(x: Float32Array, filter: Float32Array, out: Float32Array, geom: Int32Array): void;
  /** dx of conv2d (tfjs' Conv2DBackpropInput) for `geom` of the forward conv (dilations 1). */
  conv2dBackpropInput(
    dy: Float32Array,
    filter: Float32Array,
    dx: Float32Array,
    geom: Int32Array,
  ): void;
  /** dfilter of conv2d (tfjs' Conv2DBackpropFilter) for `geom` of the forward conv (dilations 1). */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geom: Int32Array): void;
  /**
   * Max or average pooling, NHWC; `geom` holds [batch, inH, inW, channels,
   * outH, outW, fH, fW, sH, sW, padTop, padLeft].
   */
  pool2d(x: Float32Array, out: Float32Array, isMax: boolean, geom: Int32Array): void;
  /** tfjs-cpu's MaxPoolGrad: dy routed to each window's first maximum of x. */
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, geom: Int32Array): void;
  /** tfjs-cpu's AvgPoolGrad: dy spread over each window's in-image pixels / (fH·fW). */
  avgPoolGrad(dy: Float32Array, dx: Float32Array, geom: Int32Array): void;
  /**
   * `tf.randomNormal(shape, mean, stdDev, 'float32', seed)`'s numbers into
   * `out`, the seed given as the string tfjs makes of it (`String(seed)`).
   */
  randomNormal(out: Float32Array, seed: string, mean: number, stdDev: number): void;
  /**
   * out = −½((x − mean)·e^−logstd)² − ½log 2π − logstd; each operand is read
   * periodically (element i % its length: a scalar or trailing dimensions).
   * With `inner` > 1 the values are summed over rows of `inner` consecutive
   * elements and `out` holds one sum per row.
   */
  normalLogProb(
    x: Float32Array,
    mean: Float32Array,
    logstd: Float32Array,
    out: Float32Array,
    inner: number,
  ): void;
  /**
   * Its gradients times dy at the full length: gx = −z·e^−logstd·dy,
   * gs = (z² − 1)·dy; dy holds one value per row of `inner` elements.
   */
  normalLogProbGrad(
    x: Float32Array,
    mean: Float32Array,
    logstd: Float32Array,
    dy: Float32Array,
    gx: Float32Array,
    gs: Float32Array,
    inner: number,
  ): void;
  /**
   * out = x·logits − softplus(logits), operands read periodically, summed over
   * rows of `inner` elements when `inner` > 1.
   */
  bernoulliLogProb(logits: Float32Array, x: Float32Array, out: Float32Array, inner: number): void;
  /** out = dy·(x − sigmoid(logits)) at the full length; dy holds one value per row of `inner`. */
  bernoulliLogProbGrad(
    logits: Float32Array,
    x: Float32Array,
    dy: Float32Array,
    out: Float32Array,
    inner: number,
  ): void;
  /**
   * out[r] = Σ over row r of `inner` elements of x·l (x·log l, rounded as
   * the Log kernel rounds, when `logOf`), with 0 wherever x = 0 (even where
   * l is ±∞, or 0 under `logOf`), operands read periodically.
   */
  countsDot(
    x: Float32Array,
    l: Float32Array,
    out: Float32Array,
    inner: number,
    logOf: boolean,
  ): void;
  /**
   * countsDot's gradient for l at the full length: out = x·dy (x·dy / l,
   * rounded as Multiply then RealDiv, when `logOf`), operands read
   * periodically, dy holding one value per row of `inner`.
   */
  countsDotGrad(
    x: Float32Array,
    l: Float32Array,
    dy: Float32Array,
    out: Float32Array,
    inner: number,
    logOf: boolean,
  ): void;
  /**
   * One planar flow step on the rows of x [rows, dim]: y = x + u·h and
   * ld = log(1 + (1 − h²)·w·u) [rows], h = tanh(x·w + b), u made from uHat
   * (w·u = softplus(w·û) − 1); w, uHat [dim], b [1].
   */
  planarStep(
    x: Float32Array,
    w: Float32Array,
    uHat: Float32Array,
    b: Float32Array,
    y: Float32Array,
    ld: Float32Array,
    dim: number,
  ): void;
  /**
   * The gradients of {@link planarStep}'s y and ld for upstream dy [rows,
   * dim] and dl [rows]: dx [rows, dim], dw and dUHat [dim], db [1].
   */
  planarStepGrad(
    dy: Float32Array,
    dl: Float32Array,
    x: Float32Array,
    w: Float32Array,
    uHat: Float32Array,
    b: Float32Array,
    dx: Float32Array,
    dw: Float32Array,
    dUHat: Float32Array,
    db: Float32Array,
    dim: number,
  ): void;
  /**
   * Dynamic binarisation of the rows `rows` of x [*, xDim]: out[r·xDim + i] =
   * 1 if u < x[rows[r]·xDim + i] else 0, u the next word of the
   * xoshiro128** `state` (four words, advanced in place) times 2^-32.
   */
  bernoulliRows(
    x: Float32Array,
    xDim: number,
    rows: Int32Array | Uint32Array,
    state: Uint32Array,
    out: Float32Array,
  ): void;
  /**
   * The RBF kernel matrix of x [n, d] and y [m, d] with squared length
   * scales s [d]: k [n, m] = exp(−½·max(0, |xs|² + |ys|² − 2·xs·ys)) of the
   * rows scaled by 1/√s, and kh [n, m], k where the squared distance was
   * positive and 0 where it was clipped.
   */
  rbfKernel(
    x: Float32Array,
    y: Float32Array,
    s: Float32Array,
    k: Float32Array,
    kh: Float32Array,
    n: number,
    m: number,
    d: number,
  ): void;
  /**
   * The gradients of {@link rbfKernel}'s k for upstream dk [n, m], from its
   * kh: dx [n, d], dy [m, d] and ds [d].
   */
  rbfKernelGrad(
    dk: Float32Array,
    kh: Float32Array,
    x: Float32Array,
    y: Float32Array,
    s: Float32Array,
    dx: Float32Array,
    dy: Float32Array,
    ds: Float32Array,
    n: number,
    m: number,
    d: number,
  ): void;
  /**
   * A reparameterised Normal sample: `noise` holds standard normals on entry
   * and e^logstd·noise on return, z = that + mean (mean, logstd periodic).
   */
  normalSample(
    mean: Float32Array,
    logstd: Float32Array,
    noise: Float32Array,
    z: Float32Array,
  ): void;
  /**
   * One SG-MCMC update of a latent (the library's ZsSgmcmcUpdate; binding/
   * sgmcmc.cc and kernels.h SgmcmcArgs give the formulas): writes qOut, vOut
   * and alphaOut (null where the kind has none; alpha holds 1 or q's length
   * elements) and `check` = [1 if qOut is all finite else 0, mean(vOut²) for
   * SGHMC and SGNHT, mean(alphaOut) for SGNHT]. `consts` holds the kind's
   * float32 constants (5 slots).
   */
  sgmcmcUpdate(
    kind: SgmcmcKind,
    secondOrder: boolean,
    q: Float32Array,
    g: Float32Array,
    noise: Float32Array,
    v: Float32Array | null,
    alpha: Float32Array | null,
    qOut: Float32Array,
    vOut: Float32Array | null,
    alphaOut: Float32Array | null,
    check: Float32Array,
    consts: Float32Array,
  ): void;
  /** `tf.randomUniform(shape, minval, maxval, 'float32', seed)`'s numbers into `out`. */
  randomUniform(out: Float32Array, seed: string, minval: number, maxval: number): void;
  /**
   * out[i] = 1 when u_i < p_i else 0, u the numbers of `randomUniform(out,
   * seed, 0, 1)` and p_i = params[i % params.length] (whose length must divide
   * out's), or sigmoid of it with `fromLogits`, rounded as the Sigmoid kernel.
   */
  bernoulliSample(params: Float32Array, out: Float32Array, seed: string, fromLogits: boolean): void;
  setThreads(elementwise: number, adam?: number): number;
  /**
   * Elements below which element-wise kernels stay on one thread, and
   * (optional) the microseconds a pool worker spins after a job before it
   * sleeps (default 1000) and the FLOPs below which a group of matrix
   * products runs on the calling thread (default 4e6).
   */
  setParallelMin(n: number, spinMicros?: number, gemmPoolMinFlops?: number): void;
  info(): AddonInfo;
  /** Starts (clearing what was kept) or stops recording products by shape. */
  traceGemms(on: boolean): void;
  /** The products recorded since tracing started, by shape. */
  gemmShapes(): GemmShapeRecord[];
}

/** The package's name, as a consumer types it in npm commands. */
const PACKAGE = '@zhusuan/tfjs-backend-native';

/** What building the addon needs, and the command that builds it in any project. */
const FIX =
  `run \`npm rebuild ${PACKAGE}\` (it needs a C++ compiler, make, Python 3 and OpenBLAS; ` +
  'Debian/Ubuntu: apt-get install g++ make python3 libopenblas-dev)';

/**
 * Why the addon file is missing: the install script's recorded failure
 * (scripts/build.mjs writes build/install-error.txt and build/install.log
 * beside build/Release), or else, for the package's own build, that the
 * script never ran (npm with `strict-allow-scripts` skips the install script
 * of a dependency the project has not approved).
 */
function missingReason(addonFile: string, overridden: boolean): string {
  const buildDir = dirname(dirname(addonFile));
  const errorFile = join(buildDir, 'install-error.txt');
  if (existsSync(errorFile)) {
    const why = readFileSync(errorFile, 'utf8').trim().split('\n')[0];
    return (
      `the build at install failed (${why}; log: ${join(buildDir, 'install.log')}); ` +
      `fix that, then ${FIX}`
    );
  }
  if (overridden) return `unset it to use the package's own build, or ${FIX}`;
  return (
    'its install script did not build it (npm skips the install script of a dependency ' +
    `the project has not approved: \`npm install-scripts approve ${PACKAGE}\`); ${FIX}`
  );
}

/** The addon's default location: <package>/build/Release/zhusuan_native.node. */
export function defaultAddonPath(): string {
  // This file is dist/src/addon.js; the package root is two levels up.
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', 'build', 'Release', 'zhusuan_native.node');
}

/**
 * OpenBLAS 0.3.21 picks kernels that compute wrong results on some newer
 * processors; the Haswell kernels are right and fast. Only set when absent,
 * and only where the CPU has AVX2 (the Haswell kernels need it).
 */
function defaultOpenblasCoretype(): void {
  if (
    process.env.OPENBLAS_CORETYPE != null ||
    process.platform !== 'linux' ||
    process.arch !== 'x64'
  ) {
    return;
  }
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8');
    if (/\bavx2\b/.test(flags) && /\bfma\b/.test(flags)) {
      process.env.OPENBLAS_CORETYPE = 'Haswell';
    }
  } catch {
    // No /proc: leave OpenBLAS to its own detection.
  }
}

let addon: NativeAddon | null = null;
let loadError: string | null = null;
let loaded = false;

function load(): void {
  if (loaded) return;
  loaded = true;
  const override = process.env.ZHUSUAN_NATIVE_ADDON;
  const path = override != null && override !== '' ? resolve(override) : defaultAddonPath();
  if (!existsSync(path)) {
    const overridden = override != null && override !== '';
    loadError =
      `native addon not found at ${path}` +
      (overridden ? ' (set by ZHUSUAN_NATIVE_ADDON)' : '') +
      `: ${missingReason(path, overridden)}`;
    return;
  }
  try {
    defaultOpenblasCoretype();
    const require = createRequire(import.meta.url);
    const mod = require(path) as NativeAddon;
    if (typeof mod.matMul !== 'function' || typeof mod.info !== 'function') {
      loadError = `${path} is not the zhusuan native addon; to rebuild it, ${FIX}`;
      return;
    }
    addon = mod;
  } catch (err) {
    const msg = String((err as Error).message ?? err).split('\n')[0];
    loadError = `native addon at ${path} failed to load (${msg}); to rebuild it, ${FIX}`;
  }
}

/** The loaded addon, or null (see {@link nativeLoadError}). */
export function getAddon(): NativeAddon | null {
  load();
  return addon;
}

/** True when the addon is loaded. */
export function isNativeAvailable(): boolean {
  load();
  return addon !== null;
}

/**
 * One line saying why the addon is not available and how to fix it; null
 * when it is loaded.
 */
export function nativeLoadError(): string | null {
  load();
  return loadError;
}

/** Path of the addon file in use (or that would be used). */
export function addonPath(): string {
  const override = process.env.ZHUSUAN_NATIVE_ADDON;
  return override != null && override !== '' ? resolve(override) : defaultAddonPath();
}

/** Used by tests: the package directory (for locating scripts and fixtures). */
export function packageDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}
