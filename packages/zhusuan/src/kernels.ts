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
   * `given · logits − softplus(logits)` element-wise. The library registers
   * its gradient.
   */
  bernoulliLogProb: 'ZsBernoulliLogProb',
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
function reduceToShape(g: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, g.shape);
  return axes.length === 0 ? g : tf.reshape(tf.sum(g, axes), shape);
}

let bernoulliGradRegistered = false;
function registerBernoulliGradient(): void {
  if (bernoulliGradRegistered) return;
  bernoulliGradRegistered = true;
  if (tf.getGradient(OPTIONAL_KERNELS.bernoulliLogProb) !== undefined) return;
  tf.registerGradient({
    kernelName: OPTIONAL_KERNELS.bernoulliLogProb,
    inputsToSave: ['logits', 'given'],
    gradFunc: (dy, saved) => {
      const [logits, given] = saved;
      const g = dy as tf.Tensor;
      return {
        // d/dl [x·l − softplus(l)] = x − sigmoid(l); d/dx = l.
        logits: () => reduceToShape(tf.mul(g, tf.sub(given, tf.sigmoid(logits))), logits.shape),
        given: () => reduceToShape(tf.mul(g, logits), given.shape),
      };
    },
  });
}

/**
 * `given · logits − softplus(logits)` (broadcasting), the Bernoulli
 * log-probability from logits: one kernel where the backend has
 * {@link OPTIONAL_KERNELS.bernoulliLogProb}, else Multiply, Softplus, Sub.
 */
export function bernoulliLogProbFromLogits(logits: tf.Tensor, given: tf.Tensor): tf.Tensor {
  if (
    logits.dtype === 'float32' &&
    given.dtype === 'float32' &&
    backendHasKernel(OPTIONAL_KERNELS.bernoulliLogProb)
  ) {
    registerBernoulliGradient();
    return runKernel(OPTIONAL_KERNELS.bernoulliLogProb, { logits, given }, {});
  }
  return tf.sub(tf.mul(given, logits), tf.softplus(logits));
}
