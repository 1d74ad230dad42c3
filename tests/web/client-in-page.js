// The JS client's method checks run inside the browser page (evaluated by editor.test.mjs as the
// body of an async function with `address` in scope): the SPEC's worked example over ws://, the
// three.js array types, progress notifications, daemon errors as LocadError, mesh.list and close.
// Returns a list of [name, passed, detail].
const { Client, ErrorCode, LocadError, withShape } = await import('/client/index.js');
const results = [];
const expect = (name, cond, detail = '') => results.push([name, !!cond, String(detail)]);
const c = new Client(address, { timeout: 20000 });
await c.ready;
const info = await c.info();
expect('server.info over ws', info.protocol === 1 && info.methods.includes('problem.solve'), info.version);
const V = new Float64Array([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0]);
const F = new Int32Array([0, 1, 2, 0, 2, 3]);
const m = await c.meshCreate({ V, F, name: 'browser-sheet' });
expect('mesh.create', m.nv === 4 && m.nf === 2 && m.ne === 5, JSON.stringify(m));
const p = await c.problemCreate({ mesh: m.mesh, variables: [{ name: 'x', dim: 3 }] });
expect('problem.create', p.n_dofs === 12, p.n_dofs);
await c.addTerm(p.problem, { energy: 'spring', var: 'x', params: { k: 10 } });
const progress = [];
const r = await c.solve(p.problem, {
  method: 'newton',
  fix: { var: 'x', entities: Int32Array.of(0, 2), values: withShape(Float64Array.of(0, 0, 0, 1.2, 1.2, 0.5), [2, 3]) },
  return: ['x'],
}, { onProgress: (e) => progress.push(e.iter) });
const x = r.variables[0] ?? r.variables.x;
expect('solve with fix + return: Float64Array [4, 3]', x instanceof Float64Array && x.shape?.join() === '4,3' && x[6] === 1.2,
  `${x?.constructor?.name} ${x?.shape}`);
expect('problem.progress notifications reach onProgress', progress.length >= 1 && progress[0] === 1, progress.join());
expect('the solve converged', r.reason === 'gradient' || r.reason === 'decrement', r.reason);
const e = await c.evaluate(p.problem, { what: ['gradient', 'hessian'] });
expect('problem.eval gradient + CSR hessian', e.gradient.length === 12 && e.hessian.shape.join() === '12,12' && e.hessian.indptr instanceof Int32Array,
  e.hessian.shape);
const m32 = await c.meshCreate({ V: Float32Array.from(V), F: Uint32Array.from(F) });
expect('Float32Array / Uint32Array (three.js buffers) accepted', m32.nv === 4, m32.nv);
const listed = await c.meshList();
expect('mesh.list', listed.some((l) => l.name === 'browser-sheet'), listed.length);
await c.delete(p.problem);
let err = null;
try { await c.evaluate(p.problem); } catch (x2) { err = x2; }
expect('a deleted problem answers NOTFOUND as a LocadError', err instanceof LocadError && err.code === ErrorCode.NOTFOUND, err?.message);
await c.delete(m.mesh);
await c.delete(m32.mesh);
let closed = false;
c.on('close', () => { closed = true; });
await c.close();
expect('close() ends the connection and emits close', closed, closed);
let after = null;
try { await c.info(); } catch (x3) { after = x3; }
expect('a call after close rejects with CONNECTION', after?.code === ErrorCode.CONNECTION, after?.message);
return results;
