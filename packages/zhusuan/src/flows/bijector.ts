/**
 * Invertible transformations for normalizing flows: the `Bijector` base
 * class (ZhuSuan-PyTorch's `RevNet`, distrax's `Bijector`) and `Sequential`
 * (the port's `RevSequential`, distrax's `Chain` in application order).
 *
 * A bijector acts on the last axis (size `dim`) of its input, any leading
 * axes being batch: `forward(x)` gives `y = f(x)` and `logDet = log |det
 * ∂y/∂x|` of shape `x.shape` less the last axis; `inverse(y)` gives `x =
 * f⁻¹(y)` and `logDet = log |det ∂x/∂y|` (the negative of the forward one at
 * that x). Unlike the PyTorch port, the inverse's log-determinant has the
 * right sign, and every layer returns one (zeros where the volume is kept).
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkDim } from './internal.js';

/** What {@link Bijector.forward} returns. */
export type ForwardResult = {
  /** f(x), the shape of x. */
  y: tf.Tensor;
  /** log |det ∂y/∂x|, the shape of x less its last axis. */
  logDet: tf.Tensor;
};

/** What {@link Bijector.inverse} returns. */
export type InverseResult = {
  /** f⁻¹(y), the shape of y. */
  x: tf.Tensor;
  /** log |det ∂x/∂y|, the shape of y less its last axis. */
  logDet: tf.Tensor;
};

/**
 * Base class of the flows' invertible layers. Subclasses implement
 * `_forward`, `_inverse` (or `hasInverse` false), `variables` and
 * `_dispose`; the public methods check the input's last axis and run in a
 * `tf.tidy` that keeps only the result. A layer owns its `tf.Variable`s:
 * `dispose()` frees them.
 * @example
 * const flow = new zs.Sequential([new zs.AffineCoupling(2, { seed: 1 }), new zs.Reverse(2)]);
 * const { y, logDet } = flow.forward(x);      // x [n, 2] → y [n, 2], logDet [n]
 * const back = flow.inverse(y).x;             // x again, to float tolerance
 * flow.dispose();
 */
export abstract class Bijector {
  private disposed = false;

  protected constructor(
    /** Name used in error messages, e.g. 'PlanarFlow'. */
    readonly name: string,
    /** Size of the last axis the layer acts on. */
    readonly dim: number,
  ) {
    checkDim(name, dim);
  }

  /** Whether {@link inverse} is available (true unless a subclass says otherwise). */
  get hasInverse(): boolean {
    return true;
  }

  /** Why {@link inverse} is not available, for its error message. */
  protected get whyNoInverse(): string {
    return 'this layer has no inverse';
  }

  /** The layer's trainable variables (for an optimizer's `varList`). */
  abstract get variables(): tf.Variable[];

  /**
   * y = f(x) and log |det ∂y/∂x|.
   * @param x `[..., dim]`, float32.
   * @returns `y` `[..., dim]` and `logDet` `[...]`.
   */
  forward(x: tf.Tensor): ForwardResult {
    this.checkInput('forward', 'x', x);
    return tf.tidy(() => this._forward(x));
  }

  /**
   * x = f⁻¹(y) and log |det ∂x/∂y|.
   * @param y `[..., dim]`, float32.
   * @returns `x` `[..., dim]` and `logDet` `[...]`.
   */
  inverse(y: tf.Tensor): InverseResult {
    if (!this.hasInverse) throw new Error(`${this.name}.inverse: ${this.whyNoInverse}`);
    this.checkInput('inverse', 'y', y);
    return tf.tidy(() => this._inverse(y));
  }

  /** Frees the layer's variables and constants; using it afterwards throws. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this._dispose();
  }

  /** Whether {@link dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  private checkInput(method: string, arg: string, t: tf.Tensor): void {
    const where = `${this.name}.${method}`;
    if (this.disposed) throw new Error(`${where}: the layer was disposed`);
    if (!(t instanceof tf.Tensor)) throw new Error(`${where}: \`${arg}\` must be a tf.Tensor`);
    if (t.dtype !== 'float32') {
      throw new Error(`${where}: \`${arg}\` must be float32, got ${t.dtype}`);
    }
    if (t.rank < 1 || t.shape[t.rank - 1] !== this.dim) {
      throw new Error(
        `${where}: the last axis of \`${arg}\` [${t.shape}] must have size ${this.dim} (the layer's dim)`,
      );
    }
  }

  protected abstract _forward(x: tf.Tensor): ForwardResult;

  protected abstract _inverse(y: tf.Tensor): InverseResult;

  protected abstract _dispose(): void;
}

/**
 * Layers applied in order (port of ZhuSuan-PyTorch's `RevSequential`): the
 * forward log-determinants are summed; the inverse runs the layers backwards.
 * It owns its layers: `dispose()` disposes them.
 * @example
 * const nice = new zs.Sequential([
 *   ...zs.couplingMasks(4, 4).map((mask, i) => new zs.AdditiveCoupling(4, { mask, seed: i })),
 *   new zs.Scaling(4),
 * ]);
 */
export class Sequential extends Bijector {
  /** The layers, applied in this order by `forward`. */
  readonly layers: readonly Bijector[];

  constructor(layers: Bijector[]) {
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new Error('Sequential: `layers` must be a non-empty array of bijectors');
    }
    layers.forEach((l, i) => {
      if (!(l instanceof Bijector)) {
        throw new Error(`Sequential: \`layers[${i}]\` is not a bijector`);
      }
      if (l.dim !== layers[0].dim) {
        throw new Error(
          `Sequential: \`layers[${i}]\` (${l.name}) has dim ${l.dim}, but \`layers[0]\` (${layers[0].name}) has ${layers[0].dim}`,
        );
      }
    });
    super('Sequential', layers[0].dim);
    this.layers = [...layers];
  }

  override get hasInverse(): boolean {
    return this.layers.every((l) => l.hasInverse);
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables);
  }

  protected _forward(x: tf.Tensor): ForwardResult {
    let y = x;
    let logDet: tf.Tensor | null = null;
    for (const layer of this.layers) {
      const r = layer.forward(y);
      y = r.y;
      logDet = logDet === null ? r.logDet : tf.add(logDet, r.logDet);
    }
    return { y, logDet: logDet! };
  }

  protected override get whyNoInverse(): string {
    const i = this.layers.findIndex((l) => !l.hasInverse);
    return `\`layers[${i}]\` (${this.layers[i].name}) has no inverse`;
  }

  protected _inverse(y: tf.Tensor): InverseResult {
    let x = y;
    let logDet: tf.Tensor | null = null;
    for (const layer of [...this.layers].reverse()) {
      const r = layer.inverse(x);
      x = r.x;
      logDet = logDet === null ? r.logDet : tf.add(logDet, r.logDet);
    }
    return { x, logDet: logDet! };
  }

  protected _dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
