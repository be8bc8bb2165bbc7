/**
 * The part of `node:assert/strict` the library's tests use, for the browser
 * suite: the bundler maps `node:assert/strict` here. Same semantics as Node's
 * strict mode: `equal` is `Object.is`, `deepEqual` is a deep strict
 * comparison (same prototypes, own enumerable keys, typed arrays element by
 * element), `throws` matches a RegExp against `String(error)`, a class by
 * `instanceof`, a validation function by its result, or an object key by key.
 */

/** Thrown by a failed assertion (Node's `assert.AssertionError`). */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const a = Array.from(v as unknown as ArrayLike<number>, (x) => String(x));
    return `${v.constructor.name}(${a.length}) [${a.slice(0, 20).join(', ')}${a.length > 20 ? ', …' : ''}]`;
  }
  try {
    // JSON has no ±Infinity or NaN: write them as JavaScript does.
    const s = JSON.stringify(v, (_, x: unknown) =>
      typeof x === 'number' && !Number.isFinite(x) ? `<${x}>` : x,
    )?.replace(/"<(-?Infinity|NaN)>"/g, '$1');
    return s === undefined ? String(v) : s.length > 300 ? `${s.slice(0, 300)}…` : s;
  } catch {
    return String(v);
  }
}

function fail(message: string | Error | undefined, fallback: string): never {
  if (message instanceof Error) throw message;
  throw new AssertionError(message ?? fallback);
}

/** Node's isDeepStrictEqual for the values tests compare. */
export function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof RegExp) return String(a) === String(b);
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    for (const [k, v] of a) if (!m.has(k) || !isDeepStrictEqual(v, m.get(k))) return false;
    return true;
  }
  if (a instanceof Set) {
    const s = b as Set<unknown>;
    if (a.size !== s.size) return false;
    for (const v of a) if (!s.has(v)) return false;
    return true;
  }
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  const ra = a as Record<string, unknown>;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!isDeepStrictEqual(ra[k], rb[k])) return false;
  }
  return true;
}

type Expected = RegExp | ((e: unknown) => boolean) | (new (...args: never[]) => unknown) | object;

function matches(error: unknown, expected: Expected): boolean {
  if (expected instanceof RegExp) return expected.test(String(error));
  if (typeof expected === 'function') {
    const proto = (expected as { prototype?: unknown }).prototype;
    if (proto !== undefined && error instanceof (expected as new () => unknown)) return true;
    if (Object.prototype.isPrototypeOf.call(Error, expected)) return false;
    return (expected as (e: unknown) => unknown)(error) === true;
  }
  const e = error as Record<string, unknown>;
  for (const [k, v] of Object.entries(expected)) {
    if (v instanceof RegExp && typeof e?.[k] === 'string') {
      if (!v.test(e[k] as string)) return false;
    } else if (!isDeepStrictEqual(e?.[k], v)) {
      return false;
    }
  }
  return true;
}

function ok(value: unknown, message?: string | Error): asserts value {
  if (!value) fail(message, `The expression evaluated to a falsy value: ${show(value)}`);
}

const assert = Object.assign(ok, {
  AssertionError,
  ok,
  equal(actual: unknown, expected: unknown, message?: string | Error): void {
    if (!Object.is(actual, expected)) {
      fail(message, `Expected values to be strictly equal: ${show(actual)} !== ${show(expected)}`);
    }
  },
  notEqual(actual: unknown, expected: unknown, message?: string | Error): void {
    if (Object.is(actual, expected)) {
      fail(message, `Expected "actual" to be strictly unequal to: ${show(expected)}`);
    }
  },
  deepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
    if (!isDeepStrictEqual(actual, expected)) {
      fail(
        message,
        `Expected values to be strictly deep-equal:\nactual   ${show(actual)}\nexpected ${show(expected)}`,
      );
    }
  },
  notDeepEqual(actual: unknown, expected: unknown, message?: string | Error): void {
    if (isDeepStrictEqual(actual, expected)) {
      fail(message, `Expected "actual" not to be strictly deep-equal to: ${show(expected)}`);
    }
  },
  throws(fn: () => unknown, expected?: Expected | string, message?: string | Error): void {
    if (typeof expected === 'string') {
      message = expected;
      expected = undefined;
    }
    let threw = false;
    let error: unknown;
    try {
      fn();
    } catch (e) {
      threw = true;
      error = e;
    }
    if (!threw) fail(message, 'Missing expected exception.');
    if (expected !== undefined && !matches(error, expected)) {
      fail(message, `The error did not match ${String(expected)}: ${String(error)}`);
    }
  },
  doesNotThrow(fn: () => unknown, message?: string | Error): void {
    try {
      fn();
    } catch (e) {
      fail(message, `Got unwanted exception: ${String(e)}`);
    }
  },
});

export default assert;
