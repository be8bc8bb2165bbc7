/**
 * IDX files (the format of MNIST and Fashion-MNIST), raw or gzipped, read with
 * strict validation: every error names the file and what is wrong.
 */
import * as fs from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** A malformed or unreadable IDX file. */
export class IdxError extends Error {
  override name = 'IdxError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** The contents of an IDX file of unsigned bytes. */
export interface IdxData {
  shape: number[];
  data: Uint8Array;
}

/** Reads a file, un-gzipping it when it starts with the gzip magic bytes. */
export function readMaybeGzip(file: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new IdxError(file, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? err})`);
  }
  let bytes: Buffer = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw);
    } catch (err) {
      throw new IdxError(file, `corrupt gzip data (${(err as Error).message})`);
    }
  }
  // A plain Uint8Array view: callers get one type whatever the source.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Parses IDX bytes. Only unsigned-byte data (type code 0x08) is accepted: it
 * is what image and label files use.
 * @param expectRank reject files of any other rank.
 */
export function parseIdx(file: string, bytes: Uint8Array, expectRank?: number): IdxData {
  if (bytes.length < 4) {
    throw new IdxError(file, `truncated: ${bytes.length} bytes, too short for an IDX header`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(file, 'bad magic number: an IDX file starts with two zero bytes');
  }
  if (bytes[2] !== 0x08) {
    throw new IdxError(
      file,
      `unsupported data type code 0x${bytes[2].toString(16).padStart(2, '0')} (expected 0x08, unsigned byte)`,
    );
  }
  const rank = bytes[3];
  if (rank === 0) throw new IdxError(file, 'rank 0 in header');
  if (expectRank !== undefined && rank !== expectRank) {
    throw new IdxError(file, `rank ${rank} in header, expected ${expectRank}`);
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
  const size = shape.reduce((a, b) => a * b, 1);
  const have = bytes.length - headerLen;
  if (have < size) {
    throw new IdxError(
      file,
      `truncated: header says ${shape.join('x')} = ${size} bytes of data, file has ${have}`,
    );
  }
  if (have > size) {
    throw new IdxError(
      file,
      `${have - size} trailing bytes after ${shape.join('x')} = ${size} bytes of data`,
    );
  }
  return { shape, data: bytes.subarray(headerLen) };
}

/** Reads an IDX file (raw or gzip). */
export function readIdx(file: string, expectRank?: number): IdxData {
  return parseIdx(file, readMaybeGzip(file), expectRank);
}

/** Reads a rank-3 image file: `n` images of `rows` x `cols` bytes. */
export function readIdxImages(file: string): {
  images: Uint8Array;
  n: number;
  rows: number;
  cols: number;
} {
  const { shape, data } = readIdx(file, 3);
  const [n, rows, cols] = shape;
  if (rows === 0 || cols === 0) throw new IdxError(file, `empty images (${rows}x${cols})`);
  return { images: data, n, rows, cols };
}

/**
 * Reads a rank-1 label file; every label must be below `numClasses`, and the
 * count must equal `expectCount` when given.
 */
export function readIdxLabels(file: string, numClasses = 10, expectCount?: number): Uint8Array {
  const { shape, data } = readIdx(file, 1);
  if (expectCount !== undefined && shape[0] !== expectCount) {
    throw new IdxError(file, `${shape[0]} labels, but the image file has ${expectCount} images`);
  }
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= numClasses) {
      throw new IdxError(file, `label ${data[i]} at index ${i} is out of range [0, ${numClasses})`);
    }
  }
  return data;
}
