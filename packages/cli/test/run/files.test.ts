/** metrics.jsonl restored from a checkpoint's history: lost lines, torn lines, foreign lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatMetricsLine } from '@zhusuan/vae';
import { restoreMetrics } from '../../src/run/files.js';
import { metricsLine, tempDir } from '../helpers.js';

test('restoreMetrics makes metrics.jsonl the checkpoint history, saying what it restored', () => {
  const history = [1, 2, 3].map(metricsLine);
  const want = history.map(formatMetricsLine).join('');
  const cases: [string, string | undefined, RegExp | undefined][] = [
    ['unchanged', want, undefined],
    [
      'last line lost',
      want.split('\n').slice(0, 2).join('\n') + '\n',
      /restored the lines of epoch 3 from the checkpoint$/,
    ],
    [
      'torn',
      want.slice(0, want.length - 9),
      /restored the lines of epoch 3 from the checkpoint \(a torn last line dropped\)$/,
    ],
    ['torn after the last', `${want}{"epoch": 4, "tr`, /a torn last line dropped$/],
    ['emptied', '', /restored the lines of epochs 1-3 from the checkpoint$/],
    ['absent', undefined, /restored the lines of epochs 1-3/],
    [
      'foreign',
      formatMetricsLine({ ...metricsLine(1), train_elbo: 5 }),
      /did not match the checkpoint's history; rewritten from it$/,
    ],
  ];
  for (const [what, before, message] of cases) {
    const dir = tempDir();
    const file = path.join(dir, 'metrics.jsonl');
    if (before !== undefined) fs.writeFileSync(file, before);
    const said = restoreMetrics(dir, history);
    if (message === undefined) assert.equal(said, undefined, what);
    else assert.match(said ?? '', message, what);
    assert.equal(fs.readFileSync(file, 'utf8'), want, what);
    assert.deepEqual(fs.readdirSync(dir), ['metrics.jsonl'], `${what}: no temp file`);
  }
});
