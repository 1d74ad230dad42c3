/**
 * Mesh geometry helpers for the editor (pure functions on flat arrays):
 * boundary loops, the Tutte circle boundary, UV area scaling, flipped
 * triangles, bounding boxes and neighbourhoods for region selection.
 */

/** Boundary loops of a triangle mesh (F flat [nf*3]), each walked along the faces' orientation. */
export function boundaryLoops(F, nv) {
  const key = (a, b) => a * nv + b;
  const directed = new Set();
  for (let t = 0; t < F.length; t += 3) {
    for (let k = 0; k < 3; k++) directed.add(key(F[t + k], F[t + (k + 1) % 3]));
  }
  const next = new Map();
  for (const e of directed) {
    const a = Math.floor(e / nv);
    const b = e % nv;
    if (!directed.has(key(b, a))) next.set(a, b);
  }
  return walkLoops(next);
}

/** Follows next[] from the smallest unvisited start until every boundary half-edge is used. */
function walkLoops(next) {
  const loops = [];
  const seen = new Set();
  for (const start of [...next.keys()].sort((x, y) => x - y)) {
    if (seen.has(start)) continue;
    const loop = [];
    for (let v = start; v !== undefined && !seen.has(v); v = next.get(v)) {
      seen.add(v);
      loop.push(v);
    }
    loops.push(Int32Array.from(loop));
  }
  return loops;
}

/** Places a boundary loop on the unit circle at angles proportional to 3D arc length: Float64Array [n*2]. */
export function circlePositions(V, loop) {
  const n = loop.length;
  const cum = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) cum[k + 1] = cum[k] + dist3(V, loop[k], loop[(k + 1) % n]);
  const out = new Float64Array(2 * n);
  for (let k = 0; k < n; k++) {
    const a = (2 * Math.PI * cum[k]) / cum[n];
    out[2 * k] = Math.cos(a);
    out[2 * k + 1] = Math.sin(a);
  }
  return out;
}

/** Euclidean distance between vertices i and j of V (flat [nv*3]). */
function dist3(V, i, j) {
  return Math.hypot(V[3 * i] - V[3 * j], V[3 * i + 1] - V[3 * j + 1], V[3 * i + 2] - V[3 * j + 2]);
}

/** Total 3D area of the mesh. */
export function area3(V, F) {
  let a = 0;
  for (let t = 0; t < F.length; t += 3) {
    const [i, j, k] = [3 * F[t], 3 * F[t + 1], 3 * F[t + 2]];
    const u = [V[j] - V[i], V[j + 1] - V[i + 1], V[j + 2] - V[i + 2]];
    const w = [V[k] - V[i], V[k + 1] - V[i + 1], V[k + 2] - V[i + 2]];
    a += 0.5 * Math.hypot(u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]);
  }
  return a;
}

/** Signed area of UV triangle t (counter-clockwise positive). */
export function uvArea(uv, F, t) {
  const [i, j, k] = [2 * F[3 * t], 2 * F[3 * t + 1], 2 * F[3 * t + 2]];
  return 0.5 * ((uv[j] - uv[i]) * (uv[k + 1] - uv[i + 1]) - (uv[k] - uv[i]) * (uv[j + 1] - uv[i + 1]));
}

/** Scales uv in place about the origin so its signed area equals the 3D area; throws when it is not positive. */
export function scaleToArea(uv, V, F) {
  let a2 = 0;
  for (let t = 0; t < F.length / 3; t++) a2 += uvArea(uv, F, t);
  const a3 = area3(V, F);
  if (!(a2 > 0) || !(a3 > 0)) throw new Error(`UV layout: non-positive area (UV ${a2}, 3D ${a3})`);
  const s = Math.sqrt(a3 / a2);
  for (let i = 0; i < uv.length; i++) uv[i] *= s;
  return uv;
}

/** Number of UV triangles with non-positive signed area. */
export function countFlips(uv, F) {
  let n = 0;
  for (let t = 0; t < F.length / 3; t++) n += uvArea(uv, F, t) > 0 ? 0 : 1;
  return n;
}

/** Bounding box {min, max, diag} of flat [n*dim] coordinates. */
export function bbox(X, dim = 3) {
  const min = new Array(dim).fill(Infinity);
  const max = new Array(dim).fill(-Infinity);
  for (let i = 0; i < X.length; i += dim) {
    for (let k = 0; k < dim; k++) {
      min[k] = Math.min(min[k], X[i + k]);
      max[k] = Math.max(max[k], X[i + k]);
    }
  }
  return { min, max, diag: Math.hypot(...max.map((m, k) => m - min[k])) };
}

/** Vertices of X (flat [nv*3]) within radius of vertex c (c itself included), ascending. */
export function verticesWithin(X, c, radius) {
  const out = [];
  for (let i = 0; i < X.length / 3; i++) {
    if (i === c || dist3(X, i, c) <= radius) out.push(i);
  }
  return out;
}

/** Mean length of the faces' edges (each interior edge counted twice). */
export function meanEdge(V, F) {
  let s = 0;
  for (let t = 0; t < F.length; t += 3) {
    for (let k = 0; k < 3; k++) s += dist3(V, F[t + k], F[t + (k + 1) % 3]);
  }
  return s / F.length;
}
