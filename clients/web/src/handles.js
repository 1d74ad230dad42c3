/**
 * Handle groups of the editor: each click makes a group of vertices (one, or
 * a region), shift-click extends the last group; every handle vertex is fixed
 * at its target, and dragging a group moves its targets rigidly.
 */

export class Handles {
  /** No handles. */
  constructor() {
    this.clear();
  }

  /** Removes every handle. */
  clear() {
    this.groups = new Map(); // id -> Set of vertices
    this.groupOfVertex = new Map();
    this.targets = new Map(); // vertex -> [x, y, z]
    this.nextGroup = 1;
    this.last = null;
  }

  /** Adds vertices (not yet handles) as a new group (extend: to the last group) at positions X (flat [nv*3]). */
  add(vertices, X, extend = false) {
    let gid = extend && this.groups.has(this.last) ? this.last : null;
    if (gid === null) {
      gid = this.nextGroup++;
      this.groups.set(gid, new Set());
    }
    for (const v of vertices) {
      if (this.groupOfVertex.has(v)) continue;
      this.groups.get(gid).add(v);
      this.groupOfVertex.set(v, gid);
      this.targets.set(v, [X[3 * v], X[3 * v + 1], X[3 * v + 2]]);
    }
    if (this.groups.get(gid).size === 0) this.groups.delete(gid);
    else this.last = gid;
    return gid;
  }

  /** Removes the group holding vertex v; returns whether there was one. */
  removeGroupOf(v) {
    const gid = this.groupOfVertex.get(v);
    if (gid === undefined) return false;
    for (const u of this.groups.get(gid)) {
      this.groupOfVertex.delete(u);
      this.targets.delete(u);
    }
    this.groups.delete(gid);
    if (this.last === gid) this.last = null;
    return true;
  }

  /** The group id of vertex v, or undefined. */
  groupOf(v) {
    return this.groupOfVertex.get(v);
  }

  /** Every handle vertex, ascending (Int32Array). */
  entities() {
    return Int32Array.from([...this.targets.keys()].sort((a, b) => a - b));
  }

  /** Targets of entities() in the same order, flat [m*3]. */
  values() {
    const e = this.entities();
    const out = new Float64Array(3 * e.length);
    e.forEach((v, i) => out.set(this.targets.get(v), 3 * i));
    return out;
  }

  /** Snapshot of a group's targets (Map vertex -> [x, y, z]) to drag from. */
  snapshot(gid) {
    return new Map([...this.groups.get(gid)].map((v) => [v, [...this.targets.get(v)]]));
  }

  /** Sets a group's targets to a snapshot moved by d = [dx, dy, dz]. */
  moveFrom(snapshot, d) {
    for (const [v, p] of snapshot) this.targets.set(v, [p[0] + d[0], p[1] + d[1], p[2] + d[2]]);
  }

  /** The centroid of a snapshot's points. */
  static centroid(snapshot) {
    const c = [0, 0, 0];
    for (const p of snapshot.values()) for (let k = 0; k < 3; k++) c[k] += p[k] / snapshot.size;
    return c;
  }

  /** Number of handle vertices. */
  get size() {
    return this.targets.size;
  }
}
