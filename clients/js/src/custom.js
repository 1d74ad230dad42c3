/**
 * custom.js - custom energies built as data (protocol/SPEC.md, "Custom energies"): a small builder
 * of symbols whose methods record a description; no code goes over the wire.
 *
 *   import { energy, norm } from 'locad/src/custom.js';
 *   const spring = energy({ element: 'edge', dim: 3, consts: ['rest'], params: ['k'] },
 *     ({ x: [x0, x1], rest, k }) => norm(x1.sub(x0)).sub(rest).pow(2).mul(k).mul(0.5));
 *   await client.addTerm(p, { energy: spring, var: 'x', params: { k: 4 }, consts: rest });
 *
 * The function gets { x: [entity symbols], <const names>, <param names> }; entities are vectors of
 * dim (scalars when dim is 1).  Symbols have add, sub, mul, div, neg, pow, sqrt, exp, log, sin, cos,
 * tan, abs, lt, le, gt, ge, at, dot, cross, norm, sqnorm, det, inv, T, trace; the functions below
 * build vectors, matrices, select, atan2, min and max.  Numbers become literals.  Shapes are
 * checked while building, with the daemon's rules.
 */

const ELEMENT_K = { vertex: 1, edge: 2, face: 3, edge_flap: 4, face_pair: 2 };

/** 'a scalar', 'a vector of 3', 'a 2x2 matrix', 'a comparison'. */
function describe(shape) {
  if (shape === 'bool') return 'a comparison';
  if (shape.length === 0) return 'a scalar';
  if (shape.length === 1) return `a vector of ${shape[0]}`;
  return `a ${shape[0]}x${shape[1]} matrix`;
}

const same = (a, b) => a === b || (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => v === b[i]));

/** The nodes of one description; equal nodes are made once. */
class Graph {
  constructor() { this.nodes = []; this.index = new Map(); }
  add(node, shape) {
    const key = JSON.stringify(node);
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.nodes.length;
      this.nodes.push(node);
      this.index.set(key, i);
    }
    return new Sym(this, i, shape);
  }
}

/** A symbolic value: a node of its description with a shape ([] scalar, [n] vector, [r, c] matrix, 'bool'). */
export class Sym {
  constructor(g, i, shape) { this.g = g; this.i = i; this.shape = shape; }

  lift(v) {
    if (v instanceof Sym) {
      if (v.g !== this.g) throw new Error('symbols of two different energies cannot be mixed');
      return v;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new RangeError(`literal ${v} is not finite`);
      return this.g.add(['c', v], []);
    }
    if (Array.isArray(v)) return Array.isArray(v[0]) ? mat(v.map((r) => r.map((x) => this.lift(x)))) : vec(...v.map((x) => this.lift(x)));
    throw new TypeError(`cannot use ${typeof v} in a custom energy`);
  }

  num(op) { if (this.shape === 'bool') throw new TypeError(`${op}: a comparison is only a select condition`); }

  addsub(op, o) {
    const b = this.lift(o);
    this.num(op); b.num(op);
    if (!same(this.shape, b.shape)) throw new Error(`${op}: shapes differ: ${describe(this.shape)} and ${describe(b.shape)}`);
    return this.g.add([op, this.i, b.i], this.shape);
  }

  add(o) { return this.addsub('add', o); }
  sub(o) { return this.addsub('sub', o); }

  mul(o) {
    const b = this.lift(o);
    this.num('mul'); b.num('mul');
    const a = this.shape;
    let shape;
    if (a.length === 0) shape = b.shape;
    else if (b.shape.length === 0) shape = a;
    else if (a.length === 2 && b.shape[0] === a[1]) shape = b.shape.length === 1 ? [a[0]] : [a[0], b.shape[1]];
    else throw new Error(`cannot multiply ${describe(a)} by ${describe(b.shape)} (vectors: use dot or cross)`);
    return this.g.add(['mul', this.i, b.i], shape);
  }

  div(o) {
    const b = this.lift(o);
    this.num('div'); b.num('div');
    if (b.shape.length !== 0) throw new Error(`div: divides by ${describe(b.shape)}: only by a scalar`);
    return this.g.add(['div', this.i, b.i], this.shape);
  }

  neg() { this.num('neg'); return this.g.add(['neg', this.i], this.shape); }

  /** this ** e: a number exponent is a literal (powc), a symbol a general power. */
  pow(e) {
    this.num('pow');
    if (typeof e === 'number') {
      if (!Number.isFinite(e)) throw new RangeError(`exponent ${e} is not finite`);
      return this.g.add(['powc', this.i, e], this.shape);
    }
    return scalar2('pow', this, e);
  }

  unary(op) { this.num(op); return this.g.add([op, this.i], this.shape); }
  sqrt() { return this.unary('sqrt'); }
  exp() { return this.unary('exp'); }
  log() { return this.unary('log'); }
  sin() { return this.unary('sin'); }
  cos() { return this.unary('cos'); }
  tan() { return this.unary('tan'); }
  abs() { return this.unary('abs'); }
  lt(o) { return scalar2('lt', this, o); }
  le(o) { return scalar2('le', this, o); }
  gt(o) { return scalar2('gt', this, o); }
  ge(o) { return scalar2('ge', this, o); }

  /** Entry i of a vector, (i, j) of a matrix. */
  at(i, j) {
    const idx = j === undefined ? [i] : [i, j];
    if (this.shape === 'bool' || idx.length !== this.shape.length) throw new TypeError(`${describe(this.shape)} takes ${this.shape.length || 0} index(es)`);
    idx.forEach((k, d) => { if (!Number.isInteger(k) || k < 0 || k >= this.shape[d]) throw new RangeError(`index ${k} out of range for ${describe(this.shape)}`); });
    return this.g.add(['index', this.i, ...idx], []);
  }

  dot(v) { return dot(this, v); }
  cross(v) { return cross(this, v); }
  norm() { return norm(this); }
  sqnorm() { return sqnorm(this); }
  det() { return det(this); }
  inv() { return inv(this); }
  get T() { return transpose(this); }
  trace() { return trace(this); }
}

function first(...xs) {
  const s = xs.find((x) => x instanceof Sym);
  if (!s) throw new TypeError('at least one argument must be a symbol of the energy being built');
  return s;
}

function scalar2(op, a, b) {
  const s = first(a, b);
  const x = s.lift(a), y = s.lift(b);
  if (x.shape.length !== 0 || y.shape.length !== 0 || x.shape === 'bool' || y.shape === 'bool') throw new Error(`${op} takes two scalars, not ${describe(x.shape)} and ${describe(y.shape)}`);
  return s.g.add([op, x.i, y.i], ['lt', 'le', 'gt', 'ge', 'eq', 'ne'].includes(op) ? 'bool' : []);
}

export const atan2 = (y, x) => scalar2('atan2', y, x);
export const min = (a, b) => scalar2('min', a, b);
export const max = (a, b) => scalar2('max', a, b);
export const eq = (a, b) => scalar2('eq', a, b);
export const ne = (a, b) => scalar2('ne', a, b);

/** a where the comparison cond holds, else b. */
export function select(cond, a, b) {
  if (!(cond instanceof Sym) || cond.shape !== 'bool') throw new TypeError("select's condition must be a comparison of symbols (a.lt(b), ...)");
  const x = cond.lift(a), y = cond.lift(b);
  if (!same(x.shape, y.shape)) throw new Error(`select: branches differ: ${describe(x.shape)} and ${describe(y.shape)}`);
  return cond.g.add(['select', cond.i, x.i, y.i], x.shape);
}

/** A vector of scalars. */
export function vec(...xs) {
  const s = first(...xs);
  const items = xs.map((x) => s.lift(x));
  if (items.some((i) => i.shape.length !== 0 || i.shape === 'bool')) throw new Error('vec takes scalars');
  return s.g.add(['vec', ...items.map((i) => i.i)], [items.length]);
}

/** A matrix from rows of scalars. */
export function mat(rows) {
  const s = first(...rows.flat());
  const r = rows.length, c = rows[0].length;
  if (rows.some((row) => row.length !== c)) throw new Error('mat: rows of different lengths');
  const items = rows.flat().map((x) => s.lift(x));
  return s.g.add(['mat', r, c, ...items.map((i) => i.i)], [r, c]);
}

export function dot(u, v) {
  if (!same(u.shape, v.shape) || u.shape.length !== 1) throw new Error(`dot takes two vectors of one length, not ${describe(u.shape)} and ${describe(v.shape)}`);
  return u.g.add(['dot', u.i, v.i], []);
}
export function cross(u, v) {
  if (!same(u.shape, v.shape) || !(u.shape[0] === 2 || u.shape[0] === 3) || u.shape.length !== 1) throw new Error('cross takes two vectors of length 2 or 3');
  return u.g.add(['cross', u.i, v.i], u.shape[0] === 3 ? [3] : []);
}
export function norm(v) { if (v.shape.length !== 1) throw new Error('norm takes a vector'); return v.g.add(['norm', v.i], []); }
export function sqnorm(v) { if (v.shape.length !== 1) throw new Error('sqnorm takes a vector'); return v.g.add(['sqnorm', v.i], []); }
export function det(m) {
  if (!(same(m.shape, [2, 2]) || same(m.shape, [3, 3]))) throw new Error(`det takes a 2x2 or 3x3 matrix, not ${describe(m.shape)}`);
  return m.g.add([m.shape[0] === 2 ? 'det2' : 'det3', m.i], []);
}
export function inv(m) {
  if (!(same(m.shape, [2, 2]) || same(m.shape, [3, 3]))) throw new Error(`inv takes a 2x2 or 3x3 matrix, not ${describe(m.shape)}`);
  return m.g.add([m.shape[0] === 2 ? 'inv2' : 'inv3', m.i], m.shape);
}
export function transpose(m) { if (m.shape.length !== 2) throw new Error('transpose takes a matrix'); return m.g.add(['transpose', m.i], [m.shape[1], m.shape[0]]); }
export function trace(m) { if (m.shape.length !== 2 || m.shape[0] !== m.shape[1]) throw new Error('trace takes a square matrix'); return m.g.add(['trace', m.i], []); }

/** The output node indices of out (a symbol or an array of them; numbers are lifted), each a scalar or a vector: [indices, components]. */
function outputs(out, anchor, what) {
  const outs = Array.isArray(out) ? out : [out];
  if (outs.length === 0) throw new Error(`${what} must return at least one symbol`);
  let count = 0;
  const idx = outs.map((o) => {
    const s = anchor.lift(o);
    if (s.shape === 'bool' || s.shape.length > 1) throw new Error(`${what} must return scalars or vectors, not ${describe(s.shape)}`);
    count += s.shape.length === 0 ? 1 : s.shape[0];
    return s.i;
  });
  return [idx, count];
}

/** The rest section of a description: fn({X: [3D rest positions]}) returning the nConst constants. */
function traceRest(fn, K, nConst) {
  const g = new Graph();
  const X = [];
  for (let e = 0; e < K; ++e) X.push(g.add(['x', e], [3]));
  const [consts, count] = outputs(fn({ X }), X[0], 'rest');
  if (count !== nConst) throw new Error(`rest gives ${count} constants; the energy reads ${nConst}`);
  return { nodes: g.nodes, consts };
}

/**
 * Builds a custom energy: opts {element, dim, consts?: string[] | {name: length}, params?: string[], K?,
 * residual?, rest?} and fn({x: [...entities], ...consts, ...params}) returning a scalar symbol, or with
 * residual: true a symbol or array of symbols (scalars or vectors, at most 6 components: E = 1/2 |r|^2,
 * Gauss-Newton uses the residuals).  rest: a function ({X: [the entities' 3D rest positions]}) returning
 * the constants in the order of consts, computed by the daemon per element when addTerm gets no consts.
 * @returns {{description: object, paramNames: string[], constNames: string[]}}
 */
export function energy(opts, fn) {
  const { element, dim } = opts;
  const K = ELEMENT_K[element] ?? (element === 'list' ? opts.K : undefined);
  if (!K) throw new Error(`element '${element}': one of ${Object.keys(ELEMENT_K).join(', ')}, or list with K`);
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError('dim must be a positive integer');
  const g = new Graph();
  const args = { x: [] };
  for (let e = 0; e < K; ++e) args.x.push(g.add(['x', e], dim === 1 ? [] : [dim]));
  const consts = Array.isArray(opts.consts ?? []) ? Object.fromEntries((opts.consts ?? []).map((n) => [n, 0])) : opts.consts;
  let offset = 0;
  for (const [name, n] of Object.entries(consts)) {
    args[name] = g.add(n ? ['k', offset, n] : ['k', offset], n ? [n] : []);
    offset += Math.max(n, 1);
  }
  const params = opts.params ?? [];
  params.forEach((name, i) => { args[name] = g.add(['p', i], []); });
  const out = fn(args);
  const description = { element, dim, n_const: offset, params, nodes: g.nodes };
  if (opts.residual) {
    const [idx, count] = outputs(out, args.x[0], 'the residual function');
    if (count > 6) throw new Error(`the residual function gives ${count} components; at most 6`);
    description.residuals = idx;
  } else {
    if (!(out instanceof Sym) || out.shape === 'bool' || out.shape.length !== 0) throw new Error('the energy function must return a scalar symbol');
    description.energy = out.i;
  }
  if (element === 'list') description.K = K;
  if (opts.rest) description.rest = traceRest(opts.rest, K, offset);
  return { description, paramNames: params, constNames: Object.keys(consts) };
}
