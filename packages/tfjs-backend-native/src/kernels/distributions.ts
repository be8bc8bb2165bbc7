/**
 * The zhusuan library's optional distribution kernels (see OPTIONAL_KERNELS in
 * the library for the contracts):
 *
 * - `ZsNormalLogProb` (inputs given, mean, logstd; broadcasting):
 *   −½((given − mean)·e^−logstd)² − ½log 2π − logstd in one pass instead of
 *   eight kernels, rounded the same way; `ZsNormalLogProbGrad` (inputs dy,
 *   given, mean, logstd) returns [gGiven, gLogstd] at the broadcast shape (the
 *   mean's gradient is −gGiven), which the library sums down to each input.
 * - `ZsBernoulliLogProb` (inputs logits, given): given·logits −
 *   softplus(logits) in one pass instead of Multiply, Softplus and Sub;
 *   `ZsBernoulliLogProbGrad` (inputs dy, logits, given) returns
 *   dy·(given − sigmoid(logits)) at the broadcast shape.
 *
 * The attribute `groupNdims` (default 0) sums the values over that many
 * trailing axes inside the kernel — a distribution's group axes — so the
 * element-wise values are never written out; the gradient kernels then take
 * dy at that reduced shape.
 *
 * - `ZsNormalSample` (inputs mean, logstd; attributes shape, seed): the
 *   reparameterised sample mean + e^logstd·ε and its noise term e^logstd·ε in
 *   one pass after the draw, ε the numbers of tf.randomNormal(shape, 0, 1,
 *   'float32', seed), rounded as Exp, Multiply and Add round.
 * - `ZsBernoulliSample` (input logits or probs; attributes shape, seed,
 *   dtype): cast(less(u, p), dtype) in one kernel, u the numbers of
 *   tf.randomUniform(shape, 0, 1, 'float32', seed) and p the probabilities,
 *   or the logits' sigmoid rounded as the Sigmoid kernel rounds, instead of
 *   ZsRandomUniform, Sigmoid, Less and Cast.
 * - `ZsCountsDot` (inputs x, l; broadcasting, rank ≥ 1; attribute `log`):
 *   Σ over the last axis of x·l (x·log l when `log`), 0 wherever x = 0, in
 *   one pass instead of (Log,) Equal, Multiply, Select with its broadcasts
 *   and Sum, summed in the Sum kernel's order; `ZsCountsDotGrad` (inputs dy,
 *   x, l; attribute `log`) returns the gradient for l at the broadcast shape,
 *   x·dy (x·dy / l when `log`), instead of ExpandDims, Multiply and RealDiv.
 * - `ZsPlanarStep` (inputs x [..., dim], w, uHat [dim], b []): a planar flow
 *   step's two outputs y [..., dim] and log-determinant [...] in one pass
 *   over the rows instead of ~20 kernels; `ZsPlanarStepGrad` (inputs dy, dl,
 *   x, w, uHat, b) returns [dx, dw, dUHat, db] instead of ~35. Element-wise
 *   steps round as the composite's kernels do; the dot products and the
 *   sums over rows are taken in double, so they agree with it to float32
 *   rounding.
 */
import { KernelConfig, TensorInfo, broadcast_util } from '@tensorflow/tfjs-core';
import { BinaryOp } from '../addon.js';
import type { NativeBackend } from '../backend.js';
import { nativeBinary } from './binary.js';
import { checkRandomAttrs } from './random.js';
import { KernelArgs, f32, nativeKernel, requireF32, shapeArray, sizeOf } from './util.js';

export const ZS_NORMAL_LOG_PROB = 'ZsNormalLogProb';
export const ZS_NORMAL_LOG_PROB_GRAD = 'ZsNormalLogProbGrad';
export const ZS_BERNOULLI_LOG_PROB = 'ZsBernoulliLogProb';
export const ZS_BERNOULLI_LOG_PROB_GRAD = 'ZsBernoulliLogProbGrad';
export const ZS_NORMAL_SAMPLE = 'ZsNormalSample';
export const ZS_BERNOULLI_SAMPLE = 'ZsBernoulliSample';
export const ZS_COUNTS_DOT = 'ZsCountsDot';
export const ZS_COUNTS_DOT_GRAD = 'ZsCountsDotGrad';
export const ZS_PLANAR_STEP = 'ZsPlanarStep';
export const ZS_PLANAR_STEP_GRAD = 'ZsPlanarStepGrad';

/**
 * True when `shape` broadcasts to `out` by repetition of its flat values:
 * a scalar, or a shape equal to the trailing dimensions of `out` after
 * leading 1s (the addon then reads element i % size).
 */
function periodic(shape: number[], out: number[]): boolean {
  if (sizeOf(shape) === 1) return true;
  let i = 0;
  while (i < shape.length && shape[i] === 1) i++;
  const tail = shape.slice(i);
  if (tail.length > out.length) return false;
  const outTail = out.slice(out.length - tail.length);
  return tail.every((d, j) => d === outTail[j]);
}

/** Operands of one kernel call, and the expanded copies to release after it. */
class Operands {
  private readonly scratch: Float32Array[] = [];

  constructor(
    private readonly backend: NativeBackend,
    private readonly kernel: string,
    private readonly out: number[],
  ) {}

  /**
   * The float32 values of `t`: its own array when it broadcasts
   * periodically to the output, else a copy expanded to it (rare: a
   * broadcast along a middle axis).
   */
  of(t: TensorInfo, what: string): Float32Array {
    const { backend, out } = this;
    const v = f32(backend, t);
    if (v === null) throw new Error(`${this.kernel}: ${what} must be a float32 tensor`);
    if (periodic(t.shape, out)) return v;
    const zeros = backend.allocF32(sizeOf(out));
    backend.addon.fill(zeros, 0);
    const full = backend.allocF32(sizeOf(out));
    backend.addon.binary(BinaryOp.Add, v, shapeArray(t.shape, 0), zeros, shapeArray(out, 1), full);
    backend.releaseF32(zeros);
    this.scratch.push(full);
    return full;
  }

  private release(): void {
    for (const a of this.scratch) this.backend.releaseF32(a);
    this.scratch.length = 0;
  }

  /** Runs `f` with the operands of one addon call; the expanded copies go back to the pool after, thrown or not. */
  static use<T>(backend: NativeBackend, kernel: string, out: number[], f: (ops: Operands) => T): T {
    const ops = new Operands(backend, kernel, out);
    try {
      return f(ops);
    } finally {
      ops.release();
    }
  }
}

/** The broadcast shape, the summed shape and the elements per sum of a grouped kernel. */
interface Grouping {
  full: number[];
  reduced: number[];
  inner: number;
}

function grouping(kernel: string, shapes: number[][], attrs: KernelArgs['attrs']): Grouping {
  const full = shapes.reduce((a, b) => broadcast_util.assertAndGetBroadcastShape(a, b));
  const k = (attrs?.groupNdims as number | undefined) ?? 0;
  if (!Number.isInteger(k) || k < 0 || k > full.length) {
    throw new Error(
      `${kernel}: groupNdims must be an integer in [0, ${full.length}] for shape [${full}], got ${k}`,
    );
  }
  const reduced = full.slice(0, full.length - k);
  return { full, reduced, inner: sizeOf(full.slice(full.length - k)) };
}

/** A grouped log-density's output: the values summed over rows of `g.inner`. */
function groupedOutput(
  backend: NativeBackend,
  g: Grouping,
  compute: (out: Float32Array) => void,
): TensorInfo {
  const out = backend.allocF32(sizeOf(g.reduced));
  if (sizeOf(g.full) > 0) compute(out);
  else backend.addon.fill(out, 0); // a sum over nothing
  return backend.makeOutputF32(g.reduced, out);
}

/** dy's values, checked to be float32 with the grouped output's size. */
function dyValues(
  kernel: string,
  backend: NativeBackend,
  dy: TensorInfo,
  g: Grouping,
): Float32Array {
  if (sizeOf(dy.shape) !== sizeOf(g.reduced)) {
    throw new Error(`${kernel}: dy has shape [${dy.shape}], expected [${g.reduced}]`);
  }
  const v = f32(backend, dy);
  if (v === null) throw new Error(`${kernel}: dy must be a float32 tensor`);
  return v;
}

function normalLogProb({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { given, mean, logstd } = inputs;
  const g = grouping(ZS_NORMAL_LOG_PROB, [given.shape, mean.shape, logstd.shape], attrs);
  return groupedOutput(backend, g, (out) => {
    Operands.use(backend, ZS_NORMAL_LOG_PROB, g.full, (ops) => {
      backend.addon.normalLogProb(
        ops.of(given, 'given'),
        ops.of(mean, 'mean'),
        ops.of(logstd, 'logstd'),
        out,
        g.inner,
      );
    });
  });
}

function normalLogProbGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { dy, given, mean, logstd } = inputs;
  const g = grouping(ZS_NORMAL_LOG_PROB_GRAD, [given.shape, mean.shape, logstd.shape], attrs);
  const dv = dyValues(ZS_NORMAL_LOG_PROB_GRAD, backend, dy, g);
  const n = sizeOf(g.full);
  const gx = backend.allocF32(n);
  const gs = backend.allocF32(n);
  if (n > 0) {
    Operands.use(backend, ZS_NORMAL_LOG_PROB_GRAD, g.full, (ops) => {
      backend.addon.normalLogProbGrad(
        ops.of(given, 'given'),
        ops.of(mean, 'mean'),
        ops.of(logstd, 'logstd'),
        dv,
        gx,
        gs,
        g.inner,
      );
    });
  }
  return [backend.makeOutputF32(g.full, gx), backend.makeOutputF32(g.full, gs)];
}

function bernoulliLogProb({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { logits, given } = inputs;
  const g = grouping(ZS_BERNOULLI_LOG_PROB, [logits.shape, given.shape], attrs);
  if (g.inner === 1 && g.reduced.length === g.full.length) {
    // Element-wise: the broadcasting binary kernel handles every broadcast.
    const out = nativeBinary(backend, BinaryOp.BernoulliLogProb, logits, given);
    if (out === null) throw new Error(`${ZS_BERNOULLI_LOG_PROB}: logits and given must be float32`);
    return out;
  }
  return groupedOutput(backend, g, (out) => {
    Operands.use(backend, ZS_BERNOULLI_LOG_PROB, g.full, (ops) => {
      backend.addon.bernoulliLogProb(
        ops.of(logits, 'logits'),
        ops.of(given, 'given'),
        out,
        g.inner,
      );
    });
  });
}

/**
 * A one-output gradient kernel's result at the broadcast shape `g.full`,
 * which `compute` writes from the operands and dy's values (one per row of
 * `g.inner`).
 */
function gradOutput(
  kernel: string,
  backend: NativeBackend,
  dy: TensorInfo,
  g: Grouping,
  compute: (ops: Operands, dv: Float32Array, out: Float32Array) => void,
): TensorInfo {
  const dv = dyValues(kernel, backend, dy, g);
  const n = sizeOf(g.full);
  const out = backend.allocF32(n);
  if (n > 0) Operands.use(backend, kernel, g.full, (ops) => compute(ops, dv, out));
  return backend.makeOutputF32(g.full, out);
}

function bernoulliLogProbGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, logits, given } = inputs;
  const g = grouping(ZS_BERNOULLI_LOG_PROB_GRAD, [logits.shape, given.shape], attrs);
  return gradOutput(ZS_BERNOULLI_LOG_PROB_GRAD, backend, dy, g, (ops, dv, out) =>
    backend.addon.bernoulliLogProbGrad(
      ops.of(logits, 'logits'),
      ops.of(given, 'given'),
      dv,
      out,
      g.inner,
    ),
  );
}

/** True when `param` broadcasts to `shape` (the sample's shape). */
function broadcastsTo(param: number[], shape: number[]): boolean {
  try {
    const out = broadcast_util.assertAndGetBroadcastShape(param, shape);
    return out.length === shape.length && out.every((d, i) => d === shape[i]);
  } catch {
    return false;
  }
}

function normalSample({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { mean, logstd } = inputs;
  const a = attrs as unknown as Record<string, unknown>;
  const shape = checkRandomAttrs(ZS_NORMAL_SAMPLE, a.shape, a.seed);
  if (!broadcastsTo(mean.shape, shape) || !broadcastsTo(logstd.shape, shape)) {
    throw new Error(
      `${ZS_NORMAL_SAMPLE}: mean [${mean.shape}] and logstd [${logstd.shape}] do not broadcast to shape [${shape}]`,
    );
  }
  const n = sizeOf(shape);
  const noise = backend.allocF32(n);
  const z = backend.allocF32(n);
  if (n > 0) {
    backend.addon.randomNormal(noise, a.seed as string, 0, 1);
    Operands.use(backend, ZS_NORMAL_SAMPLE, shape, (ops) => {
      backend.addon.normalSample(ops.of(mean, 'mean'), ops.of(logstd, 'logstd'), noise, z);
    });
  }
  return [backend.makeOutputF32(shape, z), backend.makeOutputF32(shape, noise)];
}

function bernoulliSample({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const a = attrs as unknown as Record<string, unknown>;
  const shape = checkRandomAttrs(ZS_BERNOULLI_SAMPLE, a.shape, a.seed);
  const dtype = a.dtype;
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new Error(`${ZS_BERNOULLI_SAMPLE}: dtype must be 'float32' or 'int32', got ${dtype}`);
  }
  const names = Object.keys(inputs).filter((k) => inputs[k] !== undefined);
  if (names.length !== 1 || (names[0] !== 'logits' && names[0] !== 'probs')) {
    throw new Error(
      `${ZS_BERNOULLI_SAMPLE}: give exactly one input, logits or probs, got [${names}]`,
    );
  }
  const kind = names[0];
  const param = inputs[kind];
  if (!broadcastsTo(param.shape, shape)) {
    throw new Error(
      `${ZS_BERNOULLI_SAMPLE}: ${kind} [${param.shape}] does not broadcast to shape [${shape}]`,
    );
  }
  const n = sizeOf(shape);
  const out = backend.allocF32(n);
  if (n > 0) {
    Operands.use(backend, ZS_BERNOULLI_SAMPLE, shape, (ops) => {
      backend.addon.bernoulliSample(ops.of(param, kind), out, a.seed as string, kind === 'logits');
    });
  }
  if (dtype === 'float32') return backend.makeOutputF32(shape, out);
  const ints = new Int32Array(n);
  ints.set(out);
  backend.releaseF32(out);
  return backend.makeTensorInfo(shape, 'int32', ints);
}

function countsDot({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, l } = inputs;
  if (Math.max(x.shape.length, l.shape.length) === 0) {
    throw new Error(`${ZS_COUNTS_DOT}: x and l need at least one axis (the categories)`);
  }
  const g = grouping(ZS_COUNTS_DOT, [x.shape, l.shape], { groupNdims: 1 });
  return groupedOutput(backend, g, (out) => {
    Operands.use(backend, ZS_COUNTS_DOT, g.full, (ops) => {
      backend.addon.countsDot(ops.of(x, 'x'), ops.of(l, 'l'), out, g.inner, attrs?.log === true);
    });
  });
}

function countsDotGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, x, l } = inputs;
  if (Math.max(x.shape.length, l.shape.length) === 0) {
    throw new Error(`${ZS_COUNTS_DOT_GRAD}: x and l need at least one axis (the categories)`);
  }
  const g = grouping(ZS_COUNTS_DOT_GRAD, [x.shape, l.shape], { groupNdims: 1 });
  return gradOutput(ZS_COUNTS_DOT_GRAD, backend, dy, g, (ops, dv, out) =>
    backend.addon.countsDotGrad(
      ops.of(x, 'x'),
      ops.of(l, 'l'),
      dv,
      out,
      g.inner,
      attrs?.log === true,
    ),
  );
}

/** A planar step's float32 operand `name`, or an error naming the kernel and the input. */

/**
 * The checked shapes of a planar step: x of rank ≥ 1 with last axis dim ≥ 1,
 * w and uHat [dim], b [] (or any shape of one element).
 */
function planarShapes(kernel: string, inputs: KernelArgs['inputs']): { dim: number; rows: number } {
  const { x, w, uHat, b } = inputs;
  if (x === undefined || x.shape.length === 0) {
    throw new Error(
      `${kernel}: x must have rank >= 1 (the last axis is the flow's), got [${x?.shape}]`,
    );
  }
  const dim = x.shape[x.shape.length - 1];
  if (dim < 1) throw new Error(`${kernel}: x's last axis must be at least 1, got [${x.shape}]`);
  for (const [name, t] of [
    ['w', w],
    ['uHat', uHat],
  ] as const) {
    if (t === undefined || t.shape.length !== 1 || t.shape[0] !== dim) {
      throw new Error(
        `${kernel}: ${name} must have shape [${dim}] (x's last axis), got [${t?.shape}]`,
      );
    }
  }
  if (b === undefined || sizeOf(b.shape) !== 1) {
    throw new Error(`${kernel}: b must be a scalar, got shape [${b?.shape}]`);
  }
  return { dim, rows: sizeOf(x.shape) / dim };
}

function planarStep({ inputs, backend }: KernelArgs): TensorInfo[] {
  const { dim, rows } = planarShapes(ZS_PLANAR_STEP, inputs);
  const [x, w, uHat, b] = ['x', 'w', 'uHat', 'b'].map((k) =>
    requireF32(ZS_PLANAR_STEP, backend, inputs, k),
  );
  const y = backend.allocF32(rows * dim);
  const ld = backend.allocF32(rows);
  backend.addon.planarStep(x, w, uHat, b, y, ld, dim);
  const shape = inputs.x.shape;
  return [backend.makeOutputF32(shape, y), backend.makeOutputF32(shape.slice(0, -1), ld)];
}

function planarStepGrad({ inputs, backend }: KernelArgs): TensorInfo[] {
  const { dim, rows } = planarShapes(ZS_PLANAR_STEP_GRAD, inputs);
  const shape = inputs.x.shape;
  for (const [name, want] of [
    ['dy', shape],
    ['dl', shape.slice(0, -1)],
  ] as const) {
    const t = inputs[name];
    if (t !== undefined && sizeOf(t.shape) !== sizeOf(want)) {
      throw new Error(`${ZS_PLANAR_STEP_GRAD}: ${name} has shape [${t.shape}], expected [${want}]`);
    }
  }
  const [dy, dl, x, w, uHat, b] = ['dy', 'dl', 'x', 'w', 'uHat', 'b'].map((k) =>
    requireF32(ZS_PLANAR_STEP_GRAD, backend, inputs, k),
  );
  const dx = backend.allocF32(rows * dim);
  const dw = backend.allocF32(dim);
  const dUHat = backend.allocF32(dim);
  const db = backend.allocF32(1);
  backend.addon.planarStepGrad(dy, dl, x, w, uHat, b, dx, dw, dUHat, db, dim);
  return [
    backend.makeOutputF32(shape, dx),
    backend.makeOutputF32([dim], dw),
    backend.makeOutputF32([dim], dUHat),
    backend.makeOutputF32(inputs.b.shape, db),
  ];
}

export const distributionConfigs: KernelConfig[] = [
  nativeKernel(ZS_NORMAL_LOG_PROB, normalLogProb),
  nativeKernel(ZS_NORMAL_LOG_PROB_GRAD, normalLogProbGrad),
  nativeKernel(ZS_BERNOULLI_LOG_PROB, bernoulliLogProb),
  nativeKernel(ZS_BERNOULLI_LOG_PROB_GRAD, bernoulliLogProbGrad),
  nativeKernel(ZS_NORMAL_SAMPLE, normalSample),
  nativeKernel(ZS_BERNOULLI_SAMPLE, bernoulliSample),
  nativeKernel(ZS_COUNTS_DOT, countsDot),
  nativeKernel(ZS_COUNTS_DOT_GRAD, countsDotGrad),
  nativeKernel(ZS_PLANAR_STEP, planarStep),
  nativeKernel(ZS_PLANAR_STEP_GRAD, planarStepGrad),
];
