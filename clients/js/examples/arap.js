#!/usr/bin/env node
/**
 * Interactive ARAP editing loop: every "frame" moves a handle and runs one
 * problem.solve with fix + return in a single round trip, as an editor would,
 * printing the frame times.
 *
 *   node examples/arap.js [address] [obj file] [frames]
 *   (default 127.0.0.1:7878, a 40 × 40 grid, 60 frames)
 */
import { readFile } from 'node:fs/promises';

import { connect, grid, withShape } from '../src/index.js';

/** Loads the mesh: an OBJ file when given, else a grid. */
async function loadMesh(c, file) {
  if (file) return c.meshLoadObj({ data: await readFile(file) });
  return c.meshCreate(grid(40));
}

/** Percentile p (0..1) of sorted numbers. */
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

async function main() {
  const [address = '127.0.0.1:7878', file, frames = '60'] = process.argv.slice(2);
  const c = await connect(address, { timeout: 30000 });
  const mesh = await loadMesh(c, file);
  const info = await c.meshInfo(mesh.mesh, { arrays: true });
  const rest = info.V;
  const p = await c.problemCreate({ mesh: mesh.mesh, variables: [{ name: 'x', dim: 3 }] });
  await c.addTerm(p.problem, { energy: 'arap', var: 'x' });

  // anchors: the first vertex stays, the last one is dragged in a circle
  const anchor = 0;
  const handle = info.nv - 1;
  const entities = Int32Array.of(anchor, handle);
  const times = [];
  for (let f = 0; f < Number(frames); f++) {
    const a = (2 * Math.PI * f) / Number(frames);
    const hx = rest.subarray(handle * 3, handle * 3 + 3);
    const values = withShape(Float64Array.of(
      ...rest.subarray(anchor * 3, anchor * 3 + 3),
      hx[0] + 0.3 * Math.cos(a) - 0.3, hx[1] + 0.3 * Math.sin(a), hx[2] + 0.2 * Math.sin(a),
    ), [2, 3]);
    const t0 = performance.now();
    const r = await c.solve(p.problem, {
      method: 'newton',
      options: { max_iters: 8, progress_every: 0 },
      fix: { var: 'x', entities, values },
      return: ['x'],
    });
    const ms = performance.now() - t0;
    times.push(ms);
    console.log(`frame ${String(f).padStart(3)}  ${ms.toFixed(2)} ms  ${r.reason}  iters ${r.iters}  ` +
      `energy ${r.energy.toExponential(3)}  daemon ${(r.t_total * 1e3).toFixed(1)} ms ` +
      `(linear ${(r.t_linear * 1e3).toFixed(1)})  ${r.variables[0].length / 3} vertices back`);
  }
  times.sort((x, y) => x - y);
  console.log(`frames ${times.length}: median ${pct(times, 0.5).toFixed(2)} ms, p95 ${pct(times, 0.95).toFixed(2)} ms`);
  await c.delete(p.problem);
  await c.meshDelete(mesh.mesh);
  await c.close();
}

main().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});
