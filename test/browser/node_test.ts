/**
 * The part of `node:test` the library's tests use (`test`, `before`,
 * `after`), for the browser suite: the bundler maps `node:test` here.
 * Registration collects a file's tests and hooks as the file is imported;
 * {@link runRegistered} then runs them as Node's runner does (top-level
 * `before` hooks first, tests in order, `after` hooks last, each awaited) and
 * reports one result a test.
 */

/** The part of node:test's test context the tests use. */
export interface ShimContext {
  name: string;
  /** A line of diagnostics: Node prints it in the TAP output; here, the page's console. */
  diagnostic(message: string): void;
}

type Fn = (t: ShimContext) => unknown;

/** One test's outcome in the browser suite. */
export interface TestResult {
  name: string;
  ok: boolean;
  /** The error's `String()` and stack where the test failed. */
  error?: string;
  ms: number;
}

const registry: { tests: { name: string; fn: Fn }[]; before: Fn[]; after: Fn[] } = {
  tests: [],
  before: [],
  after: [],
};

/** Registers a test (only the `test(name, fn)` form is supported). */
export function test(name: string, fn: Fn): void {
  if (typeof name !== 'string' || typeof fn !== 'function') {
    throw new Error('browser node:test shim: only test(name, fn) is supported');
  }
  registry.tests.push({ name, fn });
}

/** Registers a hook run once before the file's tests. */
export function before(fn: Fn): void {
  registry.before.push(fn);
}

/** Registers a hook run once after the file's tests. */
export function after(fn: Fn): void {
  registry.after.push(fn);
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${String(e)}\n${e.stack ?? ''}`;
  return String(e);
}

/**
 * Runs what the imported file registered, and forgets it. A failing `before` hook fails
 * every test of the file (as in Node); a failing `after` hook is reported as
 * a test named `after hook`.
 */
export async function runRegistered(now: () => number): Promise<TestResult[]> {
  const { tests, before: befores, after: afters } = registry;
  registry.tests = [];
  registry.before = [];
  registry.after = [];
  const out: TestResult[] = [];
  let hookError: string | undefined;
  for (const h of befores) {
    try {
      await h({ name: 'before', diagnostic: (m) => console.log(`# ${m}`) });
    } catch (e) {
      hookError = `before hook: ${describeError(e)}`;
      break;
    }
  }
  for (const t of tests) {
    if (hookError !== undefined) {
      out.push({ name: t.name, ok: false, error: hookError, ms: 0 });
      continue;
    }
    const t0 = now();
    try {
      await t.fn({ name: t.name, diagnostic: (m) => console.log(`# ${t.name}: ${m}`) });
      out.push({ name: t.name, ok: true, ms: now() - t0 });
    } catch (e) {
      out.push({ name: t.name, ok: false, error: describeError(e), ms: now() - t0 });
    }
  }
  for (const h of afters) {
    try {
      await h({ name: 'after', diagnostic: (m) => console.log(`# ${m}`) });
    } catch (e) {
      out.push({ name: 'after hook', ok: false, error: describeError(e), ms: 0 });
    }
  }
  return out;
}
