/**
 * locad: a Node.js client for the locad mesh-optimization daemon.
 * @module locad
 */
export { Client, connect } from './client.js';
export { ErrorCode, LocadError } from './errors.js';
export { withShape, encodeArray, decodeArray } from './arrays.js';
export { parseAddress } from './address.js';
export { grid } from './mesh.js';
