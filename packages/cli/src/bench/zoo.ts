/**
 * The model zoo's benchmark interface (`zhusuan bench --model NAME|all`): what
 * a model must give to be timed — a real training step on the next batch, the
 * state that step changes, and what its PyTorch peer needs to run the same
 * computation on the same data. The CLI owns the interface and the VAE's
 * models (it owns the trainer); the examples workspace implements the others
 * next to each example and exports them as `@zhusuan/examples/bench`.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** What a model's bench setup gets. */
export interface ZooBenchContext {
  /** The tfjs backend in use (already active). */
  backend: string;
  /**
   * How many steps the stepper will run in all (warm-up and timed). A model
   * that feeds minibatches draws their order for this many steps up front, so
   * that its PyTorch peer can read the same batches in the same order.
   */
  steps: number;
}

/** An array handed to the PyTorch peer (written as a `.npy` file). */
export interface TorchArray {
  data: Float32Array | Int32Array;
  /** Row-major shape; its product is `data.length`. */
  shape: number[];
}

/**
 * What a model's PyTorch peer needs from one setup: scalar arguments (sizes,
 * step sizes, particles, chains) and arrays (the data, the batches' order, the
 * initial state), so that it runs the same computation on the same batches.
 */
export interface TorchInputs {
  args: Record<string, number | string | boolean>;
  arrays: Record<string, TorchArray>;
}

/** A set-up model: one real training step per `step()` call. */
export interface ZooBenchStepper {
  /** One training (or sampling) step on the next batch; the state in `variables()` changes. */
  step(): void;
  /** The state a step updates (weights, variational parameters, chains). */
  variables(): tf.Variable[];
  /** What the PyTorch peer needs to run the same steps. */
  torch: TorchInputs;
  /**
   * Where the model's loss is a deterministic function of its state (the
   * samplers' negative log joint), its value at the initial state on the first
   * batch, computed before any step: the PyTorch peer computes the same from
   * the same arrays, and the bench reports both (`torch_loss_check`).
   */
  initialLoss?: number;
  /** Frees the stepper's tensors. */
  dispose(): void;
}

/**
 * A model of the benchmark suite.
 *
 * To add one: implement this next to its example (sharing the example's model
 * and step code), add it to the list in `examples/src/bench.ts`, and add its
 * PyTorch peer to `MODELS` in `packages/cli/scripts/torch_zoo_bench.py` under
 * the name `torchModel`.
 */
export interface ZooBenchModel {
  /** The name `--model` takes (snake_case, as the example's). */
  name: string;
  /** One line: the model, the step, the sizes. */
  description: string;
  /** The peer's key in torch_zoo_bench.py's `MODELS`; null when it has none. */
  torchModel: string | null;
  /** Builds the model's state on the active backend (seeded: the same draws every run). */
  setup(ctx: ZooBenchContext): ZooBenchStepper;
}

/**
 * The step plan every timing follows, on every backend and in PyTorch: up to
 * 10 warm-up steps, then 5 blocks of `max(1, ⌊steps/5⌋)` steps; the median
 * block is reported.
 */
export function blockPlan(steps: number): { warmup: number; blocks: number; per: number } {
  return { warmup: Math.min(10, steps), blocks: 5, per: Math.max(1, Math.floor(steps / 5)) };
}

/** Steps a {@link blockPlan} runs in all. */
export function plannedSteps(steps: number): number {
  const p = blockPlan(steps);
  return p.warmup + p.blocks * p.per;
}

/** Encodes an array as a NumPy `.npy` file (format 1.0, little-endian, C order). */
export function npyBytes(a: TorchArray): Uint8Array {
  const n = a.shape.reduce((p, q) => p * q, 1);
  if (n !== a.data.length) {
    throw new Error(`npyBytes: shape [${a.shape}] holds ${n} values, the data ${a.data.length}`);
  }
  const descr = a.data instanceof Float32Array ? '<f4' : '<i4';
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Magic (6) + version (2) + length (2) + header + '\n', padded to 64 bytes.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += `${' '.repeat(pad % 64)}\n`;
  const out = new Uint8Array(10 + header.length + a.data.byteLength);
  out.set([0x93, ...Array.from('NUMPY', (c) => c.charCodeAt(0)), 1, 0], 0);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), 10 + header.length);
  return out;
}
