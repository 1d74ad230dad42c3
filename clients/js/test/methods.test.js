import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Client, ErrorCode, connect, withShape } from '../src/index.js';
import { grid, startDaemon } from '../test-support/daemon.js';

const T = { timeout: 20000 };
let daemon;
before(async () => { daemon = await startDaemon(); });
after(() => daemon?.stop());

/** A 2-triangle sheet: the SPEC's worked example. */
const SHEET_V = new Float64Array([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0]);
const SHEET_F = new Int32Array([0, 1, 2, 0, 2, 3]);

/** ws (the browser's transport) needs a global WebSocket: Node >= 22, or Node 20 with --experimental-websocket. */
const NO_WS = typeof globalThis.WebSocket === 'function' ? false : 'no global WebSocket (Node 20: --experimental-websocket)';

for (const transport of ['tcp', 'unix', 'ws']) {
  describe(`over ${transport}`, { ...T, skip: transport === 'ws' && NO_WS }, () => {
    let c;
    before(async () => { c = await connect(daemon[transport], { timeout: 10000 }); });
    after(() => c?.close());

    test('server.info / health / stats', async () => {
      const info = await c.info();
      assert.equal(info.protocol, 1);
      assert.ok(info.methods.includes('problem.solve'));
      assert.ok(info.energies.some((e) => e.name === 'spring'));
      assert.equal((await c.health()).ok, true);
      const stats = await c.stats();
      assert.equal(typeof stats.requests, 'number');
    });

    test('three.js arrays: Float32Array positions and Uint32Array faces work as Float64/Int32', async () => {
      const m = await c.meshCreate({ V: Float32Array.from(SHEET_V), F: Uint32Array.from(SHEET_F) });
      assert.deepEqual([m.nv, m.nf], [4, 2]);
      const p = await c.problemCreate({ mesh: m.mesh, variables: [{ name: 'x', dim: 3 }] });
      await c.addTerm(p.problem, { energy: 'spring', var: 'x' });
      const r = await c.solve(p.problem, {
        fix: { var: 'x', entities: Uint32Array.of(0, 2), values: withShape(Float32Array.of(0, 0, 0, 1.5, 1.5, 0), [2, 3]) },
        return: ['x'],
      });
      assert.equal(r.variables[0][2 * 3], 1.5);
      await c.delete(p.problem);
      await c.meshDelete(m.mesh);
    });

    test('AbortSignal cancels a running solve on the daemon; delete removes meshes too', async () => {
      const { V: gv, F: gf } = grid(30);
      const m = await c.meshCreate({ V: gv, F: gf });
      const p = await c.problemCreate({ mesh: m.mesh, variables: [{ name: 'x', dim: 3 }] });
      await c.addTerm(p.problem, { energy: 'spring', var: 'x', params: { k: 10 } });
      await c.addTerm(p.problem, { energy: 'gravity', var: 'x' });
      const ac = new AbortController();
      const running = c.solve(p.problem, { method: 'gd', options: { max_iters: 1e7, gtol: 0, ftol: 0 } },
        { signal: ac.signal, onProgress: () => ac.abort() });
      await assert.rejects(running, (e) => e.code === ErrorCode.CANCELED);
      await c.health(); // the connection is fine
      const st = await c.stats();
      assert.ok(st.cancelled >= 1); // the daemon cancelled it too
      await c.delete(p.problem);
      await c.delete(m.mesh); // a mesh id through the same call
      assert.ok(!(await c.meshList()).some((e) => e.mesh === m.mesh));
    });

    test('mesh.list / problem.list: what was created, gone once deleted', async () => {
      const m = await c.meshCreate({ V: SHEET_V, F: SHEET_F, name: `list-${transport}` });
      const p = await c.problemCreate({ mesh: m.mesh, variables: [{ name: 'x', dim: 3 }] });
      const mesh = (await c.meshList()).find((e) => e.mesh === m.mesh);
      assert.deepEqual([mesh.name, mesh.nv, mesh.nf], [`list-${transport}`, 4, 2]);
      const prob = (await c.problemList()).find((e) => e.problem === p.problem);
      assert.deepEqual([prob.mesh, prob.device], [m.mesh, 'cpu']);
      await c.delete(p.problem);
      await c.meshDelete(m.mesh);
      assert.ok(!(await c.problemList()).some((e) => e.problem === p.problem));
      assert.ok(!(await c.meshList()).some((e) => e.mesh === m.mesh));
    });

    test('the worked example: create, solve with fix + return, eval, delete', async () => {
      const m = await c.meshCreate({ V: SHEET_V, F: SHEET_F });
      assert.deepEqual([m.nv, m.nf, m.ne], [4, 2, 5]);
      const p = await c.problemCreate({ mesh: m.mesh, variables: [{ name: 'x', dim: 3 }] });
      assert.equal(p.n_dofs, 12);
      const t = await c.addTerm(p.problem, { energy: 'spring', var: 'x', params: { k: 10.0 } });
      assert.equal(t.n_elems, 5);
      const seen = [];
      const r = await c.solve(p.problem, {
        method: 'newton',
        fix: { var: 'x', entities: Int32Array.of(0, 2), values: withShape(Float64Array.of(0, 0, 0, 1.2, 1.2, 0.5), [2, 3]) },
        return: ['x'],
      }, { onProgress: (pr) => seen.push(pr) });
      assert.equal(r.reason, 'gradient');
      assert.ok(r.iters >= 1);
      const x = r.variables[0];
      assert.ok(x instanceof Float64Array);
      assert.deepEqual(x.shape, [4, 3]);
      assert.deepEqual([...x.subarray(6, 9)], [1.2, 1.2, 0.5]);
      assert.equal(seen.length, r.iters);
      assert.equal(seen[0].problem, p.problem);
      assert.equal(seen[0].iter, 1);

      const e = await c.evaluate(p.problem, { what: ['gradient', 'hessian'] });
      assert.ok(e.gradient instanceof Float64Array && e.gradient.length === 12);
      assert.ok(Math.max(...e.gradient.map(Math.abs)) < 1e-6);
      assert.deepEqual(e.hessian.shape, [12, 12]);
      assert.ok(e.hessian.indptr instanceof Int32Array && e.hessian.indptr.length === 13);
      assert.equal(e.hessian.indices.length, e.hessian.data.length);
      assert.equal(await c.delete(p.problem), true);
      assert.equal(await c.meshDelete(m.mesh), true);
    });

    test('set / get variable round-trip, fix / unfix, info', async () => {
      const { V, F } = grid(5);
      const m = await c.meshCreate({ V, F, name: `grid-${transport}` });
      const p = await c.problemCreate({ mesh: `grid-${transport}`, name: `p-${transport}`, variables: [{ name: 'uv', dim: 2 }] });
      const values = withShape(Float64Array.from({ length: 50 }, (_, i) => Math.sin(i)), [25, 2]);
      assert.equal(await c.setVariable(`p-${transport}`, { var: 'uv', values }), true);
      const got = await c.getVariable(p.problem, 'uv');
      assert.deepEqual(got.values.shape, [25, 2]);
      assert.deepEqual([...got.values], [...values]);
      assert.equal((await c.fix(p.problem, { var: 'uv', entities: Int32Array.of(0, 4) })).n_fixed, 4);
      assert.equal((await c.unfix(p.problem, { var: 0 })).n_fixed, 0);
      const v2 = await c.addVariable(p.problem, { name: 'h', dim: 1, loc: 'face' });
      assert.deepEqual([v2.var, v2.loc, v2.n], [1, 'face', 32]);
      const info = await c.problemInfo(p.problem);
      assert.equal(info.n_dofs, 50 + 32);
      assert.equal(info.variables.length, 2);
      const mi = await c.meshInfo(m.mesh, { arrays: true });
      assert.deepEqual(mi.V.shape, [25, 3]);
      assert.deepEqual([...mi.F], [...F]);
      await c.delete(p.problem);
      await c.meshDelete(m.mesh);
    });

    test('mesh.load_obj from text and bytes; eval at x, hvp, remove_term', async () => {
      const obj = 'v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3\nf 1 3 4\n';
      const m1 = await c.meshLoadObj({ data: obj });
      const m2 = await c.meshLoadObj({ data: new TextEncoder().encode(obj) });
      assert.deepEqual([m1.nv, m1.nf, m2.nv, m2.nf], [4, 2, 4, 2]);
      const p = await c.problemCreate({ mesh: m1.mesh, variables: [{ name: 'x', dim: 3 }] });
      const term = await c.addTerm(p.problem, { energy: 'spring', var: 'x', params: { k: 1 } });
      const x = new Float64Array(12).map((_, i) => SHEET_V[i] * 2);
      const v = new Float64Array(12).fill(1);
      const e = await c.evaluate(p.problem, { what: ['energy', 'hvp'], x, v });
      assert.ok(e.energy > 0);
      assert.equal(e.hvp.length, 12);
      assert.equal((await c.evaluate(p.problem)).energy, 0);
      assert.equal(await c.removeTerm(p.problem, term.term), true);
      await c.delete(p.problem);
      await Promise.all([c.meshDelete(m1.mesh), c.meshDelete(m2.mesh)]);
    });

    test('problem.step: a cloth square falls under gravity', async () => {
      const { V, F } = grid(6);
      const m = await c.meshCreate({ V, F });
      const p = await c.problemCreate({ mesh: m.mesh, variables: [{ name: 'x', dim: 3 }] });
      const h = 0.02;
      const inertia = await c.addTerm(p.problem, { energy: 'inertia', var: 'x' });
      await c.addTerm(p.problem, { energy: 'spring', var: 'x', weight: h * h, params: { k: 100 } });
      await c.addTerm(p.problem, { energy: 'gravity', var: 'x', weight: h * h });
      await c.fix(p.problem, { var: 'x', entities: Int32Array.of(30, 35) });
      const r1 = await c.step(p.problem, { h, var: 'x', inertia_term: inertia.term, steps: 3, return: true });
      assert.equal(r1.steps, 3);
      const r2 = await c.step(p.problem, { steps: 2, return: ['x'] });
      const x = r2.variables[0];
      assert.ok(x[2] < 0, 'the free corner moved down');
      assert.equal(x[30 * 3 + 2], 0, 'the fixed corner stayed');
      await c.delete(p.problem);
    });

    test('devices: server.info lists them; problem.create places problems and says where', async () => {
      const info = await c.info();
      const devs = await c.devices();
      const ids = devs.map((d) => d.id);
      assert.equal(ids[0], 'cpu');
      assert.equal(devs[0].compute_capability, null);
      assert.ok(devs[0].cores >= 1 && devs[0].memory > 0);
      assert.ok(ids.includes(info.device));
      const { V, F } = grid(3);
      const m = await c.meshCreate({ V, F });
      const p = await c.problemCreate({ mesh: m.mesh, device: 'cpu', variables: [{ name: 'x', dim: 3 }] });
      assert.equal(p.device, 'cpu');
      assert.equal((await c.problemInfo(p.problem)).device, 'cpu');
      await c.addTerm(p.problem, { energy: 'spring', var: 'x' });
      const r = await c.solve(p.problem, { fix: { var: 'x', entities: Int32Array.of(0) }, options: { max_iters: 2 } });
      assert.equal(r.host_syncs, 0);
      assert.equal((await c.problemCreate({ mesh: m.mesh })).device, info.device);
      if (ids.includes('cuda:0')) {
        assert.equal((await c.problemCreate({ mesh: m.mesh, device: 'cuda:0' })).device, 'cuda:0');
      } else {
        await assert.rejects(c.problemCreate({ mesh: m.mesh, device: 'cuda:0' }), (e) => e.code === 5 && /cuda:0/.test(e.message));
      }
      for (const bad of ['gpu', 'cuda:x', 42]) {
        await assert.rejects(c.problemCreate({ mesh: m.mesh, device: bad }), (e) => e.code === 3 && /device/.test(e.message));
      }
      await c.meshDelete(m.mesh);
    });

    test('pipelined calls are matched by msgid', async () => {
      const calls = Array.from({ length: 200 }, (_, i) => (i % 2 ? c.health() : c.call('server.info')));
      const out = await Promise.all(calls);
      out.forEach((r, i) => assert.ok(i % 2 ? r.ok === true : r.protocol === 1));
    });
  });
}

for (const transport of ['tcp', 'ws']) {
  test(`new Client queues calls until connected; close rejects later calls (${transport})`,
    { ...T, skip: transport === 'ws' && NO_WS }, async () => {
      const c = new Client(daemon[transport]);
      const h = c.health();
      await c.ready;
      assert.equal((await h).ok, true);
      let closed = 0;
      c.once('close', () => closed++);
      await c.close();
      assert.equal(closed, 1);
      await assert.rejects(c.health(), { code: -1 });
    });
}
