import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeNpy, decodeNpyHeader, encodeNpy } from '../src/dataset/npy.js';
import { DrrkitError } from '../src/errors.js';

describe('.npy writer and reader', () => {
  test('round trip of [k, H, W] and [k, C, H, W] float32 arrays, header padded to 64 bytes', () => {
    for (const shape of [[3, 4, 5], [2, 3, 4, 5], [7], [0, 4, 4]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: count }, (_, index) => Math.sin(index) * 1e3 - index / 7);
      const bytes = encodeNpy(data, shape);
      const header = decodeNpyHeader(bytes);
      assert.equal(header.dataOffset % 64, 0);
      assert.equal(header.descr, '<f4');
      assert.deepEqual(header.shape, shape);
      assert.equal(bytes[header.dataOffset - 1], 0x0a); // the header ends with a newline
      const decoded = decodeNpy(bytes);
      assert.deepEqual(decoded.shape, shape);
      assert.deepEqual(Array.from(decoded.data), Array.from(data));
    }
  });

  test('the header is the text NumPy writes', () => {
    const bytes = encodeNpy(new Float32Array(6), [1, 2, 3]);
    const text = new TextDecoder('latin1').decode(bytes.subarray(10, decodeNpyHeader(bytes).dataOffset));
    assert.equal(text.trimEnd(), "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }");
    assert.deepEqual(Array.from(bytes.subarray(0, 8)), [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    assert.equal(bytes[8] + 256 * bytes[9], decodeNpyHeader(bytes).dataOffset - 10);
    // Little-endian float32 data: 1.5 is 0x3fc00000.
    const one = encodeNpy(Float32Array.of(1.5), [1]);
    assert.deepEqual(Array.from(one.subarray(one.length - 4)), [0x00, 0x00, 0xc0, 0x3f]);
  });

  test('bad input is refused with a clear message', () => {
    assert.throws(() => encodeNpy(new Float32Array(5), [2, 3]), DrrkitError);
    assert.throws(() => decodeNpy(new Uint8Array(20)), /not an \.npy file/);
    const bytes = encodeNpy(new Float32Array(6), [2, 3]);
    assert.throws(() => decodeNpy(bytes.subarray(0, bytes.length - 4), 'x.npy'), /x\.npy: expected 24 data bytes/);
  });
});
