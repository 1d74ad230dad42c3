/** Unit tests of the editor's OBJ parser (src/obj.js): fans, index forms, errors naming the line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseObj } from '../src/obj.js';

test('triangles and a quad fan-triangulated, 1-based and v/vt/vn indices', () => {
  const m = parseObj('# c\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nf 1/1 2/1/1 3//1\nf 1 2 3 4\n');
  assert.equal(m.nv, 4);
  assert.equal(m.nf, 3);
  assert.deepEqual([...m.F], [0, 1, 2, 0, 1, 2, 0, 2, 3]);
  assert.deepEqual([...m.V.subarray(3, 6)], [1, 0, 0]);
});

test('negative indices count back from the last vertex defined so far', () => {
  const m = parseObj('v 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -2 -1\nv 5 5 5\nf -4 -3 -1\n');
  assert.deepEqual([...m.F], [0, 1, 2, 0, 1, 3]);
});

test('a pentagon gives three fan triangles', () => {
  const m = parseObj('v 0 0 0\nv 1 0 0\nv 2 1 0\nv 1 2 0\nv 0 1 0\nf 1 2 3 4 5\n');
  assert.deepEqual([...m.F], [0, 1, 2, 0, 2, 3, 0, 3, 4]);
});

test('errors name the line and what was wrong', () => {
  assert.throws(() => parseObj('v 0 0 0\nv 1 0\n'), /OBJ line 2: a vertex needs 3 coordinates/);
  assert.throws(() => parseObj('v 0 0 x\n'), /OBJ line 1: vertex coordinate "x"/);
  assert.throws(() => parseObj('v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n'), /OBJ line 4: face index 4 is out of range \(3 vertices/);
  assert.throws(() => parseObj('v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n'), /OBJ line 4: face index "0"/);
  assert.throws(() => parseObj('v 0 0 0\nv 1 0 0\nv 0 1 0\n\nf 1 2\n'), /OBJ line 5: a face needs at least 3 vertices/);
  assert.throws(() => parseObj('v 0 0 0\nv 1 0 0\nv 0 1 0\nf -4 1 2\n'), /OBJ line 4: face index -4 is out of range/);
  assert.throws(() => parseObj('v 0 0 0\n'), /no faces/);
  assert.throws(() => parseObj('# nothing\n'), /no vertices/);
});

test('CRLF line ends are accepted', () => {
  const m = parseObj('v 0 0 0\r\nv 1 0 0\r\nv 0 1 0\r\nf 1 2 3\r\n');
  assert.equal(m.nf, 1);
});
