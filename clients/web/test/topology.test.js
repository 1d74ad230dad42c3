/** Unit tests of src/topology.js: boundary loops, the circle boundary, UV area scaling, flips, regions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { grid } from '../../js/src/mesh.js';
import { area3, bbox, boundaryLoops, circlePositions, countFlips, meanEdge, scaleToArea, verticesWithin } from '../src/topology.js';

/** A closed tetrahedron, outward oriented. */
const TET = {
  V: Float64Array.of(0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1),
  F: Int32Array.of(0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3),
};

test('a grid has one boundary loop of 4(n-1) vertices, walked along the faces', () => {
  const n = 5;
  const { V, F } = grid(n);
  const loops = boundaryLoops(F, V.length / 3);
  assert.equal(loops.length, 1);
  assert.equal(loops[0].length, 4 * (n - 1));
  // consecutive loop vertices share a face edge in that direction
  const directed = new Set();
  for (let t = 0; t < F.length; t += 3) for (let k = 0; k < 3; k++) directed.add(`${F[t + k]},${F[t + (k + 1) % 3]}`);
  const L = loops[0];
  for (let k = 0; k < L.length; k++) assert.ok(directed.has(`${L[k]},${L[(k + 1) % L.length]}`));
});

test('a closed mesh has no boundary loop', () => {
  assert.equal(boundaryLoops(TET.F, 4).length, 0);
});

test('circle positions lie on the unit circle, spaced by arc length', () => {
  const { V, F } = grid(4);
  const loop = boundaryLoops(F, V.length / 3)[0];
  const p = circlePositions(V, loop);
  for (let k = 0; k < loop.length; k++) assert.ok(Math.abs(Math.hypot(p[2 * k], p[2 * k + 1]) - 1) < 1e-12);
  assert.deepEqual([p[0], p[1]], [1, 0]);
  // equal grid edges: equal angles
  const a1 = Math.atan2(p[3], p[2]);
  assert.ok(Math.abs(a1 - (2 * Math.PI) / loop.length) < 1e-12);
});

test('scaleToArea makes the UV area the 3D area; flips counted', () => {
  const { V, F } = grid(3);
  const uv = new Float64Array((V.length / 3) * 2);
  for (let i = 0; i < V.length / 3; i++) [uv[2 * i], uv[2 * i + 1]] = [3 * V[3 * i], 3 * V[3 * i + 1]];
  scaleToArea(uv, V, F);
  assert.ok(Math.abs(uv[2 * 8] - V[3 * 8]) < 1e-12);
  assert.equal(countFlips(uv, F), 0);
  for (let i = 0; i < uv.length; i += 2) uv[i] = -uv[i];
  assert.equal(countFlips(uv, F), F.length / 3);
  assert.throws(() => scaleToArea(uv, V, F), /non-positive area/);
});

test('area, bbox, mean edge and region selection', () => {
  assert.ok(Math.abs(area3(TET.V, TET.F) - (1.5 + Math.sqrt(3) / 2)) < 1e-12);
  assert.deepEqual(bbox(TET.V).max, [1, 1, 1]);
  assert.ok(meanEdge(TET.V, TET.F) > 1);
  assert.deepEqual(verticesWithin(TET.V, 0, 1.0), [0, 1, 2, 3]);
  assert.deepEqual(verticesWithin(TET.V, 1, 0.5), [1]);
});
