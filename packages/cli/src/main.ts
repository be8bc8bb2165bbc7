/**
 * The `zhusuan` command. Exit codes: 0 success, 2 usage error (with the
 * reason), 1 any other failure (with a one-line cause), 130/143 stopped by
 * SIGINT/SIGTERM (saying what was kept).
 */
import { formatHelp, UsageError, type FlagTable } from './args.js';
import { Interrupted } from './signals.js';
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
    usage: 'zhusuan eval --run DIR [--split test|valid] [--particles 1000] [--json]',
    summary: 'test ELBO and importance-sampling log-likelihood',
    flags: EVAL_FLAGS,
    run: evalCommand,
  },
  sample: {
    usage: 'zhusuan sample --run DIR [--n 100] [--out FILE.png] [--seed S]',
    summary: 'PNG grids of generations and reconstructions',
    flags: SAMPLE_FLAGS,
    run: sampleCommand,
  },
  report: {
    usage: 'zhusuan report --run DIR [--out report.pdf]',
    summary: 'build report.pdf (and its .tex) from a run',
    flags: REPORT_FLAGS,
    run: reportCommand,
  },
  serve: {
    usage: 'zhusuan serve --run DIR [--port 8000] [--host 127.0.0.1]',
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

function usage(): string {
  const lines = ['usage: zhusuan <command> [flags]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(11)} ${c.summary}`);
  lines.push('', "Run 'zhusuan <command> --help' for a command's flags.");
  return lines.join('\n');
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stderr.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`zhusuan: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stderr.write(`${formatHelp(command.usage, command.flags)}\n`);
    return 0;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`zhusuan ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof Interrupted) {
      process.stderr.write(`zhusuan ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    process.stderr.write(`zhusuan ${name}: ${e.message ?? String(err)}\n`);
    if (process.env.ZHUSUAN_DEBUG) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
