/**
 * Differentiable ops with several outputs and a gradient written by hand:
 * `tf.customGrad` for ops whose value is more than one tensor.
 *
 * `tf.customGrad` takes one output. An op that computes several (a matrix
 * and its inverse, a projection and a variance) otherwise has to pack them
 * into one tensor (`tf.stack`, `tf.concat`) and unpack them after, which
 * costs a copy of every output and of every upstream gradient, and four
 * more kernel calls each time the op runs and is differentiated. tfjs'
 * engine records an op of several outputs the same way it records one: this
 * runs the forward pass as one such op and hands the gradient function one
 * upstream gradient per output.
 */
import * as tf from '@tensorflow/tfjs-core';

/** What the forward function of {@link customGradMulti} returns. */
export interface MultiGradResult {
  /** The op's outputs, in order (at least one). */
  value: tf.Tensor[];
  /**
   * The gradients of the inputs, in the order of the inputs, from `dys`,
   * the upstream gradient of each output in the order of `value` (zeros for
   * an output that nothing differentiated depends on), and `saved`, the
   * tensors the forward function passed to `save`.
   */
  gradFunc: (dys: tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[];
}

/** The engine method that records an op with a gradient function (tfjs-core 4). */
interface KernelFuncEngine {
  runKernelFunc(params: {
    forwardFunc: (backend: unknown, save: tf.GradSaveFunc) => tf.Tensor[];
    backwardsFunc: (
      dy: tf.Tensor | tf.Tensor[],
      saved: tf.Tensor[],
    ) => Record<string, () => tf.Tensor>;
    inputs: Record<string, tf.Tensor>;
  }): tf.Tensor | tf.Tensor[];
}

/**
 * Makes a differentiable op of several outputs from `f(inputs, save)`, which
 * computes the outputs and says how to differentiate them: `tf.customGrad`
 * for more than one output. As with `tf.customGrad`, the kernels `f` runs
 * are not recorded for differentiation (only the op is), intermediate
 * tensors are disposed when `f` returns, and a tensor `f` needs in the
 * gradient must be passed to `save` (the engine keeps a reference of it
 * until the gradient has run). A gradient of an input that the op does not
 * reach may be zeros of its shape.
 * @throws naming the broken part of the contract when an input is not a
 * tensor, `f` returns no output or one that is not a tensor, or the gradient
 * function returns other than one tensor per input; and when the installed
 * tfjs-core lacks the engine method this is built on.
 * @example
 * ```ts
 * // [x + y, x·y], each differentiated by hand.
 * const sumProd = zs.customGradMulti((inputs, save) => {
 *   const [x, y] = inputs;
 *   save([x, y]);
 *   return {
 *     value: [tf.add(x, y), tf.mul(x, y)],
 *     gradFunc: ([dSum, dProd], [xs, ys]) => [
 *       tf.add(dSum, tf.mul(dProd, ys)),
 *       tf.add(dSum, tf.mul(dProd, xs)),
 *     ],
 *   };
 * });
 * const [s, p] = sumProd(tf.scalar(2), tf.scalar(3)); // 5, 6
 * ```
 */
export function customGradMulti(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => MultiGradResult,
): (...inputs: tf.Tensor[]) => tf.Tensor[] {
  return (...inputs: tf.Tensor[]) => {
    inputs.forEach((t, i) => {
      if (!(t instanceof tf.Tensor)) {
        throw new Error(`customGradMulti: input ${i} is not a tensor`);
      }
    });
    const engine = tf.engine() as unknown as Partial<KernelFuncEngine>;
    if (typeof engine.runKernelFunc !== 'function') {
      throw new Error(
        'customGradMulti: this @tensorflow/tfjs-core has no Engine.runKernelFunc (tfjs-core 4 has it)',
      );
    }
    const inputMap: Record<string, tf.Tensor> = {};
    inputs.forEach((t, i) => (inputMap[i] = t));
    let gradFunc: MultiGradResult['gradFunc'] | undefined;
    const out = engine.runKernelFunc({
      forwardFunc: (_backend, save) => {
        const r = f(inputs, save);
        if (
          !Array.isArray(r.value) ||
          r.value.length === 0 ||
          !r.value.every((t) => t instanceof tf.Tensor)
        ) {
          throw new Error(
            'customGradMulti: the op must return `value`, an array of 1 or more tensors',
          );
        }
        gradFunc = r.gradFunc;
        return r.value;
      },
      backwardsFunc: (dy, saved) => {
        const grads = (gradFunc as MultiGradResult['gradFunc'])(
          Array.isArray(dy) ? dy : [dy],
          saved,
        );
        if (
          !Array.isArray(grads) ||
          grads.length !== inputs.length ||
          !grads.every((g) => g instanceof tf.Tensor)
        ) {
          throw new Error(
            `customGradMulti: gradFunc must return one tensor per input (${inputs.length}), got ${Array.isArray(grads) ? `${grads.length} values` : typeof grads}`,
          );
        }
        const map: Record<string, () => tf.Tensor> = {};
        grads.forEach((g, i) => (map[i] = () => g));
        return map;
      },
      inputs: inputMap,
    });
    return Array.isArray(out) ? out : [out];
  };
}
