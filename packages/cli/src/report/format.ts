/** How evaluation figures are written in tables (`zhusuan results`, the report). */
import type { EvalReport } from '@zhusuan/vae';

/**
 * True for files written before the split-half standard error (no
 * `test_ll_stderr_delta`): their `test_ll_stderr` is the delta-method value,
 * which understates the spread across seeds.
 */
export function hasDeltaStderr(e: EvalReport): boolean {
  return e.test_ll_stderr_delta === undefined;
}

/**
 * `test_ll ± stderr` for tables, with a dagger ({@link DELTA_SE_NOTE}) when
 * {@link hasDeltaStderr}; `pm` and `dagger` are the symbols to typeset.
 */
export function formatLl(
  e: EvalReport,
  fmt: (v: number, digits: number) => string,
  pm = '±',
  dagger = '†',
): string {
  return `${fmt(e.test_ll, 2)} ${pm} ${fmt(e.test_ll_stderr, 3)}${hasDeltaStderr(e) ? dagger : ''}`;
}

/** The footnote for a dagger of {@link formatLl}. */
export const DELTA_SE_NOTE =
  '† delta-method standard error (evaluations before 2026-11-25); it understates the spread across seeds by a factor of about 1.4 (docs/evaluation.md).';
