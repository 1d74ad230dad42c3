/** Unit tests of src/frameloop.js: one request in flight, the latest waiting one wins, errors reported. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FrameLoop } from '../src/frameloop.js';

/** A send function whose answers the test releases one by one. */
function manualSend() {
  const calls = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = (p) => new Promise((resolve, reject) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    calls.push({ p, resolve: (v) => { inFlight -= 1; resolve(v); }, reject: (e) => { inFlight -= 1; reject(e); } });
  });
  return { send, calls, max: () => maxInFlight };
}

const tick = () => new Promise((r) => setImmediate(r));

test('moves during a request coalesce to the latest; never two in flight', async () => {
  const s = manualSend();
  const results = [];
  const loop = new FrameLoop(s.send, { onResult: (p, r) => results.push([p, r]) });
  loop.request(1);
  await tick();
  loop.request(2);
  loop.request(3);
  loop.request(4);
  assert.equal(s.calls.length, 1);
  s.calls[0].resolve('a');
  await tick();
  assert.equal(s.calls.length, 2);
  assert.equal(s.calls[1].p, 4);
  s.calls[1].resolve('b');
  await loop.idle();
  assert.deepEqual(results, [[1, 'a'], [4, 'b']]);
  assert.equal(s.max(), 1);
  assert.equal(loop.sent, 2);
  assert.equal(loop.coalesced, 2);
});

test('each request sent when idle goes out at once', async () => {
  const s = manualSend();
  const loop = new FrameLoop(s.send);
  for (let i = 0; i < 3; i++) {
    loop.request(i);
    await tick();
    s.calls[i].resolve(i);
    await loop.idle();
  }
  assert.deepEqual(s.calls.map((c) => c.p), [0, 1, 2]);
});

test('a failed request is reported and the waiting one still goes', async () => {
  const s = manualSend();
  const errors = [];
  const loop = new FrameLoop(s.send, { onError: (e, p) => errors.push([e.message, p]) });
  loop.request('x');
  await tick();
  loop.request('y');
  s.calls[0].reject(new Error('boom'));
  await tick();
  await tick();
  assert.deepEqual(errors, [['boom', 'x']]);
  assert.equal(s.calls[1].p, 'y');
  s.calls[1].resolve();
  await loop.idle();
});

test('discardWaiting drops the waiting payload', async () => {
  const s = manualSend();
  const loop = new FrameLoop(s.send);
  loop.request(1);
  await tick();
  loop.request(2);
  loop.discardWaiting();
  s.calls[0].resolve();
  await loop.idle();
  assert.equal(s.calls.length, 1);
});
