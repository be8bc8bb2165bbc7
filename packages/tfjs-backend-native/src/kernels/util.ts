/**
 * Helpers shared by the native kernels: typed access to float32 inputs, the
 * cpu kernel to fall back on, and reusable Int32Arrays for shapes.
 */
import {
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
  getKernel,
} from '@tensorflow/tfjs-core';
import type { ElementArray } from '../addon.js';
import type { NativeBackend } from '../backend.js';

/** The arguments tfjs passes a kernel, with our backend. */
export interface KernelArgs {
  /** Inputs by name (tfjs types them as possibly undefined; kernels know which exist). */
  inputs: Record<string, TensorInfo>;
  backend: NativeBackend;
  attrs?: NamedAttrMap;
}

/** A native kernel: returns null when it does not handle the inputs (cpu takes over). */
export type NativeKernel = (args: KernelArgs) => TensorInfo | TensorInfo[] | null;

/**
 * The float32 values behind `t`, or null when `t` is not float32 or is stored
 * in another array type (the cpu backend's Cast from bool keeps a Uint8Array
 * behind a float32 tensor).
 */
export function f32(backend: NativeBackend, t: TensorInfo | undefined): Float32Array | null {
  if (t === undefined || t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
}

/**
 * The float32 values of input `name` of `kernel`, which must exist and be
 * float32 (stored as a Float32Array): the fused kernels that have no cpu
 * kernel to fall back on.
 * @throws naming the kernel and the input otherwise.
 */
export function requireF32(
  kernel: string,
  backend: NativeBackend,
  inputs: KernelArgs['inputs'],
  name: string,
): Float32Array {
  const t = inputs[name];
  if (t === undefined) throw new Error(`${kernel}: input ${name} is missing`);
  const v = f32(backend, t);
  if (v === null) throw new Error(`${kernel}: ${name} must be a float32 tensor, got ${t.dtype}`);
  return v;
}

/**
 * The values behind `t` when they are stored in the array type of its dtype
 * (float32: Float32Array, int32: Int32Array, bool: Uint8Array), else null
 * (strings, complex numbers, a bool cast to float32 kept as a Uint8Array).
 */
export function elements(backend: NativeBackend, t: TensorInfo | undefined): ElementArray | null {
  if (t === undefined) return null;
  const v = backend.data.get(t.dataId).values;
  if (t.dtype === 'float32') return v instanceof Float32Array ? v : null;
  if (t.dtype === 'int32') return v instanceof Int32Array ? v : null;
  if (t.dtype === 'bool') return v instanceof Uint8Array ? v : null;
  return null;
}

/** A fresh output array of `dtype` (float32 from the backend's pool). */
export function allocLike(backend: NativeBackend, dtype: string, n: number): ElementArray {
  if (dtype === 'float32') return backend.allocF32(n);
  return dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

// Shapes travel to the addon as Int32Arrays; two slots per rank (a and b of
// a binary op) are reused so that a kernel call allocates nothing.
const shapeSlots: Int32Array[][] = [];
/** An Int32Array holding `shape`; `slot` 0..3 picks one of the reusable arrays. */
export function shapeArray(shape: readonly number[], slot: number): Int32Array {
  const r = shape.length;
  let slots = shapeSlots[r];
  if (slots === undefined) {
    slots = [new Int32Array(r), new Int32Array(r), new Int32Array(r), new Int32Array(r)];
    shapeSlots[r] = slots;
  }
  const arr = slots[slot];
  for (let i = 0; i < r; i++) arr[i] = shape[i];
  return arr;
}

/**
 * Wraps a native kernel into a tfjs kernel config for backend `native` that
 * defers to the cpu kernel of the same name whenever the native one returns
 * null (dtypes or layouts it does not handle).
 */
export function nativeKernel(kernelName: string, kernel: NativeKernel): KernelConfig {
  const cpu = getKernel(kernelName, 'cpu');
  const fallback: KernelFunc | undefined = cpu?.kernelFunc;
  const kernelFunc = ((args: KernelArgs) => {
    const out = kernel(args);
    if (out !== null) return out;
    if (fallback === undefined) {
      throw new Error(`native backend: no cpu fallback for kernel ${kernelName}`);
    }
    return fallback(args as unknown as Parameters<KernelFunc>[0]);
  }) as unknown as KernelFunc;
  return { kernelName, backendName: 'native', kernelFunc };
}
