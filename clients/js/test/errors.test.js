import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { connect, ErrorCode, LocadError, withShape } from '../src/index.js';
import { grid, startDaemon, within } from '../test-support/daemon.js';

const T = { timeout: 20000 };
let daemon;
let c;
let mesh;
let problem;
const { V, F } = grid(4); // 16 vertices, 18 faces

/** The transports the suite runs over: ws needs a global WebSocket (Node 20: --experimental-websocket). */
const TRANSPORTS = ['tcp', 'ws'];
const NO_WS = typeof globalThis.WebSocket === 'function' ? false : 'no global WebSocket (Node 20: --experimental-websocket)';

before(async () => { daemon = await startDaemon(); });
after(() => daemon?.stop());

/** Asserts that the promise rejects with a LocadError of that code. */
async function rejectsWith(promise, code, pattern) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof LocadError, `not a LocadError: ${err}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

const bin = (n) => new Uint8Array(n);

for (const transport of TRANSPORTS) {
  describe(`over ${transport}`, { ...T, skip: transport === 'ws' && NO_WS }, () => {
    before(async () => {
      c = await connect(daemon[transport], { timeout: 10000 });
      mesh = (await c.meshCreate({ V, F })).mesh;
      problem = (await c.problemCreate({ mesh, variables: [{ name: 'x', dim: 3 }] })).problem;
    });
    after(() => c?.close());

    test('bad arrays answer INVAL or PARAMS and name the parameter', T, async () => {
      await rejectsWith(c.call('mesh.create', { V: { dtype: 'f4', shape: [16, 3], data: bin(192) }, F }), ErrorCode.INVAL, /'V'/);
      await rejectsWith(c.call('mesh.create', { V: { dtype: 'f8', shape: [16, 3], data: bin(10) }, F }), ErrorCode.INVAL, /bytes/);
      await rejectsWith(c.meshCreate({ V: new Int32Array(48), F }), ErrorCode.INVAL, /dtype/);
      await rejectsWith(c.meshCreate({ V: new Float64Array(48).fill(NaN), F }), ErrorCode.INVAL, /non-finite/);
      await rejectsWith(c.meshCreate({ V, F: Int32Array.of(0, 1, 99) }), ErrorCode.INVAL, /out of range/);
      await rejectsWith(c.meshCreate({ V: [[0, 0, 0], [1, 0, 0], [0, 1]], F: [[0, 1, 2]] }), ErrorCode.INVAL);
      await rejectsWith(c.call('mesh.create', { F }), ErrorCode.PARAMS, /'V'/);
      await rejectsWith(c.call('mesh.create', { V: 'x', F }), ErrorCode.PARAMS, /'V'/);
    });

    test('wrong dtypes and shapes on problem methods answer INVAL', T, async () => {
      await rejectsWith(c.setVariable(problem, { var: 'x', values: withShape(new Float64Array(32), [16, 2]) }), ErrorCode.INVAL, /shape/);
      await rejectsWith(c.setVariable(problem, { var: 'x', values: withShape(new Int32Array(48), [16, 3]) }), ErrorCode.INVAL);
      await rejectsWith(c.fix(problem, { var: 'x', entities: Float64Array.of(1) }), ErrorCode.INVAL);
      await rejectsWith(c.fix(problem, { var: 'x', entities: Int32Array.of(100) }), ErrorCode.INVAL, /out of range/);
      await rejectsWith(c.evaluate(problem, { x: new Float64Array(3) }), ErrorCode.INVAL, /'x'/);
      await rejectsWith(c.solve(problem, { method: 'magic' }), ErrorCode.INVAL);
      await assert.rejects(c.solve(problem, { options: { max_iterz: 3 } }), (e) => e.code === ErrorCode.PARAMS || e.code === ErrorCode.INVAL);
      // Float32Array is widened (wrong length here: the daemon names the shape); other views are refused
      await rejectsWith(c.setVariable(problem, { var: 'x', values: new Float32Array(3) }), ErrorCode.INVAL);
      await assert.rejects(c.setVariable(problem, { var: 'x', values: new BigInt64Array(3) }), TypeError);
      await assert.rejects(c.fix(problem, { var: 'x', entities: Uint32Array.of(0xffffffff) }), RangeError);
    });

    test('unknown methods and ids', T, async () => {
      await rejectsWith(c.call('no.such.method'), ErrorCode.METHOD);
      await rejectsWith(c.call('contacts.update'), ErrorCode.PARAMS);
      await rejectsWith(c.evaluate(987654), ErrorCode.NOTFOUND);
      await rejectsWith(c.problemCreate({ mesh: 'nope' }), ErrorCode.NOTFOUND);
      await rejectsWith(c.getVariable(problem, 'y'), ErrorCode.NOTFOUND);
      await rejectsWith(c.meshInfo(424242), ErrorCode.NOTFOUND);
    });

    test('unknown energy name answers NOTFOUND', T, async () => {
      await rejectsWith(c.addTerm(problem, { energy: 'bogus', var: 'x' }), ErrorCode.NOTFOUND);
    });

    test('calls after delete answer NOTFOUND; a problem keeps its mesh alive', T, async () => {
      const m = await c.meshCreate({ V, F, name: 'doomed' });
      const p = await c.problemCreate({ mesh: 'doomed', name: 'doomed-p', variables: [{ name: 'x', dim: 3 }] });
      assert.equal(await c.meshDelete('doomed'), true);
      await rejectsWith(c.meshInfo(m.mesh), ErrorCode.NOTFOUND);
      await rejectsWith(c.problemCreate({ mesh: m.mesh }), ErrorCode.NOTFOUND);
      assert.equal((await c.evaluate('doomed-p')).energy, 0);
      assert.equal(await c.delete(p.problem), true);
      for (const call of [
        () => c.evaluate(p.problem), () => c.solve('doomed-p'), () => c.getVariable(p.problem, 0),
        () => c.addTerm(p.problem, { energy: 'spring', var: 'x' }), () => c.delete(p.problem),
      ]) {
        await rejectsWith(call(), ErrorCode.NOTFOUND);
      }
    });

    test('a malformed frame closes only that connection', T, async () => {
      const raw = net.createConnection(parseInt(daemon.tcp.split(':')[1], 10), '127.0.0.1');
      await within(new Promise((resolve) => {
        raw.on('connect', () => raw.write(Uint8Array.of(0x94, 0xc1)));
        raw.on('error', resolve);
        raw.on('close', resolve);
        raw.resume();
      }), 5000, 'the daemon closing a bad connection');
      assert.equal((await c.health()).ok, true);
    });

    test('bad params are answered and the connection stays open', T, async () => {
      await rejectsWith(c.call('mesh.create', 42), ErrorCode.PARAMS);
      await rejectsWith(c.call('problem.eval', { problem: [1, 2] }), ErrorCode.PARAMS);
      assert.equal((await c.health()).ok, true);
    });

    test('client-side timeouts and connection errors', T, async () => {
      const long = { method: 'gd', options: { max_iters: 1e7, gtol: 0, ftol: 0 } };
      const { V: gv, F: gf } = grid(30);
      const m = await c.meshCreate({ V: gv, F: gf });
      const p = await c.problemCreate({ mesh: m.mesh, variables: [{ name: 'x', dim: 3 }] });
      await c.addTerm(p.problem, { energy: 'spring', var: 'x' });
      await c.setVariable(p.problem, { var: 'x', values: withShape(gv.map((v, i) => 1.5 * v + 0.1 * Math.sin(7 * i)), [-1, 3]) });
      const t0 = Date.now();
      await rejectsWith(c.solve(p.problem, long, { timeout: 300 }), ErrorCode.TIMEOUT);
      assert.ok(Date.now() - t0 < 3000);
      assert.equal((await c.health()).ok, true, 'the connection survives a timeout');
      // the timed-out solve was cancelled on the daemon: a new one runs to its budget
      const r = await c.solve(p.problem, { method: 'lbfgs', options: { max_iters: 5 } }, { timeout: 10000 });
      assert.ok(['max_iters', 'gradient', 'decrement', 'ftol'].includes(r.reason), r.reason);
      assert.match(daemon.log(), new RegExp(`problem\\.cancel problem=${p.problem}: 1 request`), 'the client cancelled the timed-out solve');
      await rejectsWith(connect('127.0.0.1:1', { connectTimeout: 3000 }), ErrorCode.CONNECTION);
      await rejectsWith(connect('unix:/nonexistent/locad.sock'), ErrorCode.CONNECTION);
      await assert.rejects(connect('nonsense'), TypeError);
    });
  });
}
