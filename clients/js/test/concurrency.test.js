import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { connect, withShape } from '../src/index.js';
import { grid, startDaemon, within } from '../test-support/daemon.js';

const T = { timeout: 30000 };
let daemon;
before(async () => { daemon = await startDaemon(); });
after(() => daemon?.stop());

/** A spring problem on an n × n grid, stretched so that solving takes work. */
async function stretched(c, n) {
  const { V, F } = grid(n);
  const m = await c.meshCreate({ V, F });
  const p = await c.problemCreate({ mesh: m.mesh, variables: [{ name: 'x', dim: 3 }] });
  await c.addTerm(p.problem, { energy: 'spring', var: 'x' });
  const x = withShape(V.map((v, i) => 1.5 * v + 0.1 * Math.sin(7 * i)), [-1, 3]);
  await c.setVariable(p.problem, { var: 'x', values: x });
  return p.problem;
}

/** Options for a solve that only stops when cancelled (or after 20 s). */
const ENDLESS = { method: 'gd', options: { max_iters: 1e7, gtol: 0, ftol: 0, time_budget: 20, progress_every: 1 } };

test('20 concurrent clients x 50 requests, zero errors', T, async () => {
  const probe = await connect(daemon.tcp);
  const before = await probe.stats();
  await probe.close();
  const one = async (k) => {
    const c = await connect(k % 2 ? daemon.tcp : daemon.unix, { timeout: 15000 });
    const { V, F } = grid(4 + (k % 3));
    const n = V.length / 3;
    const m = await c.meshCreate({ V, F, name: `m${k}` });
    const p = await c.problemCreate({ mesh: m.mesh, variables: [{ name: 'x', dim: 3 }] });
    await c.addTerm(p.problem, { energy: 'spring', var: 'x', params: { k: 1 + k } });
    // pipelined in windows of 11: 20 clients x 11 stays below the daemon's
    // queue depth (256), beyond which it rightly answers BUSY
    const request = (i) => {
      const values = withShape(V.map((v) => v * (1 + (i % 5) / 10)), [n, 3]);
      switch (i % 4) {
        case 0: return c.setVariable(p.problem, { var: 'x', values }).then((r) => assert.equal(r, true));
        case 1: return c.getVariable(p.problem, 'x').then((r) => assert.equal(r.values.length, 3 * n));
        case 2: return c.evaluate(p.problem, { what: 'gradient' }).then((r) => assert.equal(r.gradient.length, 3 * n));
        default: return c.health().then((r) => assert.equal(r.ok, true));
      }
    };
    for (let i = 0; i < 44; i += 11) {
      await Promise.all(Array.from({ length: 11 }, (_, j) => request(i + j)));
    }
    const r = await c.solve(p.problem, { method: 'lbfgs', options: { max_iters: 20 }, return: true });
    assert.equal(r.variables[0].length, 3 * n);
    await c.delete(p.problem);
    await c.meshDelete(`m${k}`);
    await c.close();
    return 50;
  };
  const counts = await within(Promise.all(Array.from({ length: 20 }, (_, k) => one(k))), 25000, '1000 requests');
  assert.equal(counts.reduce((a, b) => a + b), 1000);
  const c = await connect(daemon.tcp);
  const stats = await c.stats();
  assert.equal(stats.errors, before.errors, 'no request failed on the daemon');
  assert.ok(stats.requests_received - before.requests_received >= 1000, `${stats.requests_received - before.requests_received} requests`);
  await c.close();
});

test('progress events, and cancel stops a running solve', T, async () => {
  const c = await connect(daemon.unix, { timeout: 15000 });
  const problem = await stretched(c, 30);
  const events = [];
  c.on('progress', (e) => events.push(e));
  let first;
  const started = new Promise((resolve) => { first = resolve; });
  const solving = c.solve(problem, ENDLESS, { onProgress: first });
  await within(started, 5000, 'the first progress event');
  const cancelled = await c.cancel(problem);
  assert.ok(cancelled);
  const r = await within(solving, 5000, 'the cancelled solve');
  assert.equal(r.reason, 'cancelled');
  assert.ok(events.length >= 1);
  assert.ok(events.every((e) => e.problem === problem && e.method === 'gd'));
  assert.deepEqual(events.map((e) => e.iter), events.map((_, i) => i + 1));
  await c.delete(problem);
  await c.close();
});

test('a client disconnecting mid-solve does not disturb another', T, async () => {
  const a = await connect(daemon.tcp, { timeout: 15000 });
  const b = await connect(daemon.unix, { timeout: 15000 });
  const pa = await stretched(a, 40);
  const pb = await stretched(b, 8);
  let first;
  const started = new Promise((resolve) => { first = resolve; });
  const doomed = a.solve(pa, ENDLESS, { onProgress: first });
  await within(started, 5000, 'a progress event');
  a.socket.destroy(); // vanish without a goodbye
  await assert.rejects(doomed, { code: -1 });
  const t0 = Date.now();
  for (let i = 0; i < 20; i++) {
    const r = await b.solve(pb, { method: 'newton', options: { max_iters: 20 }, return: ['x'] });
    assert.ok(r.variables[0].length === 3 * 64);
    assert.equal((await b.evaluate(pb)).energy >= 0, true);
  }
  assert.ok(Date.now() - t0 < 10000, 'b was served while a was gone');
  // the abandoned solve is cancelled by the daemon: its problem becomes usable
  const r = await within(b.solve(pa, { method: 'lbfgs', options: { max_iters: 3 } }), 10000, 'a solve on the abandoned problem');
  assert.ok(r.iters <= 3);
  await b.delete(pa);
  await b.delete(pb);
  await b.close();
});
