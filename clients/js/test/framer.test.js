import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, encode } from '@msgpack/msgpack';

import { FrameReader, FramingError } from '../src/framer.js';
import { decodeArray, encodeArray, withShape } from '../src/arrays.js';

const messages = [
  [1, 7, null, { a: [1, 2, { b: 'x'.repeat(300) }], bin: new Uint8Array(70000) }],
  [2, 'problem.progress', { iter: 1, energy: 0.5 }],
  [1, 8, [4, 'no problem with that id'], null],
  [1, 9, null, []],
  [1, 10, null, { big: new Uint8Array(300 * 1024).fill(7), z: -1.5 }],
];

test('frames survive any chunking', () => {
  const bytes = Buffer.concat(messages.map((m) => encode(m)));
  for (const size of [1, 3, 7, 64, 4096, bytes.length]) {
    const reader = new FrameReader();
    const out = [];
    for (let i = 0; i < bytes.length; i += size) out.push(...reader.push(bytes.subarray(i, i + size)));
    assert.equal(out.length, messages.length, `chunk size ${size}`);
    assert.deepEqual(out.map((f) => decode(f)), messages.map((m) => decode(encode(m))));
  }
});

test('an invalid type byte is a framing error', () => {
  assert.throws(() => new FrameReader().push(Uint8Array.of(0xc1)), FramingError);
});

test('frames larger than maxFrame are refused', () => {
  const reader = new FrameReader({ maxFrame: 1000 });
  assert.throws(() => reader.push(encode(new Uint8Array(5000)).subarray(0, 10)), FramingError);
});

test('arrays round-trip, aligned views and unaligned copies', () => {
  const a = withShape(Float64Array.from({ length: 12 }, (_, i) => i / 3), [4, 3]);
  const m = encodeArray(a);
  assert.deepEqual(m.shape, [4, 3]);
  assert.equal(m.dtype, 'f8');
  const aligned = decodeArray({ ...m, data: new Uint8Array(m.data) });
  assert.equal(aligned.buffer.byteLength, 96);
  assert.deepEqual([...aligned], [...a]);
  const shifted = new Uint8Array(97);
  shifted.set(m.data, 1);
  const copy = decodeArray({ ...m, data: shifted.subarray(1) });
  assert.deepEqual([...copy], [...a]);
  assert.deepEqual(copy.shape, [4, 3]);
  const i4 = decodeArray(encodeArray(Int32Array.of(-1, 2, 3)));
  assert.ok(i4 instanceof Int32Array);
  assert.deepEqual([...i4], [-1, 2, 3]);
  assert.throws(() => withShape(new Float64Array(5), [2, 3]), RangeError);
});
