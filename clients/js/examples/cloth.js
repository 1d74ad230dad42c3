#!/usr/bin/env node
/**
 * Cloth drape: a square sheet pinned at two corners falls under gravity,
 * stepped with implicit Euler (problem.step) on a running locad daemon.
 *
 *   node examples/cloth.js [address] [n] [frames]     (default 127.0.0.1:7878 30 60)
 */
import { connect, grid } from '../src/index.js';

async function main() {
  const [address = '127.0.0.1:7878', n = '30', frames = '60'] = process.argv.slice(2);
  const N = Number(n);
  const h = 1 / 60;
  const c = await connect(address, { timeout: 30000 });
  const mesh = await c.meshCreate(grid(N));
  const p = await c.problemCreate({ mesh: mesh.mesh, variables: [{ name: 'x', dim: 3 }] });
  const inertia = await c.addTerm(p.problem, { energy: 'inertia', var: 'x', params: { density: 1 } });
  await c.addTerm(p.problem, { energy: 'spring', var: 'x', weight: h * h, params: { k: 2000 } });
  await c.addTerm(p.problem, { energy: 'gravity', var: 'x', weight: h * h });
  await c.fix(p.problem, { var: 'x', entities: Int32Array.of(N * (N - 1), N * N - 1) }); // top corners

  let params = { h, var: 'x', inertia_term: inertia.term, method: 'newton', return: ['x'] };
  for (let f = 0; f < Number(frames); f++) {
    const t0 = performance.now();
    const r = await c.step(p.problem, params);
    params = { return: ['x'] }; // the stepper persists
    const x = r.variables[0];
    const minZ = x.filter((_, i) => i % 3 === 2).reduce((a, b) => Math.min(a, b));
    console.log(`frame ${String(f).padStart(3)}  ${(performance.now() - t0).toFixed(2)} ms  ` +
      `iters ${r.iters}  kinetic ${r.kinetic.toExponential(3)}  lowest z ${minZ.toFixed(4)}`);
  }
  await c.delete(p.problem);
  await c.meshDelete(mesh.mesh);
  await c.close();
}

main().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});
