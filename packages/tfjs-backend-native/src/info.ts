/** Runtime facts and knobs of the addon. */
import { AddonInfo, getAddon } from './addon.js';

/** What the addon reports (ISA of the kernels, threads, BLAS build), or null. */
export function nativeInfo(): AddonInfo | null {
  return getAddon()?.info() ?? null;
}

/**
 * Threads for element-wise kernels (default: every core, or ZHUSUAN_NATIVE_THREADS;
 * GEMMs always use OpenBLAS' own threads). Returns the count in effect, or 0
 * without the addon.
 */
export function setNativeThreads(n: number): number {
  const addon = getAddon();
  return addon === null ? 0 : addon.setThreads(n);
}
