/**
 * The library's documents name only what exists: every `zs.<name>` (and
 * `zs.<namespace>.<name>`) in docs/guide.md, and in the TypeScript column of
 * docs/zhusuan-names.md' tables (the first column is Python), is an export
 * of the built `zhusuan` package.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zs from 'zhusuan';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The text whose `zs.` names must exist: a table's second column, or the whole document. */
const SCOPE: Record<string, (md: string) => string> = {
  'docs/guide.md': (md) => md,
  'docs/zhusuan-names.md': (md) =>
    md
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .map((l) => l.split(' | ')[1] ?? '')
      .join('\n'),
};

for (const [doc, scope] of Object.entries(SCOPE)) {
  test(`${doc} names only exports of zhusuan`, () => {
    const text = scope(fs.readFileSync(path.join(REPO, doc), 'utf8'));
    const exports = zs as unknown as Record<string, unknown>;
    const missing = new Set<string>();
    let count = 0;
    for (const m of text.matchAll(/\bzs\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?/g)) {
      count++;
      const [whole, name, member] = m;
      const value = exports[name];
      if (value === undefined) missing.add(`zs.${name}`);
      else if (
        member !== undefined &&
        typeof value === 'object' &&
        value !== null &&
        !(member in value)
      ) {
        missing.add(whole);
      }
    }
    assert.ok(count > 5, `${doc}: only ${count} names found`);
    assert.deepEqual([...missing], [], `${doc} names what zhusuan does not export`);
  });
}
