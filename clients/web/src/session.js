/**
 * The editor's daemon session: uploads a mesh, builds the ARAP or cloth
 * problem on its 3D positions, runs one editor frame (fix the handles at
 * their targets, solve, return x) and computes UV layouts (Tutte, then
 * symmetric Dirichlet). Talks to the daemon through a locad Client.
 */
import { CLOTH, CLOTH_METHOD, FRAME_METHOD, FRAME_OPTIONS, SETTLE_OPTIONS, STEP_OPTIONS, UV_OPTIONS } from './config.js';

/** Solver options by frame kind. */
const OPTIONS = { drag: FRAME_OPTIONS, settle: SETTLE_OPTIONS, step: STEP_OPTIONS };
import { boundaryLoops, circlePositions, countFlips, scaleToArea } from './topology.js';

/** Shapes a flat typed array as [n, k] for the client (withShape's convention). */
function shaped(arr, k) {
  arr.shape = [arr.length / k, k];
  return arr;
}

export class Session {
  /** @param {object} client a connected locad Client (meshCreate, problemCreate, addTerm, solve, delete) */
  constructor(client) {
    this.client = client;
    this.mesh = null;
    this.problem = null;
    this.mode = null;
  }

  /** Replaces the daemon's mesh by V/F (flat arrays); resolves to mesh.create's result. */
  async setMesh(V, F, name) {
    await this.dropProblem();
    if (this.mesh !== null) await this.client.delete(this.mesh).catch(() => {});
    this.mesh = null;
    const r = await this.client.meshCreate({ V: shaped(Float64Array.from(V), 3), F: shaped(Int32Array.from(F), 3) });
    this.mesh = r.mesh;
    this.meshName = name;
    return r;
  }

  /** Deletes the current problem, if any. */
  async dropProblem() {
    if (this.problem === null) return;
    const p = this.problem;
    this.problem = null;
    await this.client.delete(p).catch(() => {});
  }

  /** Creates the problem of mode "arap" or "cloth" on the mesh's 3D positions (variable "x"). */
  async setMode(mode) {
    if (this.mesh === null) throw new Error('no mesh loaded: load one before choosing a mode');
    if (mode !== 'arap' && mode !== 'cloth') throw new Error(`unknown mode "${mode}": expected "arap" or "cloth"`);
    await this.dropProblem();
    const p = await this.client.problemCreate({ mesh: this.mesh, variables: [{ name: 'x', dim: 3 }] });
    this.problem = p.problem;
    this.mode = mode;
    this.fixed = new Set();
    if (mode === 'arap') await this.client.addTerm(p.problem, { energy: 'arap', var: 'x' });
    else await this.addClothTerms(p.problem);
    return p;
  }

  /** StVK membrane, bending and gravity terms (engine/apps/apps.c's cloth material). */
  async addClothTerms(problem) {
    await this.client.addTerm(problem, { energy: 'stvk', var: 'x', params: CLOTH.stvk });
    await this.client.addTerm(problem, { energy: 'bending', var: 'x', params: CLOTH.bending });
    await this.client.addTerm(problem, { energy: 'gravity', var: 'x', params: CLOTH.gravity });
  }

  /**
   * One editor frame: every handle vertex fixed at its target (vertices no
   * longer handles freed; the fixed set is otherwise left as it is, so a solver
   * may keep its factorization), a few solver iterations, the positions returned.
   * @param {Int32Array} entities handle vertices
   * @param {Float64Array} values their targets, flat [m*3]
   * @param {'drag'|'settle'|'step'} [kind] drag frame (FRAME_OPTIONS), settle frame after a drop
   *   (SETTLE_OPTIONS) or one guaranteed iteration (STEP_OPTIONS)
   * @returns {Promise<{x: Float64Array, energy: number, reason: string, iters: number, t_total: number}>}
   */
  async frame(entities, values, kind = 'drag') {
    if (!(kind in OPTIONS)) throw new Error(`unknown frame kind "${kind}": expected drag, settle or step`);
    if (this.problem === null) throw new Error('no problem: load a mesh first');
    const now = new Set(entities);
    const freed = [...this.fixed].filter((v) => !now.has(v));
    const params = {
      method: this.mode === 'cloth' ? CLOTH_METHOD : FRAME_METHOD,
      options: OPTIONS[kind],
      fix: { var: 'x', entities: Int32Array.from(entities), values: shaped(Float64Array.from(values), 3) },
      return: ['x'],
    };
    if (freed.length) params.unfix = { var: 'x', entities: Int32Array.from(freed) };
    const r = await this.client.solve(this.problem, params);
    this.fixed = now;
    const x = r.variables[0] ?? Object.values(r.variables)[0];
    return { x, energy: r.energy, reason: r.reason, iters: r.iters, t_total: r.t_total };
  }

  /**
   * UV layout of a disk mesh: Tutte (boundary on the circle, uniform
   * Dirichlet, one exact Newton step), scaled to the 3D area, then symmetric
   * Dirichlet. Throws with a clear message for meshes that are not disks.
   * @returns {Promise<{uv: Float64Array, tutte: Float64Array, energy: number, iters: number, flips: number}>}
   */
  async uvLayout(V, F) {
    const nv = V.length / 3;
    const loops = boundaryLoops(F, nv);
    if (loops.length === 0) throw new Error(`UV layout needs a mesh with a boundary: ${this.meshName ?? 'this mesh'} is closed`);
    if (loops.length > 1) throw new Error(`UV layout needs a disk (one boundary loop): ${this.meshName ?? 'this mesh'} has ${loops.length}`);
    const tutte = await this.tutte(loops[0], V);
    scaleToArea(tutte, V, F);
    const sd = await this.symmetricDirichlet(tutte);
    return { ...sd, tutte, flips: countFlips(sd.uv, F) };
  }

  /** The Tutte layout (uv, flat [nv*2]) with the loop on the unit circle. */
  async tutte(loop, V) {
    const c = this.client;
    const p = await c.problemCreate({ mesh: this.mesh, variables: [{ name: 'uv', dim: 2 }] });
    try {
      await c.fix(p.problem, { var: 'uv', entities: loop, values: shaped(circlePositions(V, loop), 2) });
      await c.addTerm(p.problem, { energy: 'dirichlet', var: 'uv' });
      const r = await c.solve(p.problem, {
        method: 'newton', options: { max_iters: 1, gtol: 0, reg: 0, linear: 'cholmod', progress_every: 0 }, return: ['uv'],
      });
      return Float64Array.from(r.variables[0]);
    } finally {
      await c.delete(p.problem).catch(() => {});
    }
  }

  /** Symmetric Dirichlet from the initial layout init (flat [nv*2]), all vertices free. */
  async symmetricDirichlet(init) {
    const c = this.client;
    const p = await c.problemCreate({
      mesh: this.mesh, variables: [{ name: 'uv', dim: 2, init: shaped(Float64Array.from(init), 2) }],
    });
    try {
      await c.addTerm(p.problem, { energy: 'symmetric_dirichlet', var: 'uv' });
      const r = await c.solve(p.problem, { method: 'newton', options: UV_OPTIONS, return: ['uv'] });
      return { uv: Float64Array.from(r.variables[0]), energy: r.energy, iters: r.iters, reason: r.reason };
    } finally {
      await c.delete(p.problem).catch(() => {});
    }
  }
}
