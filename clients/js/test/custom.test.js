import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { connect, energy, grid, mat, norm, select, vec, withShape } from '../src/index.js';
import { startDaemon } from '../test-support/daemon.js';

let daemon;
before(async () => { daemon = await startDaemon(); });
after(() => daemon?.stop());

const spring = energy({ element: 'edge', dim: 3, consts: ['rest'], params: ['k'] },
  ({ x: [x0, x1], rest, k }) => norm(x1.sub(x0)).sub(rest).pow(2).mul(k).mul(0.5));

/** Two problems on one 5 x 5 grid with the same stretched, perturbed x. */
async function twoProblems(c) {
  const { V, F } = grid(5);
  const X = withShape(Float64Array.from(V, (v, i) => v * 1.1 + 0.01 * Math.sin(i)), [V.length / 3, 3]);
  const m = await c.meshCreate({ V, F });
  const pa = await c.problemCreate({ mesh: m.mesh, variables: [{ name: 'x', dim: 3, init: X }] });
  const pb = await c.problemCreate({ mesh: m.mesh, variables: [{ name: 'x', dim: 3, init: X }] });
  return { m, pa, pb };
}

test('a built custom spring matches the built-in spring over the wire', { timeout: 20000 }, async () => {
  const c = await connect(daemon.tcp, { timeout: 10000 });
  try {
    const { pa, pb } = await twoProblems(c);
    const ta = await c.addTerm(pa.problem, { energy: 'spring', var: 'x', params: { k: 3 } });
    const rest = (await c.getTerm(pa.problem, ta.term)).consts;
    await c.addTerm(pb.problem, { energy: spring, var: 'x', params: { k: 3 }, consts: rest });
    const ea = await c.evaluate(pa.problem, { what: ['energy', 'gradient'] });
    const eb = await c.evaluate(pb.problem, { what: ['energy', 'gradient'] });
    assert.ok(Math.abs(ea.energy - eb.energy) <= 1e-13 * Math.abs(ea.energy));
    const scale = Math.max(...ea.gradient.map(Math.abs));
    ea.gradient.forEach((g, i) => assert.ok(Math.abs(g - eb.gradient[i]) <= 1e-13 * scale));
    const info = await c.problemInfo(pb.problem);
    assert.deepEqual(info.terms.map((t) => t.energy), ['custom']);
  } finally {
    c.close();
  }
});

test('building checks shapes and branches like the daemon', () => {
  assert.deepEqual(spring.paramNames, ['k']);
  assert.deepEqual(spring.constNames, ['rest']);
  assert.equal(spring.description.nodes[0][0], 'x');
  assert.throws(() => energy({ element: 'edge', dim: 3 }, ({ x: [a] }) => a.add(1)), /shapes differ: a vector of 3 and a scalar/);
  assert.throws(() => energy({ element: 'edge', dim: 3 }, ({ x: [a, b] }) => a.mul(b)), /use dot or cross/);
  assert.throws(() => energy({ element: 'edge', dim: 3 }, ({ x: [a] }) => a.at(3)), /out of range/);
  assert.throws(() => energy({ element: 'tet', dim: 3 }, () => null), /element 'tet'/);
  const hinge = energy({ element: 'vertex', dim: 1, params: ['a'] }, ({ x: [x], a }) => select(x.lt(a), a.sub(x).pow(2), 0));
  assert.equal(hinge.description.nodes.filter((n) => n[0] === 'sub').length, 1);
  const m = energy({ element: 'face', dim: 2 }, ({ x: [a, b, c] }) => mat([[b.at(0).sub(a.at(0)), c.at(0).sub(a.at(0))],
    [b.at(1).sub(a.at(1)), c.at(1).sub(a.at(1))]]).det());
  assert.equal(m.description.nodes.at(-1)[0], 'det2');
  assert.equal(vec.length, 0);
});

test('a residual energy with rest constants matches the built-in residual over the wire', { timeout: 20000 }, async () => {
  const length = energy({ element: 'edge', dim: 3, consts: ['L'], residual: true, rest: ({ X: [a, b] }) => norm(b.sub(a)) },
    ({ x: [x0, x1], L }) => norm(x1.sub(x0)).sub(L));
  assert.ok(length.description.residuals.length === 1 && length.description.rest.consts.length === 1);
  assert.throws(() => energy({ element: 'edge', dim: 3, residual: true }, ({ x: [a, b] }) => [a, b, a]), /9 components; at most 6/);
  assert.throws(() => energy({ element: 'edge', dim: 3, consts: ['L'], rest: ({ X: [a] }) => a }, ({ L }) => L), /rest gives 3 constants; the energy reads 1/);
  const c = await connect(daemon.tcp, { timeout: 10000 });
  try {
    const { pa, pb } = await twoProblems(c);
    await c.addTerm(pa.problem, { energy: 'res_edge_length', var: 'x' });
    await c.addTerm(pb.problem, { energy: length, var: 'x' });
    const ea = await c.evaluate(pa.problem, { what: ['energy', 'jacobian'] });
    const eb = await c.evaluate(pb.problem, { what: ['energy', 'jacobian'] });
    assert.ok(Math.abs(ea.energy - eb.energy) <= 1e-13 * Math.abs(ea.energy));
    assert.equal(eb.residual.length, ea.residual.length);
    ea.residual.forEach((r, i) => assert.ok(Math.abs(r - eb.residual[i]) <= 1e-13));
    assert.equal((await c.problemInfo(pb.problem)).n_residuals, ea.residual.length);
  } finally {
    await c.close();
  }
});
