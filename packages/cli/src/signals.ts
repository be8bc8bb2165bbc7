/**
 * SIGINT and SIGTERM for the long commands (`train`, `eval`): the first
 * signal asks the work to stop at its next safe point (after the current
 * step or image batch), the second stops at once. Either way the command
 * says where it stopped and exits with 128 + the signal's number, as a shell
 * reports a process a signal ended.
 */

/** Exit codes of the signals handled, 128 + their numbers. */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** A signal the long commands stop on. */
export type StopSignal = keyof typeof EXIT_CODES;

/**
 * Work stopped by a signal; `main` prints the message and exits with
 * {@link exitCode} (130 for SIGINT, 143 for SIGTERM).
 */
export class Interrupted extends Error {
  override name = 'Interrupted';
  constructor(
    message: string,
    readonly signal: StopSignal,
  ) {
    super(message);
  }

  /** 128 + the signal's number. */
  get exitCode(): number {
    return EXIT_CODES[this.signal];
  }
}

/** The command `main` runs, for the handlers' messages (a nested `train` in `quickstart` says `quickstart`). */
let commandName: string | undefined;

/**
 * Names the command `main` is running (`undefined` when it is done), so that
 * the signal messages name it as every error does: `zhusuan <command>: `.
 */
export function setCommandName(name: string | undefined): void {
  commandName = name;
}

/** The handlers of {@link onStopSignals}: an AbortSignal for the work, and their removal. */
export interface StopSignals {
  /** Aborted on the first SIGINT or SIGTERM; its reason is the signal's name. */
  signal: AbortSignal;
  /** Removes the handlers (the default behaviour returns). */
  dispose(): void;
}

/**
 * Installs SIGINT/SIGTERM handlers for a long command. The first signal
 * aborts `signal` and says so on stderr; the second exits at once after
 * `onSecond` has said what is safe. The work must yield to the event loop
 * now and then for either to run.
 * The messages name the command {@link setCommandName} was given.
 * @param onSecond the line printed before exiting on a second signal.
 */
export function onStopSignals(onSecond: () => string): StopSignals {
  const controller = new AbortController();
  const handler = (sig: StopSignal) => {
    const prefix = commandName === undefined ? 'zhusuan' : `zhusuan ${commandName}`;
    if (!controller.signal.aborted) {
      process.stderr.write(
        `\n${prefix}: ${sig} received; stopping after the current step (${sig === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again stops at once)\n`,
      );
      controller.abort(sig);
      return;
    }
    process.stderr.write(`${prefix}: ${onSecond()}\n`);
    process.exit(EXIT_CODES[sig]);
  };
  const onInt = () => handler('SIGINT');
  const onTerm = () => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

/** Lets pending signal handlers (and other events) run between steps of synchronous work. */
export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
