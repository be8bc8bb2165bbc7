/**
 * Seeded random kernels the zhusuan library calls when a backend registers
 * them (`ZsRandomNormal`, `ZsRandomUniform`; the names are the library's,
 * see zhusuan's `optionalKernels`). They draw exactly what
 * `tf.randomNormal(shape, mean, stdDev, 'float32', seed)` and
 * `tf.randomUniform(shape, minval, maxval, 'float32', seed)` draw (the same
 * Alea stream and polar method, in C++), so a seeded program gives the same
 * numbers on `native` and `cpu`; tfjs has no kernel behind those ops to
 * override, and draws them in JavaScript at ~30 ns a number.
 */
import { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeBackend } from '../backend.js';
import { KernelArgs, nativeKernel, sizeOf } from './util.js';

export const ZS_RANDOM_NORMAL = 'ZsRandomNormal';
export const ZS_RANDOM_UNIFORM = 'ZsRandomUniform';

/** Attributes of {@link ZS_RANDOM_NORMAL}. */
export interface RandomNormalAttrs {
  shape: number[];
  /** The seed as tfjs turns it into a string (`String(seed)`). */
  seed: string;
  mean: number;
  stdDev: number;
}

/** Attributes of {@link ZS_RANDOM_UNIFORM}. */
export interface RandomUniformAttrs {
  shape: number[];
  seed: string;
  minval: number;
  maxval: number;
}

/** Checks a seeded kernel's `shape` and `seed` attributes; returns the shape. */
export function checkRandomAttrs(kernel: string, shape: unknown, seed: unknown): number[] {
  if (
    !Array.isArray(shape) ||
    shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)
  ) {
    throw new Error(`${kernel}: shape must be an array of non-negative integers, got ${shape}`);
  }
  if (typeof seed !== 'string') {
    throw new Error(`${kernel}: seed must be a string (String(seed)), got ${typeof seed}`);
  }
  return shape as number[];
}

/** A random kernel: checks the attributes, then has the addon fill a pooled array. */
function randomKernel(
  name: string,
  fill: (backend: NativeBackend, out: Float32Array, attrs: Record<string, unknown>) => void,
) {
  return ({ backend, attrs }: KernelArgs): TensorInfo => {
    const a = attrs as unknown as Record<string, unknown>;
    const shape = checkRandomAttrs(name, a.shape, a.seed);
    const out = backend.allocF32(sizeOf(shape));
    fill(backend, out, a);
    return backend.makeOutputF32(shape, out);
  };
}

const randomNormal = randomKernel(ZS_RANDOM_NORMAL, (backend, out, attrs) => {
  const a = attrs as unknown as RandomNormalAttrs;
  backend.addon.randomNormal(out, a.seed, a.mean, a.stdDev);
});

const randomUniform = randomKernel(ZS_RANDOM_UNIFORM, (backend, out, attrs) => {
  const a = attrs as unknown as RandomUniformAttrs;
  backend.addon.randomUniform(out, a.seed, a.minval, a.maxval);
});

export const randomConfigs: KernelConfig[] = [
  nativeKernel(ZS_RANDOM_NORMAL, randomNormal),
  nativeKernel(ZS_RANDOM_UNIFORM, randomUniform),
];
