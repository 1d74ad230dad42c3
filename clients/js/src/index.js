/**
 * locad: a client for the locad mesh-optimization daemon, for browsers
 * (ws://host:port/rpc) and Node (also "host:port" and "unix:/path").  Loads
 * as plain ESM; its one bare import is '@msgpack/msgpack'.
 * @module locad
 */
export { Client, connect } from './client.js';
export { Emitter } from './emitter.js';
export { ErrorCode, LocadError } from './errors.js';
export { withShape, encodeArray, decodeArray } from './arrays.js';
export { parseAddress } from './address.js';
export { grid } from './mesh.js';
export {
  energy, Sym, select, vec, mat, dot, cross, norm, sqnorm, det, inv, transpose, trace, atan2, min, max, eq, ne,
} from './custom.js';
