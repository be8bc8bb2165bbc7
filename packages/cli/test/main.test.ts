/**
 * The `zhusuan` command's own behaviour: help and --version on stdout with
 * exit 0, usage errors on stderr with exit 2 naming the command once,
 * suggestions for mistyped commands, flags and choices, and the run
 * directory as an argument. Through `main()` with stdout and stderr
 * captured (nothing here trains), and once through the real binary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main.js';
import { setCommandName } from '../src/signals.js';

const BIN = fileURLToPath(new URL('../../bin/zhusuan.js', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `main(argv)` with process.stdout and process.stderr captured. */
async function zhusuan(...argv: string[]): Promise<Ran> {
  const out = { stdout: '', stderr: '' };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  for (const stream of ['stdout', 'stderr'] as const) {
    process[stream].write = ((chunk: string | Uint8Array) => {
      out[stream] += String(chunk);
      return true;
    }) as typeof process.stdout.write;
  }
  try {
    const code = await main(argv);
    return { code, ...out };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
}

/** Asserts a usage error: exit 2, nothing on stdout, exactly `line` on stderr. */
function assertUsageError(r: Ran, line: string, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}, stderr ${r.stderr}`);
  assert.equal(r.stdout, '', what);
  assert.equal(r.stderr, `${line}\n`, what);
}

test('help goes to stdout with exit 0; `help CMD` and `CMD --help` print the same text', async () => {
  const general = await zhusuan('--help');
  assert.equal(general.code, 0);
  assert.equal(general.stderr, '');
  assert.match(general.stdout, /^usage: zhusuan <command> \[flags\]\n/);
  for (const name of [
    'train',
    'eval',
    'sample',
    'report',
    'serve',
    'bench',
    'results',
    'quickstart',
  ]) {
    assert.match(general.stdout, new RegExp(`^  ${name} +\\S`, 'm'), name);
  }
  assert.match(general.stdout, /zhusuan help <command>/);
  assert.match(general.stdout, /zhusuan --version/);
  assert.deepEqual(await zhusuan('-h'), general);
  assert.deepEqual(await zhusuan('help'), general);
  assert.deepEqual(await zhusuan('help', 'help'), general);

  for (const name of ['train', 'eval', 'sample', 'report', 'serve', 'bench', 'results']) {
    const viaHelp = await zhusuan('help', name);
    assert.equal(viaHelp.code, 0, name);
    assert.equal(viaHelp.stderr, '', name);
    assert.match(viaHelp.stdout, new RegExp(`^usage: zhusuan ${name}( |$)`, 'm'), name);
    assert.match(viaHelp.stdout, /\nflags:\n {2}/, name);
    for (const argv of [
      [name, '--help'],
      [name, '-h'],
      ['--help', name],
      // --help wins over anything else given, bad flags included.
      [name, '--no-such-flag', '--help'],
    ]) {
      assert.deepEqual(await zhusuan(...argv), viaHelp, argv.join(' '));
    }
  }
  const train = (await zhusuan('help', 'train')).stdout;
  assert.match(train, /^ {2}--epochs INT +epochs to train .*\(default 10\)$/m);
  assert.match(train, /^ {2}--objective elbo\|iwae\|vimco +training objective/m);
  assert.match(train, /^ {2}--run DIR +run directory \(default runs\/vae\)$/m);
  assert.match(train, /^ {2}--resume +continue the run/m);
  // Commands that take the run directory as their argument show it so.
  const ev = (await zhusuan('eval', '--help')).stdout;
  assert.match(ev, /^usage: zhusuan eval \[--run\] DIR /m);
  assert.match(
    ev,
    /^ {2}\[--run\] DIR +run directory \(required; may be given as the argument\)$/m,
  );
});

test('`zhusuan` alone prints the usage on stderr and exits 2', async () => {
  const r = await zhusuan();
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, (await zhusuan('help')).stdout);
});

test('--version prints the CLI package version on stdout', async () => {
  const { version } = JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { version: string };
  assert.match(version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(await zhusuan('--version'), {
    code: 0,
    stdout: `zhusuan ${version}\n`,
    stderr: '',
  });
  assertUsageError(
    await zhusuan('--version', 'train'),
    'zhusuan: --version takes no arguments, got train',
    '--version train',
  );
});

test('mistyped commands and top-level flags get a suggestion, exit 2', async () => {
  const cases: [string[], string][] = [
    [['trian'], "zhusuan: unknown command 'trian' (did you mean 'train'?)"],
    [['evl'], "zhusuan: unknown command 'evl' (did you mean 'eval'?)"],
    [['serv'], "zhusuan: unknown command 'serv' (did you mean 'serve'?)"],
    [['hlep'], "zhusuan: unknown command 'hlep' (did you mean 'help'?)"],
    [['quick'], "zhusuan: unknown command 'quick' (did you mean 'quickstart'?)"],
    [['frobnicate'], "zhusuan: unknown command 'frobnicate' (run 'zhusuan help' for the commands)"],
    [['help', 'smaple'], "zhusuan: unknown command 'smaple' (did you mean 'sample'?)"],
    [['help', 'train', 'eval'], 'zhusuan: help takes one command, got train eval'],
    [['--versoin'], 'zhusuan: unknown flag --versoin (did you mean --version?)'],
    [['--hepl'], 'zhusuan: unknown flag --hepl (did you mean --help?)'],
    [
      ['--epochs', '3'],
      'zhusuan: unknown flag --epochs (a command comes first: zhusuan <command> [flags])',
    ],
  ];
  for (const [argv, line] of cases) assertUsageError(await zhusuan(...argv), line, argv.join(' '));
});

test('mistyped flags and values: one line naming the command once, with a suggestion', async () => {
  const cases: [string[], string][] = [
    [['train', '--epoch', '3'], 'zhusuan train: unknown flag --epoch (did you mean --epochs?)'],
    [
      ['train', '--batchsize', '64'],
      'zhusuan train: unknown flag --batchsize (did you mean --batch-size?)',
    ],
    [['train', '--zdim', '2'], 'zhusuan train: unknown flag --zdim (did you mean --z-dim?)'],
    [['train', '--seeed=2'], 'zhusuan train: unknown flag --seeed (did you mean --seed?)'],
    [
      ['train', '--lr-d', '2'],
      'zhusuan train: unknown flag --lr-d (did you mean --lr-decay or --lr-decay-every?)',
    ],
    [['train', '--bogus'], "zhusuan train: unknown flag --bogus (see 'zhusuan train --help')"],
    [
      ['train', '-epochs', '3'],
      'zhusuan train: unknown flag -epochs (flags start with --; did you mean --epochs?)',
    ],
    [['eval', '-x'], 'zhusuan eval: unknown flag -x (flags start with --)'],
    [['bench', '--jsn'], 'zhusuan bench: unknown flag --jsn (did you mean --json?)'],
    [
      ['train', '--objective', 'iwea'],
      "zhusuan train: --objective: must be one of elbo|iwae|vimco, got 'iwea' (did you mean iwae?)",
    ],
    [
      ['eval', 'runs/x', '--backend', 'natve'],
      "zhusuan eval: --backend: must be one of auto|native|wasm|cpu, got 'natve' (did you mean native?)",
    ],
    [
      ['train', '--objective', 'mle'],
      "zhusuan train: --objective: must be one of elbo|iwae|vimco, got 'mle'",
    ],
    [['train', '--epochs', 'ten'], "zhusuan train: --epochs: expected a number, got 'ten'"],
    [['sample', '--n', '0'], 'zhusuan sample: --n: must be at least 1, got 0'],
    [
      ['train', 'epochs', '3'],
      "zhusuan train: unexpected argument 'epochs' (did you mean --epochs?)",
    ],
    [['eval'], 'zhusuan eval: --run is required'],
  ];
  for (const [argv, line] of cases) assertUsageError(await zhusuan(...argv), line, argv.join(' '));
});

test('a run directory as the argument: taken by eval/sample/report/serve, hinted by train', async () => {
  const missing = '/nonexistent/zs-run';
  // Taken as --run: the same error as --run gives, for each command.
  for (const name of ['eval', 'sample', 'report', 'serve']) {
    const positional = await zhusuan(name, missing);
    const flag = await zhusuan(name, '--run', missing);
    assertUsageError(
      positional,
      `zhusuan ${name}: --run: directory ${missing} does not exist`,
      `${name} DIR`,
    );
    assert.deepEqual(positional, flag, name);
    // After the flags, and after `--` (a directory whose name starts with -).
    assert.deepEqual(await zhusuan(name, '--', missing), flag, `${name} -- DIR`);
  }
  const cases: [string[], string][] = [
    [['sample', '--n', '4', missing], `zhusuan sample: --run: directory ${missing} does not exist`],
    [['eval', '--', '-odd'], 'zhusuan eval: --run: directory -odd does not exist'],
    // Both ways at once, or two directories: an error saying which.
    [
      ['eval', 'runs/a', '--run', 'runs/b'],
      "zhusuan eval: --run: given twice, as the argument 'runs/a' and as --run runs/b; give one",
    ],
    [
      ['report', 'runs/a', 'runs/b'],
      "zhusuan report: unexpected argument 'runs/b' ('runs/a' is already the --run value; other values go after their flags)",
    ],
    // train would create the directory a stray word names: it hints instead.
    [
      ['train', 'runs/x', '--epochs', '1'],
      "zhusuan train: unexpected argument 'runs/x' (did you mean --run runs/x?)",
    ],
    [
      ['quickstart', 'runs/q'],
      "zhusuan quickstart: unexpected argument 'runs/q' (did you mean --run runs/q?)",
    ],
    [
      ['results', 'some/dir'],
      "zhusuan results: unexpected argument 'some/dir' (did you mean --dir some/dir?)",
    ],
    [['bench', 'x'], "zhusuan bench: unexpected argument 'x' (flags start with --)"],
  ];
  for (const [argv, line] of cases) assertUsageError(await zhusuan(...argv), line, argv.join(' '));
});

test('errors from inside a command name it once; the signal messages name the command run', async () => {
  const dir = fs.mkdtempSync('/tmp/zs-main-');
  try {
    // A run directory without config.json: thrown by the run-file reader.
    assertUsageError(
      await zhusuan('eval', dir),
      `zhusuan eval: --run: ${dir}/config.json not found (is ${dir} a run directory made by 'zhusuan train'?)`,
      'eval on an empty directory',
    );
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
  // main names the command for the signal handlers while it runs, and forgets it after.
  const { onStopSignals } = await import('../src/signals.js');
  const said: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((c: string) => said.push(c) > 0) as typeof process.stderr.write;
  try {
    setCommandName('quickstart');
    const stop = onStopSignals(() => 'unused');
    process.emit('SIGINT');
    stop.dispose();
    setCommandName(undefined);
    const stop2 = onStopSignals(() => 'unused');
    process.emit('SIGTERM');
    stop2.dispose();
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(said, [
    '\nzhusuan quickstart: SIGINT received; stopping after the current step (Ctrl-C again stops at once)\n',
    '\nzhusuan: SIGTERM received; stopping after the current step (the signal again stops at once)\n',
  ]);
});

test('the binary: help and --version on stdout with exit 0, usage errors exit 2', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  const help = run('help', 'train');
  assert.equal(help.status, 0, help.stderr);
  assert.equal(help.stderr, '');
  assert.match(help.stdout, /^usage: zhusuan train /);
  assert.equal(run('train', '--help').stdout, help.stdout);
  const version = run('--version');
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^zhusuan \d+\.\d+\.\d+\S*\n$/);
  const bad = run('train', '--epoch', '3');
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, '');
  assert.equal(bad.stderr, 'zhusuan train: unknown flag --epoch (did you mean --epochs?)\n');
  const none = run();
  assert.equal(none.status, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^usage: zhusuan <command>/);
});
