/** Unit tests of src/handles.js (handle groups, targets, drags) and src/stats.js (percentiles, history). */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Handles } from '../src/handles.js';
import { FrameHistory, percentile } from '../src/stats.js';

const X = Float64Array.of(0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0);

test('groups: add, extend with shift, remove by any member', () => {
  const h = new Handles();
  const g1 = h.add([0], X);
  const g2 = h.add([2], X);
  h.add([3], X, true); // extends g2
  assert.notEqual(g1, g2);
  assert.equal(h.groupOf(3), g2);
  assert.deepEqual([...h.entities()], [0, 2, 3]);
  assert.deepEqual([...h.values()], [0, 0, 0, 2, 0, 0, 3, 0, 0]);
  assert.equal(h.removeGroupOf(3), true);
  assert.deepEqual([...h.entities()], [0]);
  assert.equal(h.removeGroupOf(1), false);
  assert.equal(h.add([0], X), h.nextGroup - 1); // already a handle: an empty group is not kept
  assert.equal(h.groups.size, 1);
});

test('a drag moves one group rigidly from its snapshot', () => {
  const h = new Handles();
  h.add([0], X);
  const g = h.add([1, 2], X);
  const snap = h.snapshot(g);
  assert.deepEqual(Handles.centroid(snap), [1.5, 0, 0]);
  h.moveFrom(snap, [0, 1, 0]);
  h.moveFrom(snap, [0, 2, 0]); // from the snapshot, not accumulated
  assert.deepEqual([...h.values()], [0, 0, 0, 1, 2, 0, 2, 2, 0]);
});

test('percentiles and the bounded frame history', () => {
  assert.equal(percentile([5, 1, 3, 2, 4], 0.5), 3);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95), 10);
  assert.ok(Number.isNaN(percentile([], 0.5)));
  const f = new FrameHistory(3);
  for (let i = 1; i <= 5; i++) f.push({ ms: i, energy: 1 });
  assert.equal(f.items.length, 3);
  assert.equal(f.total, 5);
  assert.deepEqual(f.times(), { p50: 4, p95: 5 });
});
