/**
 * OBJ parsing for the browser editor: `v` and `f` lines only (texture and
 * normal indices after '/' are ignored), polygons fan-triangulated, 1-based
 * and negative (relative) indices. Errors name the line at fault.
 */

/** Parses OBJ text into {V: Float64Array [nv*3], F: Int32Array [nf*3], nv, nf}; throws on bad input. */
export function parseObj(text) {
  if (typeof text !== 'string') throw new TypeError('OBJ: expected the file as text');
  const V = [];
  const F = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const tok = lines[i].trim().split(/\s+/);
    if (tok[0] === 'v') readVertex(tok, i + 1, V);
    else if (tok[0] === 'f') readFace(tok, i + 1, V.length / 3, F);
  }
  if (V.length === 0) throw new Error('OBJ: no vertices (no "v x y z" line)');
  if (F.length === 0) throw new Error('OBJ: no faces (no "f a b c" line)');
  return { V: Float64Array.from(V), F: Int32Array.from(F), nv: V.length / 3, nf: F.length / 3 };
}

/** Appends the x y z of a `v` line to V; throws naming the line when a coordinate is missing or not finite. */
function readVertex(tok, line, V) {
  if (tok.length < 4) throw new Error(`OBJ line ${line}: a vertex needs 3 coordinates, got ${tok.length - 1}`);
  for (let k = 1; k <= 3; k++) {
    const x = Number(tok[k]);
    if (!Number.isFinite(x)) throw new Error(`OBJ line ${line}: vertex coordinate "${tok[k]}" is not a finite number`);
    V.push(x);
  }
}

/** Appends the fan triangles of an `f` line to F (0-based); throws naming the line on a bad index. */
function readFace(tok, line, nv, F) {
  if (tok.length < 4) throw new Error(`OBJ line ${line}: a face needs at least 3 vertices, got ${tok.length - 1}`);
  const idx = tok.slice(1).map((t) => faceIndex(t, line, nv));
  for (let k = 1; k + 1 < idx.length; k++) F.push(idx[0], idx[k], idx[k + 1]);
}

/** The 0-based vertex index of one face token ("7", "7/2", "7//3", "-1"); throws naming the line. */
function faceIndex(token, line, nv) {
  const s = token.split('/')[0];
  const n = Number(s);
  if (!Number.isInteger(n) || n === 0) {
    throw new Error(`OBJ line ${line}: face index "${token}" is not a non-zero integer`);
  }
  const i = n > 0 ? n - 1 : nv + n;
  if (i < 0 || i >= nv) {
    throw new Error(`OBJ line ${line}: face index ${n} is out of range (${nv} vertices defined so far)`);
  }
  return i;
}
