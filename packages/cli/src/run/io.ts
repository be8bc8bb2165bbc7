/**
 * The file primitives every reader and writer of run files and datasets goes
 * through. Reading: only regular files (a FIFO, a device or a directory is
 * refused before anything can block), with the size bounded before anything
 * is allocated. Writing: a temp file in the same directory, fsynced, renamed
 * into place and the directory fsynced, so a crash leaves the old file or the
 * new one, never half of one. Every error names the file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempFileOwner } from '@zhusuan/vae';
import { UsageError } from '../args.js';

/** A file that cannot be read or written; the message starts with its path. */
export class FileError extends Error {
  override name = 'FileError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** Makes the error a reader throws, so each format keeps its own error class. */
export type FileFault = (file: string, message: string) => Error;

const fileError: FileFault = (file, message) => new FileError(file, message);

/** `ENOSPC: no space left on device` from a Node error, without the path it repeats. */
export function errnoReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string') {
    const text = String(e.message ?? '').split(',')[0];
    return text.startsWith(e.code) ? text : `${e.code}: ${text}`;
  }
  return String(e?.message ?? err);
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** An open regular file: its descriptor and its size when opened. */
export interface OpenFile {
  fd: number;
  size: number;
  file: string;
}

/**
 * Opens `file` for reading if it is a regular file of at most `maxBytes`.
 * Opened non-blocking, so a FIFO is refused instead of waiting for a writer.
 * @param what the file's role, for messages (`checkpoint`, `IDX file`).
 */
export function openRegular(
  file: string,
  opts: { maxBytes: number; what: string },
  fault: FileFault = fileError,
): OpenFile {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw fault(file, code === 'ENOENT' ? 'file not found' : `cannot open (${errnoReason(err)})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      throw fault(file, `${kindOf(st)}, not a regular file (a ${opts.what} must be one)`);
    }
    if (st.size > opts.maxBytes) {
      throw fault(file, `${st.size} bytes, more than the ${opts.maxBytes} a ${opts.what} may have`);
    }
    return { fd, size: st.size, file };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/**
 * Reads `length` bytes at `position` into a fresh (aligned) array.
 * @throws when the file is shorter than that (it shrank while being read).
 */
export function readExactly(
  f: OpenFile,
  position: number,
  length: number,
  fault: FileFault = fileError,
): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = fs.readSync(f.fd, out, done, length - done, position + done);
    } catch (err) {
      throw fault(f.file, `cannot read (${errnoReason(err)})`);
    }
    if (n === 0) throw fault(f.file, `ended after ${position + done} bytes while being read`);
    done += n;
  }
  return out;
}

/** Reads a whole regular file of at most `maxBytes`. */
export function readRegularFile(
  file: string,
  opts: { maxBytes: number; what: string },
  fault: FileFault = fileError,
): Uint8Array {
  const f = openRegular(file, opts, fault);
  try {
    return readExactly(f, 0, f.size, fault);
  } finally {
    fs.closeSync(f.fd);
  }
}

/** Reads a whole regular text file (UTF-8) of at most `maxBytes`. */
export function readTextFile(
  file: string,
  opts: { maxBytes: number; what: string },
  fault: FileFault = fileError,
): string {
  return Buffer.from(readRegularFile(file, opts, fault)).toString('utf8');
}

function writeAll(fd: number, data: string | Uint8Array | readonly Uint8Array[]): void {
  const chunks =
    typeof data === 'string' ? [Buffer.from(data, 'utf8')] : Array.isArray(data) ? data : [data];
  for (const chunk of chunks as Uint8Array[]) {
    let done = 0;
    while (done < chunk.byteLength) {
      done += fs.writeSync(fd, chunk, done, chunk.byteLength - done);
    }
  }
}

/** fsyncs a directory, so a rename in it survives a power cut; best effort. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The temp file `file` is written to first: same directory, named after this process. */
export function tempFileFor(file: string): string {
  return `${file}.tmp-${process.pid}`;
}

/**
 * Replaces `file` atomically: writes `data` (chunks are concatenated) to a
 * temp file beside it, fsyncs, renames it over `file` and fsyncs the
 * directory. On failure the temp file is removed and the old `file` kept.
 * @param opts.beforeRename runs between the fsync and the rename (a crash-test hook).
 * @throws FileError naming `file` and the cause (`ENOSPC: no space left on device`).
 */
export function writeFileAtomic(
  file: string,
  data: string | Uint8Array | readonly Uint8Array[],
  opts: { beforeRename?: () => void } = {},
): void {
  const tmp = tempFileFor(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w', 0o644);
    writeAll(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    opts.beforeRename?.();
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err instanceof FileError
      ? err
      : new FileError(file, `cannot write (${errnoReason(err)})`);
  }
  syncDir(path.dirname(file));
}

/**
 * Appends `text` to `file` and fsyncs it.
 * @param opts.midway runs after the first half is written (a crash-test hook: a torn line).
 * @throws FileError naming `file` and the cause.
 */
export function appendDurable(
  file: string,
  text: string,
  opts: { midway?: () => void } = {},
): void {
  const bytes = Buffer.from(text, 'utf8');
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'a', 0o644);
    if (opts.midway) {
      const half = bytes.length >> 1;
      writeAll(fd, bytes.subarray(0, half));
      fs.fsyncSync(fd);
      opts.midway();
      writeAll(fd, bytes.subarray(half));
    } else {
      writeAll(fd, bytes);
    }
    fs.fsyncSync(fd);
  } catch (err) {
    throw err instanceof FileError
      ? err
      : new FileError(file, `cannot append (${errnoReason(err)})`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files (`<file>.tmp-<pid>`) in `dir` left by processes that
 * no longer run (a kill or a power cut mid-write). Returns their names.
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const owner = tempFileOwner(name);
    if (owner === undefined || (owner !== process.pid && processAlive(owner))) continue;
    const file = path.join(dir, name);
    if (!fs.lstatSync(file).isFile()) continue;
    fs.rmSync(file, { force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Checks, before any long work, that `file` can be written: its directory
 * exists and takes a new file (a probe is created and removed), and `file`
 * is not a directory or a special file.
 * @param flag the flag that named it, for the message (`--out`).
 * @throws UsageError naming the flag, the path and the cause.
 */
export function checkWritable(file: string, flag: string): void {
  const dir = path.dirname(path.resolve(file));
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new UsageError(`${flag}: directory ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new UsageError(`${flag}: ${dir} is not a directory`);
  const existing = fs.statSync(file, { throwIfNoEntry: false });
  if (existing !== undefined && !existing.isFile()) {
    throw new UsageError(`${flag}: ${file} is ${kindOf(existing)}, not a file it can replace`);
  }
  const probe = tempFileFor(file);
  try {
    fs.closeSync(fs.openSync(probe, 'w'));
  } catch (err) {
    throw new UsageError(`${flag}: cannot write ${file} (${errnoReason(err)})`);
  } finally {
    fs.rmSync(probe, { force: true });
  }
}

/** The environment variable of the crash-test hook ({@link crashPoint}). */
export const CRASH_ENV = 'ZHUSUAN_TEST_CRASH_AT';

/**
 * A crash-test hook: when `ZHUSUAN_TEST_CRASH_AT` is `<point>@<epoch>`, the
 * process kills itself with SIGKILL here (no handler runs, nothing is
 * flushed), as a power cut or `kill -9` would. The tests use it to crash
 * training at each named point of an epoch and check that a resume
 * reproduces an uninterrupted run.
 */
export function crashPoint(point: string, epoch: number): void {
  if (process.env[CRASH_ENV] === `${point}@${epoch}`) process.kill(process.pid, 'SIGKILL');
}
