import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import { crc32, decodePng, encodePng, writePng } from '../../src/image/png.js';
import { tempDir } from '../helpers.js';

/** A PNG chunk with a correct CRC, for hand-made files. */
function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

test('PNG encode/decode round trip, gray and RGB; signature and IHDR are right', () => {
  for (const channels of [1, 3] as const) {
    const data = Uint8Array.from({ length: 7 * 5 * channels }, (_, i) => (i * 13) % 256);
    const png = encodePng({ width: 7, height: 5, channels, data });
    assert.deepEqual(
      png.subarray(0, 8),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    assert.equal(png.readUInt32BE(8), 13); // IHDR length
    assert.equal(png.toString('latin1', 12, 16), 'IHDR');
    assert.equal(png.readUInt32BE(16), 7); // width
    assert.equal(png.readUInt32BE(20), 5); // height
    assert.deepEqual([png[24], png[25]], [8, channels === 1 ? 0 : 2]); // depth, color type
    assert.equal(png.toString('latin1', png.length - 8, png.length - 4), 'IEND');
    const img = decodePng(png);
    assert.deepEqual([img.width, img.height, img.channels], [7, 5, channels]);
    assert.deepEqual(img.data, data);
  }
});

test('CRC-32 matches the standard check value; corruption is detected', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  const png = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) });
  const ihdr = Buffer.from(png);
  ihdr[20] ^= 1;
  assert.throws(() => decodePng(ihdr), /CRC mismatch in chunk IHDR/);
  const idat = Buffer.from(png);
  idat[41] ^= 0x10; // inside the IDAT body
  assert.throws(() => decodePng(idat), /CRC mismatch in chunk IDAT/);
  assert.throws(() => decodePng(png.subarray(0, png.length - 12)), /no IEND chunk/);
  assert.throws(() => decodePng(Buffer.from('not a png at all')), /bad signature/);
});

test('the decoder rejects what it does not support, saying what', () => {
  const sig = encodePng({ width: 1, height: 1, channels: 1, data: new Uint8Array(1) }).subarray(
    0,
    8,
  );
  const ihdr = (depth: number, color: number) => {
    const b = Buffer.alloc(13);
    b.writeUInt32BE(1, 0);
    b.writeUInt32BE(1, 4);
    b[8] = depth;
    b[9] = color;
    return chunk('IHDR', b);
  };
  const iend = chunk('IEND', new Uint8Array(0));
  const idat = (raw: number[]) => chunk('IDAT', deflateSync(Buffer.from(raw)));
  assert.throws(
    () => decodePng(Buffer.concat([sig, ihdr(8, 3), idat([0, 0]), iend])),
    /color type 3/,
  );
  assert.throws(
    () => decodePng(Buffer.concat([sig, ihdr(16, 0), idat([0, 0, 0]), iend])),
    /depth 16/,
  );
  assert.throws(
    () => decodePng(Buffer.concat([sig, ihdr(8, 0), idat([1, 0]), iend])),
    /row 0 uses filter type 1/,
  );
  assert.throws(
    () =>
      decodePng(
        Buffer.concat([sig, ihdr(8, 0), chunk('PLTE', new Uint8Array(3)), idat([0, 0]), iend]),
      ),
    /unsupported critical chunk PLTE/,
  );
  assert.throws(() => decodePng(Buffer.concat([sig, idat([0, 0]), iend])), /IHDR must come first/);
  // Ancillary chunks (lower-case first letter) are skipped.
  const ok = Buffer.concat([
    sig,
    ihdr(8, 0),
    chunk('tEXt', Buffer.from('a\0b')),
    idat([0, 42]),
    iend,
  ]);
  assert.deepEqual(Array.from(decodePng(ok).data), [42]);
});

test('the encoder rejects bad images', () => {
  assert.throws(
    () => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }),
    /3 bytes for 2x2x1/,
  );
  assert.throws(
    () => encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) }),
    /bad size/,
  );
});

test('writePng writes atomically and leaves no temp file', () => {
  const dir = tempDir();
  const file = path.join(dir, 'a.png');
  const img = { width: 3, height: 2, channels: 1 as const, data: Uint8Array.of(1, 2, 3, 4, 5, 6) };
  writePng(file, img);
  writePng(file, img); // over an existing file
  assert.deepEqual(fs.readdirSync(dir), ['a.png']);
  assert.deepEqual(decodePng(fs.readFileSync(file)).data, img.data);
  // A bad image neither replaces the old file nor leaves a temp file.
  assert.throws(() => writePng(file, { ...img, data: new Uint8Array(1) }));
  assert.deepEqual(fs.readdirSync(dir), ['a.png']);
  assert.deepEqual(decodePng(fs.readFileSync(file)).data, img.data);
});
