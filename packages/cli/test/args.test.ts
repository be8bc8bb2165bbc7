import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  didYouMean,
  editDistance,
  parseFlags,
  suggest,
  UsageError,
  type FlagTable,
} from '../src/args.js';
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

test('editDistance counts insertions, deletions, substitutions and adjacent swaps', () => {
  const cases: [string, string, number][] = [
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['train', 'train', 0],
    ['trian', 'train', 1], // one swap
    ['epoch', 'epochs', 1],
    ['batchsize', 'batch-size', 1],
    ['seeed', 'seed', 1],
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3], // optimal string alignment: no edit of a swapped pair
    ['abcd', 'badc', 2],
  ];
  for (const [a, b, d] of cases) {
    assert.equal(editDistance(a, b), d, `${a} -> ${b}`);
    assert.equal(editDistance(b, a), d, `${b} -> ${a}`);
  }
});

test('suggest: a prefix of at most 3, else the closest within distance 2 (1 when short)', () => {
  const flags = ['epochs', 'lr', 'lr-decay', 'lr-decay-every', 'n', 'seed', 'sample-every'];
  assert.deepEqual(suggest('epoch', flags), ['epochs']);
  assert.deepEqual(suggest('ep', flags), ['epochs']);
  assert.deepEqual(suggest('lr-d', flags), ['lr-decay', 'lr-decay-every']);
  assert.deepEqual(suggest('lr-d', flags, false), ['lr']);
  assert.deepEqual(suggest('e', ['epochs', 'seed']), []); // one letter is no prefix
  assert.deepEqual(suggest('e', flags), ['n']); // but 1 from another letter
  assert.deepEqual(suggest('x', flags), ['n']);
  assert.deepEqual(suggest('nn', flags), ['n']);
  assert.deepEqual(suggest('lt', flags), ['lr']);
  assert.deepEqual(suggest('abc', flags), []); // 'n' is 3 away, more than 1
  assert.deepEqual(suggest('sede', flags), ['seed']);
  assert.deepEqual(suggest('smaple-evry', flags), ['sample-every']);
  assert.deepEqual(suggest('bogus', flags), []);
  assert.deepEqual(suggest('ab', ['ac', 'ad', 'xyz']), ['ac', 'ad']);
  assert.equal(
    didYouMean('epoch', flags, (c) => `--${c}`),
    'did you mean --epochs?',
  );
  assert.equal(didYouMean('ab', ['ac', 'ad', 'ae']), 'did you mean ac, ad or ae?');
  assert.equal(didYouMean('bogus', flags), undefined);
});

test('parseFlags: a positional argument, --, and suggestions in its errors', () => {
  const P = {
    run: { type: 'string', positional: 'accept', help: '' },
    n: { type: 'int', default: 1, help: '' },
    json: { type: 'bool', help: '' },
  } satisfies FlagTable;
  const a = parseFlags('t', ['dir', '--n', '2'], P);
  assert.equal(a.run, 'dir');
  assert.ok(a.given.has('run'));
  assert.equal(parseFlags('t', ['--n', '2', 'dir', '--json'], P).run, 'dir');
  assert.equal(parseFlags('t', ['--run=dir'], P).run, 'dir');
  assert.equal(parseFlags('t', ['--', '--json'], P).run, '--json');
  assert.equal(parseFlags('t', ['--json', '--', '-'], P).run, '-');
  assert.equal(parseFlags('t', [], P).run, undefined);
  const H = {
    run: { type: 'string', default: 'r', positional: 'hint', help: '' },
    json: { type: 'bool', help: '' },
  } satisfies FlagTable;
  const bad: [string[], FlagTable, string][] = [
    [['a', '--run', 'b'], P, "--run: given twice, as the argument 'a' and as --run b; give one"],
    [
      ['a', 'dir2'],
      P,
      "unexpected argument 'dir2' ('a' is already the --run value; other values go after their flags)",
    ],
    [['a', 'jsno'], P, "unexpected argument 'jsno' (did you mean --json?)"],
    [['--', ''], P, '--run: empty value'],
    [['dir'], H, "unexpected argument 'dir' (did you mean --run dir?)"],
    [['dir'], T, "unexpected argument 'dir' (flags start with --)"],
    [['--jsn'], P, 'unknown flag --jsn (did you mean --json?)'],
    [['--zzz'], P, "unknown flag --zzz (see 'zhusuan t --help')"],
    [['-n', '2'], P, 'unknown flag -n (flags start with --; did you mean --n?)'],
    [['--mode', 'bb'], T, "--mode: must be one of a|b, got 'bb' (did you mean b?)"],
  ];
  for (const [argv, table, message] of bad) {
    assert.throws(
      () => parseFlags('t', argv, table),
      (e: Error) => e instanceof UsageError && e.message === message,
      argv.join(' '),
    );
  }
  const two = {
    a: { type: 'string', positional: 'accept', help: '' },
    b: { type: 'string', positional: 'hint', help: '' },
  } satisfies FlagTable;
  assert.throws(() => parseFlags('t', [], two), /--a and --b both declare positional/);
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
