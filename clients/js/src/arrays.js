/**
 * Typed arrays <-> the protocol's array maps {dtype, shape, data: bin}
 * (protocol/SPEC.md, "Arrays"): f8 = Float64Array, i4 = Int32Array, both
 * little-endian, row-major. A typed array may carry its shape in a `shape`
 * property (see {@link withShape}); decoded arrays always do.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const DTYPES = {
  f8: { Type: Float64Array, size: 8, get: 'getFloat64', set: 'setFloat64' },
  i4: { Type: Int32Array, size: 4, get: 'getInt32', set: 'setInt32' },
};

/**
 * Attaches a shape to a typed array (returned as is, for chaining).
 * @template {Float64Array|Int32Array} T
 * @param {T} array
 * @param {number[]} shape dimensions whose product is array.length (one may be -1)
 * @returns {T & {shape: number[]}}
 */
export function withShape(array, shape) {
  const dims = [...shape];
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const free = dims.indexOf(-1);
  if (free >= 0) dims[free] = known === 0 ? 0 : array.length / known;
  if (!dims.every(Number.isInteger) || dims.reduce((a, b) => a * b, 1) !== array.length) {
    throw new RangeError(`shape [${shape}] does not match ${array.length} elements`);
  }
  return Object.assign(array, { shape: dims });
}

/**
 * The dtype of a supported typed array, else undefined.
 * @param {unknown} v
 * @returns {'f8'|'i4'|undefined}
 */
function dtypeOf(v) {
  if (v instanceof Float64Array) return 'f8';
  if (v instanceof Int32Array) return 'i4';
  return undefined;
}

/**
 * The little-endian bytes of a typed array (a view when the host is LE).
 * @param {Float64Array|Int32Array} a
 * @param {'f8'|'i4'} dtype
 * @returns {Uint8Array}
 */
function leBytes(a, dtype) {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const { size, set } = DTYPES[dtype];
  const out = new Uint8Array(a.length * size);
  const dv = new DataView(out.buffer);
  a.forEach((x, i) => dv[set](i * size, x, true));
  return out;
}

/**
 * The wire form of a typed array: Float64Array and Int32Array as they are,
 * Float32Array (what three.js uses) widened to Float64Array, and the other
 * integer arrays (Uint32Array, Int16Array, Uint16Array, Int8Array) as
 * Int32Array, refusing values beyond int32. Keeps a `shape` property.
 * Uint8Array stays bytes (bin); other views are refused.
 * @param {ArrayBufferView & {shape?: number[]}} a
 * @returns {(Float64Array|Int32Array) & {shape?: number[]}}
 */
export function toWire(a) {
  if (dtypeOf(a)) return /** @type {any} */ (a);
  let out;
  if (a instanceof Float32Array) {
    out = Float64Array.from(a);
  } else if (a instanceof Uint32Array || a instanceof Int16Array || a instanceof Uint16Array ||
             a instanceof Int8Array) {
    const bad = a.findIndex((x) => x > 0x7fffffff);
    if (bad >= 0) throw new RangeError(`${a.constructor.name} element ${bad} = ${a[bad]} does not fit int32`);
    out = Int32Array.from(/** @type {ArrayLike<number>} */ (a));
  } else {
    throw new TypeError(`${a.constructor.name} is not supported: use Float64Array, Float32Array, Int32Array, ` +
                        'Uint32Array or plain arrays');
  }
  if (Array.isArray(a.shape)) out.shape = a.shape;
  return out;
}

/**
 * Encodes one typed array as an array map.
 * @param {Float64Array|Int32Array} a
 * @param {number[]} [shape] defaults to a.shape, else [a.length]
 * @returns {{dtype: string, shape: number[], data: Uint8Array}}
 */
export function encodeArray(a, shape = Array.isArray(a.shape) ? a.shape : [a.length]) {
  const dtype = dtypeOf(a);
  if (!dtype) throw new TypeError('expected a Float64Array or an Int32Array');
  return { dtype, shape, data: leBytes(a, dtype) };
}

/**
 * Replaces every typed array inside params (objects and arrays, recursively)
 * with its array map (toWire: Float32Array and the integer arrays are
 * converted); Uint8Array is sent as bin; other values are kept.
 * @param {unknown} v
 * @returns {unknown}
 */
export function encodeParams(v) {
  if (v === null || typeof v !== 'object') return v;
  if (dtypeOf(v)) return encodeArray(/** @type {any} */ (v));
  if (ArrayBuffer.isView(v)) {
    if (v instanceof Uint8Array) return v;
    return encodeArray(toWire(/** @type {any} */ (v)));
  }
  if (Array.isArray(v)) return v.map(encodeParams);
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = encodeParams(x);
  return out;
}

/**
 * Decodes one array map; a zero-copy view when the bin payload is aligned
 * (and the host little-endian), else a copy.
 * @param {{dtype: string, shape: number[], data: Uint8Array}} m
 * @returns {(Float64Array|Int32Array) & {shape: number[]}}
 */
export function decodeArray(m) {
  const d = DTYPES[m.dtype];
  const bytes = m.data;
  if (!d || bytes.byteLength % d.size !== 0) {
    throw new TypeError(`bad array: dtype ${m.dtype}, ${bytes.byteLength} bytes`);
  }
  const n = bytes.byteLength / d.size;
  let a;
  if (LITTLE_ENDIAN && bytes.byteOffset % d.size === 0) {
    a = new d.Type(bytes.buffer, bytes.byteOffset, n);
  } else if (LITTLE_ENDIAN) {
    a = new d.Type(bytes.slice().buffer);
  } else {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    a = d.Type.from({ length: n }, (_, i) => dv[d.get](i * d.size, true));
  }
  return Object.assign(a, { shape: m.shape });
}

/**
 * True for a decoded array map.
 * @param {any} v
 * @returns {boolean}
 */
function isArrayMap(v) {
  return v.data instanceof Uint8Array && typeof v.dtype === 'string' && Array.isArray(v.shape) &&
    Object.keys(v).length === 3;
}

/**
 * Replaces every array map inside a decoded result (recursively) with a typed
 * array carrying `shape`.
 * @param {unknown} v
 * @returns {unknown}
 */
export function decodeResult(v) {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map(decodeResult);
  if (isArrayMap(v)) return decodeArray(/** @type {any} */ (v));
  for (const k of Object.keys(v)) v[k] = decodeResult(v[k]);
  return v;
}
