/**
 * The browser suite's stand-in for `node:assert/strict` passes and fails
 * exactly where Node's does, over the methods and the kinds of values the
 * library's tests use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import shim from './node_assert.js';

type Method = 'equal' | 'notEqual' | 'deepEqual' | 'notDeepEqual' | 'ok';

const PAIRS: [unknown, unknown][] = [
  [1, 1],
  [1, 2],
  [NaN, NaN],
  [0, -0],
  [-Infinity, -Infinity],
  ['a', 'a'],
  [
    [1, 2, 3],
    [1, 2, 3],
  ],
  [
    [1, 2, 3],
    [1, 2],
  ],
  [
    [1, [2, 3]],
    [1, [2, 4]],
  ],
  [[0], [-0]],
  [[NaN], [NaN]],
  [new Float32Array([1, 2]), new Float32Array([1, 2])],
  [new Float32Array([1, 2]), new Float32Array([1, 3])],
  [new Float32Array([1, 2]), new Int32Array([1, 2])],
  [new Float32Array([1, 2]), [1, 2]],
  [
    { a: 1, b: [2] },
    { a: 1, b: [2] },
  ],
  [
    { a: 1, b: [2] },
    { b: [2], a: 1 },
  ],
  [{ a: 1 }, { a: 1, b: undefined }],
  [{ a: 1 }, { a: '1' }],
  [null, undefined],
  [[1, 2], { 0: 1, 1: 2 }],
];

function throwsWith(f: () => void): boolean {
  try {
    f();
    return false;
  } catch {
    return true;
  }
}

test('equal, notEqual, deepEqual, notDeepEqual and ok agree with node:assert/strict', () => {
  const methods: Method[] = ['equal', 'notEqual', 'deepEqual', 'notDeepEqual'];
  for (const [a, b] of PAIRS) {
    for (const m of methods) {
      const node = throwsWith(() => (assert[m] as (x: unknown, y: unknown) => void)(a, b));
      const ours = throwsWith(() => (shim[m] as (x: unknown, y: unknown) => void)(a, b));
      assert.equal(
        ours,
        node,
        `${m}(${String(a)}, ${String(b)}): shim throws ${ours}, Node ${node}`,
      );
    }
  }
  for (const v of [0, 1, '', 'x', null, [], NaN]) {
    assert.equal(
      throwsWith(() => shim.ok(v)),
      throwsWith(() => assert.ok(v)),
      `ok(${String(v)})`,
    );
  }
});

test('throws and doesNotThrow agree with node:assert/strict', () => {
  const boom = () => {
    throw new RangeError('Normal: `std` must be positive');
  };
  const quiet = () => undefined;
  const cases: [() => unknown, unknown][] = [
    [boom, /std.*positive/],
    [boom, /logstd/],
    [boom, RangeError],
    [boom, TypeError],
    [boom, { name: 'RangeError' }],
    [boom, { message: /positive/ }],
    [boom, { message: 'other' }],
    [boom, (e: unknown) => e instanceof RangeError],
    [quiet, /anything/],
    [boom, undefined],
    [quiet, undefined],
  ];
  for (const [f, expected] of cases) {
    const args = expected === undefined ? [f] : [f, expected];
    const node = throwsWith(() => (assert.throws as (...a: unknown[]) => void)(...args));
    const ours = throwsWith(() => (shim.throws as (...a: unknown[]) => void)(...args));
    assert.equal(ours, node, `throws(${f === boom ? 'boom' : 'quiet'}, ${String(expected)})`);
  }
  for (const f of [boom, quiet]) {
    assert.equal(
      throwsWith(() => shim.doesNotThrow(f)),
      throwsWith(() => assert.doesNotThrow(f)),
    );
  }
  assert.throws(() => shim.equal(1, 2, 'custom message'), /^AssertionError: custom message$/);
});
