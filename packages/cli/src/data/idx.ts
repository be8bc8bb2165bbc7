/**
 * IDX files (the format of MNIST and Fashion-MNIST), raw or gzipped, read with
 * strict validation: every error is an {@link IdxError} naming the file and
 * what is wrong with it, so a bad `--dataset` fails with one clear line.
 * Only regular files are read; the header's dimensions are checked against
 * the file's size (or, gzipped, cap the decompression) before the data is
 * allocated.
 */
import * as fs from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { FileError, openRegular, readExactly, type FileFault } from '../run/io.js';

/** A malformed, missing or unreadable IDX file; `file` is the path at fault (the message starts with it). */
export class IdxError extends FileError {
  override name = 'IdxError';
}

/** The element types IDX defines, by their header code. */
const DTYPES = {
  0x08: { name: 'uint8', size: 1 },
  0x09: { name: 'int8', size: 1 },
  0x0b: { name: 'int16', size: 2 },
  0x0c: { name: 'int32', size: 4 },
  0x0d: { name: 'float32', size: 4 },
  0x0e: { name: 'float64', size: 8 },
} as const;

/** An IDX element type. */
export type IdxDtype = (typeof DTYPES)[keyof typeof DTYPES]['name'];

/** The typed array each {@link IdxDtype} is returned as. */
export type IdxArray =
  Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** The contents of an IDX file; `data` is row-major with `shape`'s product elements. */
export interface IdxData<T extends IdxArray = IdxArray> {
  dtype: IdxDtype;
  shape: number[];
  data: T;
}

/** What {@link readIdx} checks beyond the format itself. */
export interface IdxExpect {
  /** Reject files of any other rank. */
  expectRank?: number;
  /** Reject other dimensions; `undefined` entries match any size (e.g. `[undefined, 28, 28]`). Implies the rank. */
  expectDims?: (number | undefined)[];
  /** Reject other element types. */
  expectDtype?: IdxDtype;
}

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

/**
 * The most bytes an IDX file may hold, decompressed: 1 GiB (MNIST's training
 * images are 47 MB, EMNIST's largest file 550 MB).
 */
export const MAX_IDX_BYTES = 2 ** 30;
/** The longest IDX header: rank 255. */
const MAX_IDX_HEADER = 4 + 4 * 255;
/** Compressed bytes read to find a gzipped file's IDX header (deflate expands at most ~1032×). */
const GZIP_HEADER_PROBE = 1024;

const idxFault: FileFault = (file, message) => new IdxError(file, message);

/**
 * Finds `file` or, failing that, `file.gz`: datasets are shipped both ways
 * (Debian's Fashion-MNIST only gzipped). Throws an IdxError naming both.
 */
export function locateIdx(file: string): string {
  if (fs.existsSync(file)) return file;
  if (fs.existsSync(`${file}.gz`)) return `${file}.gz`;
  throw new IdxError(file, `file not found (nor ${file}.gz)`);
}

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Un-gzips `raw` without ever holding more than its IDX header declares:
 * the header is decompressed first from the stream's start, then the whole
 * stream with the output capped at header + data.
 */
function gunzipIdx(file: string, raw: Uint8Array, expect: IdxExpect): Uint8Array {
  const corrupt = (err: unknown) =>
    new IdxError(file, `corrupt gzip data (${String((err as Error).message).split('\n')[0]})`);
  let head: Buffer;
  try {
    head = gunzipSync(raw.subarray(0, GZIP_HEADER_PROBE), {
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
      maxOutputLength: 1032 * GZIP_HEADER_PROBE + MAX_IDX_HEADER,
    });
  } catch (err) {
    throw corrupt(err);
  }
  const { total } = parseIdxHeader(file, head, expect);
  try {
    const out = gunzipSync(raw, { maxOutputLength: total });
    // A plain Uint8Array view: callers get one type whatever the source.
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new IdxError(
        file,
        `decompresses to more than the ${total} bytes its header declares (trailing data, or a gzip bomb)`,
      );
    }
    throw corrupt(err);
  }
}

/** Decodes big-endian elements into a fresh native-endian typed array. */
function decode(dtype: IdxDtype, bytes: Uint8Array): IdxArray {
  if (dtype === 'uint8') return bytes;
  if (dtype === 'int8') return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fill = <T extends { length: number; [i: number]: number }>(
    out: T,
    size: number,
    get: (o: number) => number,
  ): T => {
    for (let i = 0; i < out.length; i++) out[i] = get(i * size);
    return out;
  };
  const n = bytes.length;
  switch (dtype) {
    case 'int16':
      return fill(new Int16Array(n / 2), 2, (o) => v.getInt16(o, false));
    case 'int32':
      return fill(new Int32Array(n / 4), 4, (o) => v.getInt32(o, false));
    case 'float32':
      return fill(new Float32Array(n / 4), 4, (o) => v.getFloat32(o, false));
    case 'float64':
      return fill(new Float64Array(n / 8), 8, (o) => v.getFloat64(o, false));
  }
}

/** What an IDX header declares. */
interface IdxHeader {
  dtype: IdxDtype;
  shape: number[];
  headerLen: number;
  /** Bytes of data the dimensions need. */
  dataBytes: number;
  /** headerLen + dataBytes: the file's size, decompressed. */
  total: number;
}

/**
 * Parses and checks an IDX header from the start of a file (`bytes` may hold
 * more): magic, type, rank, dimensions, and a total size within {@link MAX_IDX_BYTES}.
 */
function parseIdxHeader(file: string, bytes: Uint8Array, expect: IdxExpect): IdxHeader {
  if (bytes.length < 4) {
    throw new IdxError(file, `truncated: ${bytes.length} bytes, too short for an IDX header`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(
      file,
      `bad magic number ${hex(bytes[0])} ${hex(bytes[1])}: an IDX file starts with two zero bytes`,
    );
  }
  const type = DTYPES[bytes[2] as keyof typeof DTYPES];
  if (type === undefined) {
    throw new IdxError(
      file,
      `unknown data type code ${hex(bytes[2])} (IDX defines 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64)`,
    );
  }
  if (expect.expectDtype !== undefined && type.name !== expect.expectDtype) {
    throw new IdxError(
      file,
      `data type ${type.name} (code ${hex(bytes[2])}), expected ${expect.expectDtype}`,
    );
  }
  const rank = bytes[3];
  const wantRank = expect.expectDims?.length ?? expect.expectRank;
  if (wantRank !== undefined && rank !== wantRank) {
    throw new IdxError(file, `rank ${rank} in header, expected ${wantRank}`);
  }
  const headerLen = 4 + 4 * rank;
  if (bytes.length < headerLen) {
    throw new IdxError(
      file,
      `truncated header: rank ${rank} needs ${headerLen} bytes, file has ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const dims = shape.join('x');
  if (expect.expectDims?.some((d, i) => d !== undefined && d !== shape[i])) {
    const want = expect.expectDims.map((d) => d ?? 'N').join('x');
    throw new IdxError(file, `dimensions ${dims} in header, expected ${want}`);
  }
  // Exact in doubles: a product past 2^53 is far past the limit anyway.
  const dataBytes = shape.reduce((a, b) => a * b, 1) * type.size;
  if (headerLen + dataBytes > MAX_IDX_BYTES) {
    throw new IdxError(
      file,
      `header declares ${dims} = ${dataBytes} bytes of data, more than the ${MAX_IDX_BYTES} an IDX file may hold`,
    );
  }
  return { dtype: type.name, shape, headerLen, dataBytes, total: headerLen + dataBytes };
}

function sizeMismatch(file: string, h: IdxHeader, have: number): IdxError {
  const dims = h.shape.join('x');
  return have < h.dataBytes
    ? new IdxError(
        file,
        `truncated: header says ${dims} = ${h.dataBytes} bytes of data, file has ${have}`,
      )
    : new IdxError(
        file,
        `${have - h.dataBytes} trailing bytes after ${dims} = ${h.dataBytes} bytes of data`,
      );
}

/**
 * Parses the bytes of an IDX file (already un-gzipped).
 * @param file the name used in error messages.
 */
export function parseIdx(file: string, bytes: Uint8Array, expect: IdxExpect = {}): IdxData {
  const h = parseIdxHeader(file, bytes, expect);
  const have = bytes.length - h.headerLen;
  if (have !== h.dataBytes) throw sizeMismatch(file, h, have);
  return { dtype: h.dtype, shape: h.shape, data: decode(h.dtype, bytes.subarray(h.headerLen)) };
}

/**
 * Reads an IDX file, raw or gzipped (by content: an IDX file starts with
 * 00 00, gzip with 1f 8b), from `file` or else `file.gz`.
 * @throws IdxError when it is missing, not a regular file, unreadable,
 *   malformed, larger than {@link MAX_IDX_BYTES}, or not as expected.
 */
export function readIdx(file: string, expect: IdxExpect = {}): IdxData {
  const found = locateIdx(file);
  const f = openRegular(found, { maxBytes: MAX_IDX_BYTES, what: 'IDX file' }, idxFault);
  try {
    const start = readExactly(f, 0, Math.min(f.size, MAX_IDX_HEADER), idxFault);
    if (isGzip(start)) {
      return parseIdx(found, gunzipIdx(found, readExactly(f, 0, f.size, idxFault), expect), expect);
    }
    // Raw: the header's sizes are checked against the file's before the data is read.
    const h = parseIdxHeader(found, start, expect);
    if (f.size - h.headerLen !== h.dataBytes) throw sizeMismatch(found, h, f.size - h.headerLen);
    const data = readExactly(f, h.headerLen, h.dataBytes, idxFault);
    return { dtype: h.dtype, shape: h.shape, data: decode(h.dtype, data) };
  } finally {
    fs.closeSync(f.fd);
  }
}

/** Images from a rank-3 unsigned-byte IDX file, row-major `[n, rows * cols]`. */
export interface IdxImages {
  images: Uint8Array;
  n: number;
  rows: number;
  cols: number;
}

/**
 * Reads a rank-3 unsigned-byte image file: `n` images of `rows` x `cols` bytes.
 * @param expectDims optional `[rows, cols]` the images must have.
 */
export function readIdxImages(file: string, expectDims?: [number, number]): IdxImages {
  const { shape, data } = readIdx(file, {
    expectDims: [undefined, ...(expectDims ?? [undefined, undefined])],
    expectDtype: 'uint8',
  });
  const [n, rows, cols] = shape;
  if (rows === 0 || cols === 0) throw new IdxError(file, `empty images (${rows}x${cols})`);
  if (n === 0) throw new IdxError(file, `holds no images (header says ${n}x${rows}x${cols})`);
  return { images: data as Uint8Array, n, rows, cols };
}

/** What {@link readIdxLabels} checks. */
export interface LabelOptions {
  /** Every label must be below this (default 10). */
  numClasses?: number;
  /** The number of labels must equal this (the image count) when given. */
  expectCount?: number;
}

/**
 * Reads a rank-1 unsigned-byte label file, checking every label's range and,
 * when given, the count against the images'.
 */
export function readIdxLabels(file: string, opts: LabelOptions = {}): Uint8Array {
  const numClasses = opts.numClasses ?? 10;
  const { shape, data } = readIdx(file, { expectRank: 1, expectDtype: 'uint8' });
  const labels = data as Uint8Array;
  if (opts.expectCount !== undefined && shape[0] !== opts.expectCount) {
    throw new IdxError(
      file,
      `${shape[0]} labels, but the image file has ${opts.expectCount} images`,
    );
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new IdxError(
        file,
        `label ${labels[i]} at index ${i} is out of range [0, ${numClasses})`,
      );
    }
  }
  return labels;
}
