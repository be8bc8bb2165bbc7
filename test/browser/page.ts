/**
 * The browser suite's page: imports the bundled test files named by the
 * page's `?files=` (comma-separated paths from the server's root), one after
 * the other, and runs what each registered on the backend named by
 * `?backend=` (the tests' `useCpu` helper reads it from
 * `globalThis.ZS_TEST_BACKEND`). The results are left in
 * `globalThis.zsResults` for the runner (suite.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { runRegistered, type TestResult } from './node_test.js';

/** What the page hands the runner, a file at a time. */
export interface FileResults {
  file: string;
  /** The backend the file's tests ran on (`tf.getBackend()` after them). */
  backend: string;
  results: TestResult[];
  /** An error importing the file, if any. */
  error?: string;
}

const g = globalThis as unknown as {
  location: { search: string; href: string };
  ZS_TEST_BACKEND?: string;
  zsResults?: FileResults[];
};
const params = new URLSearchParams(g.location.search);
const files = (params.get('files') ?? '').split(',').filter((f) => f !== '');
g.ZS_TEST_BACKEND = params.get('backend') ?? 'cpu';

async function runFile(file: string): Promise<FileResults> {
  try {
    // A URL the bundler leaves alone: each test file is its own entry point.
    await import(new URL(`/${file}`, g.location.href).href);
  } catch (e) {
    return { file, backend: tf.getBackend(), results: [], error: String(e) };
  }
  const results = await runRegistered(() => performance.now());
  return { file, backend: tf.getBackend(), results };
}

async function main(): Promise<FileResults[]> {
  const out: FileResults[] = [];
  for (const f of files) out.push(await runFile(f));
  return out;
}

void main().then((r) => {
  g.zsResults = r;
});
