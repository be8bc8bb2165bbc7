/**
 * The `native` backend: tfjs' cpu backend (tensors are plain typed arrays)
 * whose hot kernels run in the addon, plus a pool of Float32Arrays so that a
 * training step does not allocate (and the GC does not scan) ~150 fresh
 * arrays.
 *
 * Pool safety. A pooled array goes back to the pool when its tensor data is
 * disposed, so nothing outside the backend may keep it:
 * - `readSync`/`read` (what `dataSync()`/`data()` return) hand out copies of
 *   pooled arrays;
 * - a kernel output that is a *view* of a pooled array (the cpu backend's
 *   Slice returns `subarray`s) or a pooled array already owned by another
 *   tensor is copied when written.
 */
import { DataId, DataType, TensorInfo, backend_util } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon.js';

type BackendValues = backend_util.BackendValues;

/** Pool statistics, for tests and benchmarks. */
export interface PoolStats {
  /** Arrays allocated fresh. */
  allocated: number;
  /** Allocations served from the pool. */
  reused: number;
  /** Bytes currently held by free arrays. */
  freeBytes: number;
}

/** Upper bound of bytes kept in free lists; beyond it, released arrays go to the GC. */
const DEFAULT_POOL_LIMIT = 512 * 1024 * 1024;

/**
 * The backend registered as `native` (see `registerNativeBackend`): tfjs'
 * `MathBackendCPU`, whose kernels it inherits, with a pool of Float32Arrays
 * for kernel outputs; the kernels it overrides call the addon. Made by the
 * registration, not by users.
 */
export class NativeBackend extends MathBackendCPU {
  /**
   * The addon's functions (loaded before the backend is made).
   * @internal
   */
  readonly addon: NativeAddon;
  /**
   * Free arrays by length (an entry only while it holds some), and the
   * allocF32 call that last asked for that length.
   */
  private readonly free = new Map<number, { arrays: Float32Array[]; asked: number }>();
  private readonly pooled = new WeakSet<Float32Array>();
  private readonly live = new WeakSet<Float32Array>();
  private readonly owners = new WeakMap<ArrayBufferLike, Float32Array>();
  private freeBytes = 0;
  private poolLimit = DEFAULT_POOL_LIMIT;
  /** allocF32 calls so far. */
  private allocations = 0;
  private stats = { allocated: 0, reused: 0 };

  /** @internal `registerNativeBackend` makes the backend, with the loaded addon. */
  constructor(addon: NativeAddon) {
    super();
    this.addon = addon;
  }

  /**
   * A Float32Array of length n from the pool (contents undefined: every
   * kernel writes all of its output).
   */
  allocF32(n: number): Float32Array {
    this.allocations++;
    const list = this.free.get(n);
    if (list !== undefined) {
      list.asked = this.allocations;
      const arr = list.arrays.pop() as Float32Array;
      if (list.arrays.length === 0) this.free.delete(n);
      this.freeBytes -= arr.byteLength;
      this.stats.reused++;
      return arr;
    }
    const arr = new Float32Array(n);
    this.pooled.add(arr);
    this.owners.set(arr.buffer, arr);
    this.stats.allocated++;
    return arr;
  }

  /** Returns an array from {@link allocF32} that no tensor owns (kernel scratch). */
  releaseF32(arr: Float32Array): void {
    if (!this.pooled.has(arr) || this.live.has(arr)) return;
    if (!this.makeRoom(arr.byteLength, arr.length)) return;
    let list = this.free.get(arr.length);
    if (list === undefined) {
      // Asked for when it was allocated; the pool has no record before now.
      list = { arrays: [], asked: this.allocations };
      this.free.set(arr.length, list);
    }
    list.arrays.push(arr);
    this.freeBytes += arr.byteLength;
  }

  /** True when `arr` came from the pool (its contents may be reused later). */
  isPooled(arr: unknown): boolean {
    return arr instanceof Float32Array && this.pooled.has(arr);
  }

  /** Makes a float32 TensorInfo around a pooled array just filled by a kernel. */
  makeOutputF32(shape: number[], values: Float32Array): TensorInfo {
    return this.makeTensorInfo(shape, 'float32', values);
  }

  /** Stores `values` as a new tensor's data; a pooled array owned elsewhere is copied first. */
  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    let v = values;
    if (v instanceof Float32Array) {
      if (this.pooled.has(v)) {
        if (this.live.has(v)) v = this.copyToPool(v);
        this.live.add(v as Float32Array);
      } else if (v.byteLength > 0 && this.owners.has(v.buffer)) {
        // A view into a pooled array (e.g. the cpu backend's contiguous Slice).
        v = this.copyToPool(v);
        this.live.add(v as Float32Array);
      }
    }
    return super.write(v, shape, dtype);
  }

  /** Stores `values` under an existing `dataId`, copying pooled arrays as `write` does. */
  override move(
    dataId: DataId,
    values: BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    let v = values;
    if (v instanceof Float32Array && (this.pooled.has(v) || this.owners.has(v.buffer))) {
      v = this.copyToPool(v);
      this.live.add(v as Float32Array);
    }
    super.move(dataId, v, shape, dtype, refCount);
  }

  /** The tensor's values: a copy where they live in a pooled array (which may be reused). */
  override readSync(dataId: DataId): BackendValues {
    const v = super.readSync(dataId);
    return v instanceof Float32Array && this.pooled.has(v) ? v.slice() : v;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const entry = this.data.has(dataId) ? this.data.get(dataId) : undefined;
    const values = entry?.values;
    const released = super.disposeData(dataId, force);
    if (
      released &&
      values instanceof Float32Array &&
      !this.data.has(dataId) &&
      this.live.has(values)
    ) {
      this.live.delete(values);
      this.releaseF32(values);
    }
    return released;
  }

  /** Drops the pool and disposes the backend's data. */
  override dispose(): void {
    this.free.clear();
    this.freeBytes = 0;
    super.dispose();
  }

  /** Pool counters since the backend was made. */
  poolStats(): PoolStats {
    return { ...this.stats, freeBytes: this.freeBytes };
  }

  /** Sets the most bytes the pool keeps in free arrays (default 512 MiB). */
  setPoolLimit(bytes: number): void {
    this.poolLimit = bytes;
    if (bytes === 0) {
      this.free.clear();
      this.freeBytes = 0;
    }
  }

  /**
   * Makes room for `bytes` more free bytes under the limit by dropping the
   * free arrays of the lengths asked for least recently (never `keep`'s);
   * false when even that cannot. A full pool used to refuse every array of a
   * length it did not hold: after one model had filled it, the next model's
   * arrays were allocated afresh every step, and V8, counting them as
   * external memory, ran a full garbage collection every ~40 ms (vae_conv's
   * step after nice_mnist's: 244 ms, 434 mark-compacts, against 162 ms and
   * 11 alone).
   */
  private makeRoom(bytes: number, keep: number): boolean {
    while (this.freeBytes + bytes > this.poolLimit) {
      let oldest = -1;
      let when = Infinity;
      for (const [n, list] of this.free) {
        if (n !== keep && list.asked < when) {
          oldest = n;
          when = list.asked;
        }
      }
      if (oldest < 0) return false;
      for (const arr of this.free.get(oldest)!.arrays) this.freeBytes -= arr.byteLength;
      this.free.delete(oldest);
    }
    return true;
  }

  private copyToPool(v: Float32Array): Float32Array {
    const out = this.allocF32(v.length);
    out.set(v);
    return out;
  }

  /**
   * Replaces the values behind `dataId` (which must hold float32 data with
   * refCount 1) by `values`; used by the in-place optimizer when the old array
   * may be visible outside the backend.
   */
  swapValues(dataId: DataId, values: Float32Array): void {
    const entry = this.data.get(dataId);
    const old = entry.values;
    entry.values = values;
    this.live.add(values);
    if (old instanceof Float32Array && this.live.has(old)) {
      this.live.delete(old);
      this.releaseF32(old);
    }
  }
}
