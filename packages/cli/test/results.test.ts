/** The README's results table is generated from the shipped runs' files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BEGIN, END, replaceBetweenMarkers, resultsTable } from '../src/commands/results.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

test('the README results table matches the files under results/', () => {
  const readme = fs.readFileSync(`${ROOT}README.md`, 'utf8');
  const table = resultsTable(`${ROOT}results`);
  assert.ok(table.split('\n').length > 2, 'no runs under results/');
  assert.equal(
    replaceBetweenMarkers(readme, table),
    readme,
    'run `npx zhusuan results --readme README.md`',
  );
});

test('replaceBetweenMarkers needs both markers', () => {
  assert.throws(() => replaceBetweenMarkers('no markers', 'x'), /markers not found/);
  assert.equal(
    replaceBetweenMarkers(`a\n${BEGIN}\nold\n${END}\nb`, 'new'),
    `a\n${BEGIN}\nnew\n${END}\nb`,
  );
});
