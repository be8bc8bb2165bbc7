/**
 * The `zhusuan` command. Exit codes: 0 success, 2 usage error (with the
 * reason), 1 any other failure (with a one-line cause), 130/143 stopped by
 * SIGINT/SIGTERM (saying what was kept).
 *
 * `zhusuan help [CMD]`, `zhusuan --help`, `zhusuan CMD --help` and
 * `zhusuan --version` print on stdout and exit 0; `zhusuan` alone prints the
 * commands on stderr and exits 2, as any other usage error. Every error is
 * one line on stderr naming the command once: `zhusuan train: <reason>`
 * (`zhusuan: <reason>` before a command is known).
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { didYouMean, formatHelp, UsageError, type FlagTable } from './args.js';
import { Interrupted, setCommandName } from './signals.js';
import { trainCommand } from './commands/train.js';
import { TRAIN_FLAGS } from './vae/config.js';
import { evalCommand, EVAL_FLAGS } from './commands/eval.js';
import { sampleCommand, SAMPLE_FLAGS } from './commands/sample.js';
import { quickstartCommand, QUICKSTART_FLAGS } from './commands/quickstart.js';
import { benchCommand, BENCH_FLAGS } from './commands/bench.js';
import { reportCommand, REPORT_FLAGS } from './commands/report.js';
import { resultsCommand, RESULTS_FLAGS } from './commands/results.js';
import { serveCommand, SERVE_FLAGS } from './commands/serve.js';

interface Command {
  usage: string;
  summary: string;
  flags: FlagTable;
  run(argv: string[]): Promise<unknown>;
}

const COMMANDS: Record<string, Command> = {
  train: {
    usage: 'zhusuan train [--run DIR] [--dataset mnist|PATH] [--epochs N] ... [--resume]',
    summary: 'train the VAE into a run directory',
    flags: TRAIN_FLAGS,
    run: trainCommand,
  },
  eval: {
    usage: 'zhusuan eval [--run] DIR [--split test|valid] [--particles 1000] [--json]',
    summary: 'test ELBO and importance-sampling log-likelihood',
    flags: EVAL_FLAGS,
    run: evalCommand,
  },
  sample: {
    usage: 'zhusuan sample [--run] DIR [--n 100] [--out FILE.png] [--seed S]',
    summary: 'PNG grids of generations and reconstructions',
    flags: SAMPLE_FLAGS,
    run: sampleCommand,
  },
  report: {
    usage: 'zhusuan report [--run] DIR [--out report.pdf]',
    summary: 'build report.pdf (and its .tex) from a run',
    flags: REPORT_FLAGS,
    run: reportCommand,
  },
  serve: {
    usage: 'zhusuan serve [--run] DIR [--port 8000] [--host 127.0.0.1]',
    summary: 'a local web page to explore a run (decoded in the browser)',
    flags: SERVE_FLAGS,
    run: serveCommand,
  },
  bench: {
    usage: 'zhusuan bench [--model NAME|all | --sweep batch|hidden|particles|all] [--json]',
    summary: 'training and evaluation throughput of the backends',
    flags: BENCH_FLAGS,
    run: benchCommand,
  },
  results: {
    usage: 'zhusuan results [--dir results] [--readme README.md]',
    summary: 'the results table of the shipped runs, from their files',
    flags: RESULTS_FLAGS,
    run: resultsCommand,
  },
  quickstart: {
    usage: 'zhusuan quickstart [--run DIR]',
    summary: 'train, evaluate and sample in one go (what `npm start` runs)',
    flags: QUICKSTART_FLAGS,
    run: quickstartCommand,
  },
};

/** The general help: the commands and how to get more. */
function usage(): string {
  const lines = ['usage: zhusuan <command> [flags]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(11)} ${c.summary}`);
  lines.push(
    '',
    "Run 'zhusuan help <command>' (or 'zhusuan <command> --help') for a command's flags,",
    "'zhusuan --version' for the version.",
  );
  return lines.join('\n');
}

/** A command's help: its usage, what it does, and its flags. */
function commandHelp(name: string): string {
  const c = COMMANDS[name];
  const [first, ...flags] = formatHelp(c.usage, c.flags).split('\n');
  return [first, '', `${c.summary}.`, '', 'flags:', ...flags.slice(1)].join('\n');
}

/** `packages/cli/package.json`'s version, read where this module lies. */
export function cliVersion(): string {
  // dist/src/main.js -> the package's root, wherever it is installed.
  const file = fileURLToPath(new URL('../../package.json', import.meta.url));
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error(`${file}: no "version" string`);
  return pkg.version;
}

/** The command `name` names, or a UsageError suggesting the one meant. */
function lookUp(name: string): Command {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command !== undefined) return command;
  const meant = didYouMean(name, [...Object.keys(COMMANDS), 'help'], (c) => `'${c}'`);
  throw new UsageError(
    `unknown command '${name}' (${meant ?? "run 'zhusuan help' for the commands"})`,
  );
}

/** Whether `args` ask for help (before any `--`). */
function asksHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** What `main` does before a command runs: help, version, or which command. */
function dispatch(argv: string[]): { print: string } | { name: string; command: Command } {
  const [first, ...rest] = argv;
  if (first === 'help' || first === '--help' || first === '-h') {
    if (rest.length > 1) throw new UsageError(`help takes one command, got ${rest.join(' ')}`);
    if (rest.length === 0 || rest[0] === 'help') return { print: usage() };
    lookUp(rest[0]);
    return { print: commandHelp(rest[0]) };
  }
  if (first === '--version') {
    if (rest.length > 0)
      throw new UsageError(`--version takes no arguments, got ${rest.join(' ')}`);
    return { print: `zhusuan ${cliVersion()}` };
  }
  if (first.startsWith('-')) {
    const meant = didYouMean(first.replace(/^-+/, ''), ['help', 'version'], (c) => `--${c}`);
    throw new UsageError(
      `unknown flag ${first} (${meant ?? 'a command comes first: zhusuan <command> [flags]'})`,
    );
  }
  const command = lookUp(first);
  if (asksHelp(rest)) return { print: commandHelp(first) };
  return { name: first, command };
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    process.stderr.write(`${usage()}\n`);
    return 2;
  }
  let name: string | undefined;
  try {
    const what = dispatch(argv);
    if ('print' in what) {
      process.stdout.write(`${what.print}\n`);
      return 0;
    }
    name = what.name;
    setCommandName(name);
    await what.command.run(argv.slice(1));
    return 0;
  } catch (err) {
    const e = err as Error;
    const prefix = name === undefined ? 'zhusuan' : `zhusuan ${name}`;
    process.stderr.write(`${prefix}: ${e?.message ?? String(err)}\n`);
    if (err instanceof UsageError) return 2;
    if (err instanceof Interrupted) return err.exitCode;
    if (process.env.ZHUSUAN_DEBUG) process.stderr.write(`${e.stack}\n`);
    return 1;
  } finally {
    setCommandName(undefined);
  }
}
