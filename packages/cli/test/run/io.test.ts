/** The file primitives: regular files only, bounded reads, atomic writes that name the file, stale temp files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../src/args.js';
import {
  appendDurable,
  checkWritable,
  FileError,
  readRegularFile,
  removeStaleTempFiles,
  tempFileFor,
  writeFileAtomic,
} from '../../src/run/io.js';
import { tempDir } from '../helpers.js';

const fileError = (file: string, pattern: RegExp) => (e: unknown) =>
  e instanceof FileError &&
  e.file === file &&
  e.message.startsWith(`${file}: `) &&
  pattern.test(e.message);

test('only regular files are read: a FIFO is refused at once, a device or directory too', () => {
  const dir = tempDir();
  const fifo = path.join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const t0 = performance.now();
  assert.throws(
    () => readRegularFile(fifo, { maxBytes: 100, what: 'test file' }),
    fileError(fifo, /a FIFO, not a regular file/),
  );
  assert.ok(performance.now() - t0 < 1000, 'no wait for a writer');
  assert.throws(
    () => readRegularFile('/dev/zero', { maxBytes: 100, what: 'test file' }),
    fileError('/dev/zero', /a character device/),
  );
  assert.throws(
    () => readRegularFile(dir, { maxBytes: 100, what: 'test file' }),
    fileError(dir, /a directory/),
  );
  const missing = path.join(dir, 'missing');
  assert.throws(
    () => readRegularFile(missing, { maxBytes: 100, what: 'test file' }),
    fileError(missing, /file not found/),
  );
  // Symlinks to regular files are fine; the size bound is checked before reading.
  const file = path.join(dir, 'file');
  fs.writeFileSync(file, 'hello');
  fs.symlinkSync(file, path.join(dir, 'link'));
  assert.equal(
    Buffer.from(readRegularFile(path.join(dir, 'link'), { maxBytes: 5, what: 'x' })).toString(),
    'hello',
  );
  assert.throws(
    () => readRegularFile(file, { maxBytes: 4, what: 'test file' }),
    fileError(file, /5 bytes, more than the 4 a test file may have/),
  );
});

test('an atomic write replaces the file whole or not at all, and names the file when it fails', () => {
  const dir = tempDir();
  const file = path.join(dir, 'out.json');
  writeFileAtomic(file, 'one');
  writeFileAtomic(file, [Buffer.from('tw'), Buffer.from('o')]);
  assert.equal(fs.readFileSync(file, 'utf8'), 'two');
  // A failure between the write and the rename keeps the old file and leaves no temp file.
  assert.throws(() =>
    writeFileAtomic(file, 'three', {
      beforeRename: () => {
        throw new Error('crash');
      },
    }),
  );
  assert.equal(fs.readFileSync(file, 'utf8'), 'two');
  assert.deepEqual(fs.readdirSync(dir), ['out.json']);
  const nowhere = path.join(dir, 'missing', 'x.json');
  assert.throws(
    () => writeFileAtomic(nowhere, 'x'),
    fileError(nowhere, /cannot write \(ENOENT: no such file or directory\)$/),
  );
  // A full disk names the file and the cause.
  assert.throws(
    () => appendDurable('/dev/full', 'line\n'),
    fileError('/dev/full', /cannot append \(ENOSPC: no space left on device\)$/),
  );
});

test('stale temp files of dead processes are removed, a live process keeps its own', async () => {
  const dir = tempDir();
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
  try {
    for (const name of [
      `checkpoint.zsck.tmp-${dead}`,
      `samples.png.tmp-${dead}-1712`,
      `config.json.tmp-${live.pid}`,
      'notes.tmp-x',
      'metrics.jsonl',
    ]) {
      fs.writeFileSync(path.join(dir, name), 'x');
    }
    fs.writeFileSync(tempFileFor(path.join(dir, 'eval.json')), 'x');
    assert.deepEqual(removeStaleTempFiles(dir).sort(), [
      `checkpoint.zsck.tmp-${dead}`,
      `eval.json.tmp-${process.pid}`,
      `samples.png.tmp-${dead}-1712`,
    ]);
    assert.deepEqual(fs.readdirSync(dir).sort(), [
      `config.json.tmp-${live.pid}`,
      'metrics.jsonl',
      'notes.tmp-x',
    ]);
  } finally {
    live.kill();
  }
});

test('checkWritable refuses an output it could not write, naming the flag, and leaves nothing', () => {
  const dir = tempDir();
  const usage = (pattern: RegExp) => (e: unknown) =>
    e instanceof UsageError && pattern.test(e.message);
  assert.throws(
    () => checkWritable('/nonexistent/dir/x.json', '--out'),
    usage(/^--out: directory \/nonexistent\/dir does not exist$/),
  );
  fs.mkdirSync(path.join(dir, 'taken.json'));
  assert.throws(
    () => checkWritable(path.join(dir, 'taken.json'), '--out'),
    usage(/^--out: .*taken\.json is a directory, not a file it can replace$/),
  );
  fs.writeFileSync(path.join(dir, 'file'), '');
  assert.throws(
    () => checkWritable(path.join(dir, 'file', 'x.json'), '--out'),
    usage(/file is not a directory$/),
  );
  checkWritable(path.join(dir, 'ok.json'), '--out');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['file', 'taken.json']);
});
