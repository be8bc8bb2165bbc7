/**
 * A small, strict command-line parser: every flag is declared with its type,
 * unknown flags and bad values are usage errors (exit code 2) that name the
 * flag and the reason, with a "did you mean" for a mistyped flag or choice.
 *
 * Why not Node's `util.parseArgs`: it knows strings and booleans only, so
 * every integer, float, range and choice would still be checked here; it
 * lets a repeated flag silently win (`multiple: false`) where we refuse it;
 * and its unknown-option error cannot suggest the flag meant. Wrapping it
 * would keep all of this module's checks and add a translation of its
 * errors, so the loop below stays: `--flag value`, `--flag=value`, booleans
 * without a value, at most one positional argument where a flag declares
 * `positional: 'accept'`, and `--` ending the flags.
 *
 * Messages never name the command: `main` prefixes `zhusuan <command>: `
 * once to every error a command throws.
 */

/** A usage error: bad flag, bad value, missing argument. The CLI exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Declaration of one flag. */
export type FlagSpec =
  | {
      type: 'string';
      default?: string;
      choices?: readonly string[];
      /** The value's name in the help (`DIR`); default `STRING`, or the choices. */
      metavar?: string;
      /**
       * A bare argument (not starting with `-`): `'accept'` takes it as this
       * flag's value (`zhusuan eval runs/x` is `--run runs/x`; giving both is
       * an error); `'hint'` refuses it, suggesting `--flag ARG`. At most one
       * flag of a table sets this.
       */
      positional?: 'accept' | 'hint';
      help: string;
    }
  | {
      type: 'int';
      default?: number;
      min?: number;
      max?: number;
      help: string;
    }
  | { type: 'float'; default?: number; min?: number; positive?: boolean; help: string }
  | { type: 'bool'; help: string };

/** A table of flags, keyed by the flag's name without dashes (`batch-size`). */
export type FlagTable = Record<string, FlagSpec>;

type ValueOf<S extends FlagSpec> = S extends { type: 'string' }
  ? string
  : S extends { type: 'bool' }
    ? boolean
    : number;

/** The parsed values; flags without a default and not given are `undefined`. */
export type Parsed<T extends FlagTable> = { [K in keyof T]: ValueOf<T[K]> | undefined } & {
  /** Flags that were given explicitly on the command line (or as the positional argument). */
  readonly given: ReadonlySet<string>;
};

/**
 * Optimal-string-alignment distance: the fewest insertions, deletions,
 * substitutions and swaps of two adjacent characters turning `a` into `b`
 * (`trian` → `train` is 1).
 */
export function editDistance(a: string, b: string): number {
  // d[i][j]: distance between a's first i and b's first j characters.
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidates `input` was probably meant to be: those it is a prefix of,
 * when 1 to 3 are and `input` has at least 2 characters (and `prefix` is
 * true); else those at the smallest {@link editDistance}, when that is at most 2 (at
 * most 1 for inputs of 3 characters or fewer). Empty when nothing is close.
 * @example suggest('epoch', ['epochs', 'lr']) // ['epochs']
 */
export function suggest(input: string, candidates: readonly string[], prefix = true): string[] {
  const prefixed = candidates.filter((c) => c.startsWith(input));
  if (prefix && input.length >= 2 && prefixed.length > 0 && prefixed.length <= 3) return prefixed;
  const limit = input.length <= 3 ? 1 : 2;
  let best = limit;
  let out: string[] = [];
  for (const c of candidates) {
    const dist = editDistance(input, c);
    if (dist < best) [best, out] = [dist, [c]];
    else if (dist === best) out.push(c);
  }
  return out;
}

/**
 * `did you mean X?` for the {@link suggest}ions of `input`, each written by
 * `show` (`prefix` as for {@link suggest}); `undefined` when there are none.
 * @example didYouMean('epoch', ['epochs', 'lr'], (c) => `--${c}`) // 'did you mean --epochs?'
 */
export function didYouMean(
  input: string,
  candidates: readonly string[],
  show: (c: string) => string = (c) => c,
  prefix = true,
): string | undefined {
  const s = suggest(input, candidates, prefix).map(show);
  if (s.length === 0) return undefined;
  const list = s.length === 1 ? s[0] : `${s.slice(0, -1).join(', ')} or ${s[s.length - 1]}`;
  return `did you mean ${list}?`;
}

/** ` (a; b)` of the notes given, or nothing when none is. */
function notes(...parts: (string | undefined)[]): string {
  const given = parts.filter((p) => p !== undefined);
  return given.length === 0 ? '' : ` (${given.join('; ')})`;
}

const asFlag = (name: string) => `--${name}`;

/** A decimal number: `12`, `-0.5`, `1e-3`; not `0x2`, `0b1`, ` 1`, `Infinity`. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseNumber(flag: string, spec: FlagSpec, raw: string): number {
  const value = Number(raw);
  if (!DECIMAL.test(raw) || !Number.isFinite(value)) {
    throw new UsageError(`--${flag}: expected a number, got '${raw}'`);
  }
  if (spec.type === 'int') {
    if (!Number.isInteger(value)) {
      throw new UsageError(`--${flag}: expected an integer, got '${raw}'`);
    }
    if (spec.min !== undefined && value < spec.min) {
      throw new UsageError(`--${flag}: must be at least ${spec.min}, got ${value}`);
    }
    if (spec.max !== undefined && value > spec.max) {
      throw new UsageError(`--${flag}: must be at most ${spec.max}, got ${value}`);
    }
  }
  if (spec.type === 'float') {
    if (spec.positive && !(value > 0)) {
      throw new UsageError(`--${flag}: must be positive, got ${value}`);
    }
    if (spec.min !== undefined && value < spec.min) {
      throw new UsageError(`--${flag}: must be at least ${spec.min}, got ${value}`);
    }
  }
  return value;
}

/** A string flag's value, checked against its choices. */
function parseString(flag: string, spec: FlagSpec & { type: 'string' }, raw: string): string {
  if (raw === '') {
    throw new UsageError(`--${flag}: empty value`);
  }
  if (spec.choices && !spec.choices.includes(raw)) {
    throw new UsageError(
      `--${flag}: must be one of ${spec.choices.join('|')}, got '${raw}'${notes(didYouMean(raw, spec.choices))}`,
    );
  }
  return raw;
}

/** The flag of `table` that declares `positional`, if any. */
function positionalFlag(table: FlagTable): [string, 'accept' | 'hint'] | undefined {
  const found = Object.entries(table).flatMap(([name, spec]) =>
    spec.type === 'string' && spec.positional ? [[name, spec.positional] as const] : [],
  );
  if (found.length > 1) {
    throw new Error(`flag table: --${found[0][0]} and --${found[1][0]} both declare positional`);
  }
  return found[0] === undefined ? undefined : [found[0][0], found[0][1]];
}

/**
 * Parses `argv` (without the command name) against `table`.
 * Accepts `--flag value` and `--flag=value`; booleans take no value; `--`
 * ends the flags (what follows is positional). A bare argument is the value
 * of the flag declaring `positional: 'accept'`, if any.
 * @param command the command's name, for the pointer to its `--help`.
 * @throws UsageError naming the flag or argument at fault, with a suggestion
 *   for a mistyped flag or choice.
 */
export function parseFlags<T extends FlagTable>(
  command: string,
  argv: string[],
  table: T,
): Parsed<T> {
  const out: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const [name, spec] of Object.entries(table)) {
    out[name] = spec.type === 'bool' ? false : spec.default;
  }
  const names = Object.keys(table);
  const positional = positionalFlag(table);
  let bare: string | undefined;
  let flagsEnded = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--' && !flagsEnded) {
      flagsEnded = true;
      continue;
    }
    if (flagsEnded || !arg.startsWith('-') || arg === '-') {
      if (positional?.[1] === 'accept' && bare === undefined) {
        bare = arg;
        continue;
      }
      throw new UsageError(
        `unexpected argument '${arg}'${unexpectedHint(arg, names, bare, positional)}`,
      );
    }
    if (!arg.startsWith('--')) {
      const name = arg.slice(1).split('=')[0];
      throw new UsageError(
        `unknown flag ${arg}${notes('flags start with --', didYouMean(name, names, asFlag))}`,
      );
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = table[name];
    if (spec === undefined) {
      const hint = didYouMean(name, names, asFlag) ?? `see 'zhusuan ${command} --help'`;
      throw new UsageError(`unknown flag --${name}${notes(hint)}`);
    }
    if (given.has(name)) {
      throw new UsageError(`--${name}: given more than once`);
    }
    given.add(name);
    if (spec.type === 'bool') {
      if (eq >= 0) {
        throw new UsageError(`--${name}: takes no value`);
      }
      out[name] = true;
      continue;
    }
    let raw: string;
    if (eq >= 0) {
      raw = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) {
        throw new UsageError(`--${name}: missing value`);
      }
      raw = argv[++i];
    }
    out[name] =
      spec.type === 'string' ? parseString(name, spec, raw) : parseNumber(name, spec, raw);
  }
  if (positional !== undefined && bare !== undefined) {
    const [name] = positional;
    if (given.has(name)) {
      throw new UsageError(
        `--${name}: given twice, as the argument '${bare}' and as --${name} ${String(out[name])}; give one`,
      );
    }
    given.add(name);
    out[name] = parseString(name, table[name] as FlagSpec & { type: 'string' }, bare);
  }
  return Object.assign(out, { given }) as Parsed<T>;
}

/** Why a bare argument is refused, and what to write instead. */
function unexpectedHint(
  arg: string,
  names: string[],
  bare: string | undefined,
  positional: [string, 'accept' | 'hint'] | undefined,
): string {
  // A bare word is a flag without its dashes only when close to the whole name.
  const flag = didYouMean(arg, names, asFlag, false);
  if (flag !== undefined) return notes(flag);
  if (positional === undefined) return notes('flags start with --');
  const [name, how] = positional;
  return how === 'hint'
    ? notes(`did you mean --${name} ${arg}?`)
    : notes(`'${bare}' is already the --${name} value; other values go after their flags`);
}

/** Formats the flag table as help text. */
export function formatHelp(usage: string, table: FlagTable): string {
  const lines = [`usage: ${usage}`, ''];
  for (const [name, spec] of Object.entries(table)) {
    const value =
      spec.type === 'bool'
        ? ''
        : spec.type === 'string' && spec.choices
          ? ` ${spec.choices.join('|')}`
          : spec.type === 'string' && spec.metavar
            ? ` ${spec.metavar}`
            : ` ${spec.type.toUpperCase()}`;
    const flag =
      spec.type === 'string' && spec.positional === 'accept' ? `[--${name}]` : `--${name}`;
    const def = 'default' in spec && spec.default !== undefined ? ` (default ${spec.default})` : '';
    lines.push(`  ${flag}${value}`.padEnd(34) + ` ${spec.help}${def}`);
  }
  return lines.join('\n');
}

/** Throws a UsageError when a required flag is missing. */
export function required<V>(flag: string, value: V | undefined): V {
  if (value === undefined) {
    throw new UsageError(`--${flag} is required`);
  }
  return value;
}
