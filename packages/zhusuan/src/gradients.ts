/**
 * The one place that explains tfjs' "gradient function not found" errors:
 * either no gradients are registered at all (tfjs-core alone registers
 * none; `@tensorflow/tfjs` registers them), or a kernel on the path has
 * none (comparisons). Internal: src/index.ts does not export it.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The one-line fix for a program that registers no gradients. */
const REGISTER_FIX =
  "import '@tensorflow/tfjs' once in the program (it registers them; a bundle that keeps " +
  "tfjs-core alone can import '@tensorflow/tfjs-core/dist/register_all_gradients' instead)";

/**
 * Whether tfjs has any gradient registered: tfjs-core alone registers none,
 * so even `Add` has none then.
 */
export function gradientsRegistered(): boolean {
  return tf.getGradient(tf.Add) !== undefined;
}

/** The error for a program that registers no gradients, naming `fn`. */
function noGradientsError(fn: string): Error {
  return new Error(
    `${fn}: no gradients are registered with tfjs, so nothing can be differentiated: ${REGISTER_FIX}`,
  );
}

/**
 * Throws the missing-registration error when a gradient is being recorded
 * (inside `tf.grads`, `tf.variableGrads`, `optimizer.minimize`) and no
 * gradients are registered: the objectives call this, so the error names
 * them instead of surfacing later from tfjs' backward pass. Outside a
 * gradient computation (values only, e.g. evaluation in a browser page with
 * tfjs-core alone) it does nothing.
 */
export function checkGradientsIfRecording(fn: string): void {
  if (tf.engine().isTapeOn() && !gradientsRegistered()) throw noGradientsError(fn);
}

/**
 * `f()`, with tfjs' "gradient function not found for K" error replaced by one
 * that names `fn` and the cause: no gradients registered at all (with the
 * one-line fix), or none for kernel K (comparisons such as `tf.greater`
 * have none: mask with `tf.step`, or compute the mask inside `tf.customGrad`).
 */
export function explainGradientErrors<T>(fn: string, f: () => T): T {
  if (!gradientsRegistered()) throw noGradientsError(fn);
  try {
    return f();
  } catch (e) {
    const kernel = /gradient function not found for (\w+)/.exec(String(e))?.[1];
    if (kernel === undefined) throw e;
    throw new Error(
      `${fn}: cannot differentiate the log density: tfjs has no gradient for the ` +
        `'${kernel}' kernel (comparisons such as tf.greater have none); build masks on the ` +
        'latent values with tf.step, or compute them inside tf.customGrad',
    );
  }
}
