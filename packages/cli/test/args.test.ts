import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, UsageError, type FlagTable } from '../src/args.js';
import { Rng } from '../src/rng.js';

const T = {
  n: { type: 'int', default: 3, min: 1, help: '' },
  lr: { type: 'float', default: 0.1, positive: true, help: '' },
  mode: { type: 'string', default: 'a', choices: ['a', 'b'], help: '' },
  flag: { type: 'bool', help: '' },
} satisfies FlagTable;

test('parseFlags reads values, defaults and --flag=value', () => {
  const p = parseFlags('t', ['--n', '5', '--lr=0.5', '--flag'], T);
  assert.equal(p.n, 5);
  assert.equal(p.lr, 0.5);
  assert.equal(p.mode, 'a');
  assert.equal(p.flag, true);
  assert.ok(p.given.has('n') && !p.given.has('mode'));
  for (const [raw, value] of [
    ['1e3', 1000],
    ['+4', 4],
    ['.5', 0.5],
    ['2.', 2],
    ['1E-3', 0.001],
  ] as const) {
    assert.equal(parseFlags('t', ['--lr', raw], T).lr, value, raw);
  }
});

test('parseFlags rejects bad input with the flag named', () => {
  const bad: [string[], RegExp][] = [
    [['--n', '1.5'], /--n: expected an integer/],
    [['--n'], /--n: missing value/],
    [['--lr', '0'], /--lr: must be positive/],
    [['--mode', 'c'], /--mode: must be one of a\|b/],
    [['--flag=1'], /--flag: takes no value/],
    [['--n', '2', '--n', '3'], /--n: given more than once/],
    [['stray'], /unexpected argument 'stray'/],
    // Decimal numbers only: Number() would read these as 2, 3, 1 and 0.5.
    [['--n', '0x2'], /--n: expected a number, got '0x2'/],
    [['--n', '0b11'], /--n: expected a number, got '0b11'/],
    [['--n', ' 1'], /--n: expected a number, got ' 1'/],
    [['--lr', '0o1'], /--lr: expected a number, got '0o1'/],
    [['--lr', 'Infinity'], /--lr: expected a number/],
  ];
  for (const [argv, re] of bad) {
    assert.throws(
      () => parseFlags('t', argv, T),
      (e: Error) => e instanceof UsageError && re.test(e.message),
    );
  }
});

test('Rng is deterministic, resumable and uniform', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  for (let i = 0; i < 10; i++) assert.equal(a.nextUint32(), b.nextUint32());
  const state = a.getState();
  const next = [a.next(), a.next()];
  b.setState(state);
  assert.deepEqual([b.next(), b.next()], next);
  // Mean of 1e5 uniforms: sd of the mean is 0.29/316 ≈ 0.0009; allow 5 sd.
  let s = 0;
  for (let i = 0; i < 100000; i++) s += a.next();
  assert.ok(Math.abs(s / 100000 - 0.5) < 0.0045);
  // bernoulli() draws exactly what the next() loop draws, and leaves the same state.
  const p = Float32Array.from({ length: 1000 }, (_, i) => (i % 256) / 255);
  const viaNext = new Rng(5);
  const expected = Array.from(p.subarray(10, 990), (q) => (viaNext.next() < q ? 1 : 0));
  const fast = new Rng(5);
  const out = new Float32Array(990).fill(-1);
  fast.bernoulli(p, 10, 980, out, 10);
  assert.deepEqual(Array.from(out.subarray(10)), expected);
  assert.deepEqual(Array.from(out.subarray(0, 10)), new Array(10).fill(-1));
  assert.deepEqual(fast.getState(), viaNext.getState());
  const perm = new Rng(1).shuffle(Uint32Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(
    Array.from(perm).sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
});
