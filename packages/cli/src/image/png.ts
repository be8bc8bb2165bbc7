/**
 * A minimal PNG codec for our own images: 8-bit grayscale or RGB, no
 * interlacing. The decoder reads what the encoder writes (for tests and the
 * viewer) and rejects anything else clearly.
 */
import * as fs from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';

/** An 8-bit image, row-major, `channels` bytes per pixel. */
export interface Image {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as PNG uses it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encodes an image as PNG: signature, IHDR, one zlib-compressed IDAT with
 * filter type 0 on every row (our images are small; simplicity wins), IEND.
 */
export function encodePng(img: Image): Buffer {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`encodePng: bad size ${width}x${height}`);
  }
  if (channels !== 1 && channels !== 3)
    throw new Error(`encodePng: channels must be 1 or 3, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new Error(`encodePng: ${data.length} bytes for ${width}x${height}x${channels}`);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // grayscale or RGB
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * Decodes a PNG of the kind {@link encodePng} writes (8-bit gray or RGB, not
 * interlaced, filter type 0), verifying every chunk's CRC. Anything else —
 * palettes, other depths, filtered rows, missing IHDR/IEND — is rejected with
 * an error saying what, rather than decoded wrongly.
 */
export function decodePng(buf: Uint8Array): Image {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8 || !b.subarray(0, 8).equals(SIGNATURE))
    throw new Error('decodePng: not a PNG (bad signature)');
  let pos = 8;
  let header: { width: number; height: number; channels: 1 | 3 } | null = null;
  let ended = false;
  const idat: Buffer[] = [];
  while (!ended) {
    if (pos + 12 > b.length) throw new Error('decodePng: truncated (no IEND chunk)');
    const len = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + len > b.length) throw new Error(`decodePng: chunk ${type} is truncated`);
    const body = b.subarray(pos + 8, pos + 8 + len);
    if (crc32(b.subarray(pos + 4, pos + 8 + len)) !== b.readUInt32BE(pos + 8 + len)) {
      throw new Error(`decodePng: CRC mismatch in chunk ${type}`);
    }
    if ((header === null) !== (type === 'IHDR')) {
      throw new Error(`decodePng: IHDR must come first, once (found ${type})`);
    }
    if (type === 'IHDR') {
      if (len !== 13) throw new Error(`decodePng: IHDR has ${len} bytes, not 13`);
      const [depth, color, , , interlace] = body.subarray(8, 13);
      if (depth !== 8 || (color !== 0 && color !== 2) || interlace !== 0) {
        throw new Error(
          `decodePng: only 8-bit non-interlaced gray or RGB is supported (depth ${depth}, color type ${color}, interlace ${interlace})`,
        );
      }
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        channels: color === 0 ? 1 : 3,
      };
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      ended = true;
    } else if (type.charCodeAt(0) < 0x61) {
      // Upper-case first letter: a critical chunk (e.g. PLTE) we cannot ignore.
      throw new Error(`decodePng: unsupported critical chunk ${type}`);
    }
    pos += 12 + len;
  }
  if (header === null) throw new Error('decodePng: no IHDR chunk');
  const { width, height, channels } = header;
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (err) {
    throw new Error(`decodePng: corrupt image data (${(err as Error).message})`);
  }
  const stride = width * channels;
  if (raw.length !== (stride + 1) * height) {
    throw new Error(
      `decodePng: image data has ${raw.length} bytes, ${width}x${height}x${channels} needs ${(stride + 1) * height}`,
    );
  }
  const data = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    if (f !== 0) throw new Error(`decodePng: row ${y} uses filter type ${f}; only 0 is supported`);
    data.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  return { width, height, channels, data };
}

/**
 * Writes an image as PNG atomically: to a temp file in the same directory,
 * then renamed over `file`, so a reader (the viewer, the report) never sees
 * half a PNG and a crash leaves the old one.
 */
export function writePng(file: string, img: Image): void {
  const png = encodePng(img); // before creating anything: a bad image leaves no file
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    fs.writeFileSync(tmp, png);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
