/**
 * Backend selection for the CLI. `auto` prefers the native (OpenBLAS) backend
 * and falls back to wasm, saying so once; nothing else in the trainer depends
 * on which backend runs.
 */
import * as tf from '@tensorflow/tfjs-core';
// The union package registers every op's gradient (tfjs-core alone does not)
// and the cpu backend.
import '@tensorflow/tfjs';
import { setNativeBernoulliRows } from './rng.js';

// Production mode: no "install tfjs-node" banner on the cpu backend's first use.
tf.env().set('PROD', true);

/** Backends the CLI accepts for `--backend`. */
export const BACKEND_CHOICES = ['auto', 'native', 'wasm', 'cpu'] as const;
/** One of {@link BACKEND_CHOICES}. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The result of trying to load the native backend. */
export interface NativeStatus {
  available: boolean;
  reason: string | null;
}

let nativeStatus: NativeStatus | undefined;

/** Loads and registers the native backend once; never throws. */
export async function loadNative(): Promise<NativeStatus> {
  if (nativeStatus) return nativeStatus;
  try {
    const native = await import('@zhusuan/tfjs-backend-native');
    const ok = native.registerNativeBackend();
    // The data pipeline's binarisation, in the addon: the same numbers.
    if (ok) setNativeBernoulliRows(native.bernoulliRows);
    nativeStatus = { available: ok, reason: ok ? null : native.nativeLoadError() };
  } catch (err) {
    nativeStatus = {
      available: false,
      reason: `cannot import @zhusuan/tfjs-backend-native: ${(err as Error).message}`,
    };
  }
  return nativeStatus;
}

async function setWasm(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) {
    throw new Error('the wasm backend failed to initialise');
  }
}

/**
 * Activates the backend named by `choice` and returns the name of the one in use.
 * @param notice where the one-line fallback notice goes (stderr by default).
 * @throws Error when an explicitly requested backend cannot be used.
 */
export async function useBackend(
  choice: BackendChoice,
  notice: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<string> {
  if (choice === 'native' || choice === 'auto') {
    const status = await loadNative();
    if (status.available && (await tf.setBackend('native'))) {
      return 'native';
    }
    if (choice === 'native') {
      throw new Error(`--backend native is not available: ${status.reason ?? 'setBackend failed'}`);
    }
    notice(`zhusuan: native backend unavailable (${status.reason}); using wasm`);
    await setWasm();
    return 'wasm';
  }
  if (choice === 'wasm') {
    await setWasm();
    return 'wasm';
  }
  await tf.setBackend('cpu');
  return 'cpu';
}
