/**
 * A small, strict command-line parser: every flag is declared with its type,
 * unknown flags and bad values are usage errors (exit code 2) that name the
 * flag and the reason.
 */

/** A usage error: bad flag, bad value, missing argument. The CLI exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Declaration of one flag. */
export type FlagSpec =
  | { type: 'string'; default?: string; choices?: readonly string[]; help: string }
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
  /** Flags that were given explicitly on the command line. */
  readonly given: ReadonlySet<string>;
};

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

/**
 * Parses `argv` (without the command name) against `table`.
 * Accepts `--flag value` and `--flag=value`; booleans take no value.
 * @throws UsageError naming the flag at fault.
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
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      throw new UsageError(`${command}: unexpected argument '${arg}' (flags start with --)`);
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = table[name];
    if (spec === undefined) {
      const known = Object.keys(table)
        .map((k) => `--${k}`)
        .join(', ');
      throw new UsageError(`${command}: unknown flag --${name} (known: ${known})`);
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
    if (spec.type === 'string') {
      if (raw === '') {
        throw new UsageError(`--${name}: empty value`);
      }
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new UsageError(`--${name}: must be one of ${spec.choices.join('|')}, got '${raw}'`);
      }
      out[name] = raw;
    } else {
      out[name] = parseNumber(name, spec, raw);
    }
  }
  return Object.assign(out, { given }) as Parsed<T>;
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
          : ` ${spec.type.toUpperCase()}`;
    const def = 'default' in spec && spec.default !== undefined ? ` (default ${spec.default})` : '';
    lines.push(`  --${name}${value}`.padEnd(34) + ` ${spec.help}${def}`);
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
