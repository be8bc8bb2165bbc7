/** Runtime facts and knobs of the addon. */
import { AddonInfo, GemmShapeRecord, getAddon } from './addon.js';

/** What the addon reports (ISA of the kernels, threads, BLAS build), or null. */
export function nativeInfo(): AddonInfo | null {
  return getAddon()?.info() ?? null;
}

/**
 * Threads for element-wise kernels (default: every core, or ZHUSUAN_NATIVE_THREADS;
 * the GEMMs run on the addon's pool whatever this says, one single-threaded
 * OpenBLAS call per part). Returns the count in effect, or 0 without the addon.
 */
export function setNativeThreads(n: number): number {
  const addon = getAddon();
  return addon === null ? 0 : addon.setThreads(n);
}

/**
 * Starts or stops recording every matrix product the addon runs, grouped by
 * shape (starting clears what was recorded). Costs a map lookup a product.
 * Returns false without the addon.
 * @example
 * ```ts
 * traceNativeGemms(true);
 * trainStep();
 * const byShape = nativeGemmShapes(); // calls, seconds and FLOPs per shape
 * traceNativeGemms(false);
 * ```
 */
export function traceNativeGemms(on: boolean): boolean {
  const addon = getAddon();
  if (addon === null) return false;
  addon.traceGemms(on);
  return true;
}

/** The products recorded by {@link traceNativeGemms}, by shape; empty without the addon. */
export function nativeGemmShapes(): GemmShapeRecord[] {
  return getAddon()?.gemmShapes() ?? [];
}
