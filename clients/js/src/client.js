/**
 * The locad client: MessagePack-RPC over one connection - a WebSocket
 * (ws://host:port/rpc; browsers and Node) or a TCP / Unix socket (Node) -
 * with pipelined requests matched by msgid, per-call timeouts and
 * problem.progress notifications (protocol/SPEC.md).  Nothing here imports
 * a node: module: the socket transport loads node:net when first used.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';

import { parseAddress } from './address.js';
import { decodeResult, encodeArray, encodeParams, toWire } from './arrays.js';
import { Emitter } from './emitter.js';
import { ErrorCode, LocadError } from './errors.js';
import { openTransport } from './transport.js';

const REQUEST = 0;
const RESPONSE = 1;
const NOTIFICATION = 2;
const LONG_RUNNING = new Set(['problem.solve', 'problem.step']);

/**
 * @typedef {object} ClientOptions
 * @property {number} [timeout] default per-call timeout in ms (0 = none, the default)
 * @property {number} [connectTimeout] ms to wait for the connection (default 10000)
 * @property {string} [token] sent with "auth" before any other request
 * @property {number} [maxFrame] largest response accepted in bytes (default 1 GiB)
 */

/**
 * @typedef {object} CallOptions
 * @property {number} [timeout] ms before the call fails with ErrorCode.TIMEOUT
 *   (a timed-out solve/step is also cancelled on the daemon)
 * @property {(progress: object) => void} [onProgress] problem.progress handler (solve, step)
 * @property {AbortSignal} [signal] aborting rejects the call with ErrorCode.CANCELED
 *   (an aborted solve/step is also cancelled on the daemon)
 */

/**
 * A connection to a locad daemon. Emits "progress" (params of each
 * problem.progress notification), "notification" (method, params), "close"
 * and "error" (only when listened to).
 */
export class Client extends Emitter {
  /**
   * Starts connecting at once; calls made before the connection is up are queued.
   * @param {string} address "ws://host:port/rpc" (or wss://), "host:port", "[v6]:port" or "unix:/path"
   * @param {ClientOptions} [opts]
   */
  constructor(address, opts = {}) {
    super();
    this.address = address;
    this.timeout = opts.timeout ?? 0;
    /** @type {Map<number, {resolve: Function, reject: Function, method: string, timer?: ReturnType<typeof setTimeout>}>} */
    this.pending = new Map();
    this.progressHandlers = new Set();
    this.names = new Map(); // problem name -> id, to route progress to onProgress
    this.nextId = 1;
    this.closed = false;
    this.encoder = new Encoder({ ignoreUndefined: true });
    this.decoder = new Decoder();
    this.transport = openTransport(parseAddress(address), { maxFrame: opts.maxFrame }, {
      frame: (bytes) => this.onFrame(bytes),
      error: (err) => this.onSocketError(err),
      close: () => this.onClose(),
    });
    /** Resolves when connected (and authenticated, with a token). */
    this.ready = this.whenConnected(opts.connectTimeout ?? 10000);
    if (opts.token !== undefined) this.ready = this.authFirst(opts.token);
    this.ready.catch(() => {}); // reported to whoever awaits ready or makes a call
  }

  /** The connection (its destroy() drops it at once); kept under its old name. */
  get socket() { return this.transport; }

  /** A promise of the transport's connection, bounded by ms. */
  whenConnected(ms) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.transport.destroy();
        fail(new Error('timed out'));
      }, ms);
      const fail = (err) => {
        clearTimeout(timer);
        reject(new LocadError(ErrorCode.CONNECTION, `cannot connect to ${this.address}: ${err.message}`, { cause: err }));
      };
      this.transport.ready.then(() => { clearTimeout(timer); resolve(); }, fail);
    });
  }

  /** Sends auth before anything else; ready fails if it is refused. */
  async authFirst(token) {
    const auth = this.call('auth', { token });
    await this.ready;
    await auth;
  }

  /**
   * Sends one request and resolves with its decoded result (array maps become
   * typed arrays with a `shape`), or rejects with a LocadError.
   * @param {string} method protocol method name, e.g. "problem.solve"
   * @param {object} [params] named parameters; typed arrays are encoded
   * @param {CallOptions} [opts]
   * @returns {Promise<any>}
   */
  call(method, params = {}, opts = {}) {
    if (this.closed || this.transport.destroyed) {
      return Promise.reject(new LocadError(ErrorCode.CONNECTION, 'connection closed', { method }));
    }
    const msgid = this.allocId();
    let bytes;
    try {
      bytes = this.encoder.encode([REQUEST, msgid, method, encodeParams(params)]);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, method };
      this.pending.set(msgid, entry);
      this.watchProgress(entry, method, params, opts.onProgress);
      this.armTimeout(entry, msgid, params, opts.timeout ?? this.timeout);
      this.armAbort(entry, msgid, params, opts.signal);
      this.transport.write(bytes);
    });
  }

  /** The next free msgid (uint32, wrapping). */
  allocId() {
    let id = this.nextId;
    while (this.pending.has(id)) id = (id + 1) >>> 0;
    this.nextId = (id + 1) >>> 0;
    return id;
  }

  /** Registers a per-call progress handler, removed when the call settles. */
  watchProgress(entry, method, params, onProgress) {
    if (typeof onProgress !== 'function') return;
    const handler = { problem: params.problem, fn: onProgress };
    this.progressHandlers.add(handler);
    entry.cleanup = () => this.progressHandlers.delete(handler);
  }

  /** Fails the call after ms (and cancels a solve/step on the daemon). */
  armTimeout(entry, msgid, params, ms) {
    if (!(ms > 0)) return;
    entry.timer = setTimeout(() => {
      if (this.pending.get(msgid) !== entry) return;
      this.settle(msgid);
      if (LONG_RUNNING.has(entry.method) && params.problem !== undefined) {
        this.call('problem.cancel', { problem: params.problem }).catch(() => {});
      }
      entry.reject(new LocadError(ErrorCode.TIMEOUT, `${entry.method}: no answer within ${ms} ms`, { method: entry.method }));
    }, ms);
  }

  /** Rejects the call when signal aborts (and cancels a solve/step on the daemon). */
  armAbort(entry, msgid, params, signal) {
    if (!signal) return;
    const abort = () => {
      if (this.pending.get(msgid) !== entry) return;
      this.settle(msgid);
      if (LONG_RUNNING.has(entry.method) && params.problem !== undefined) {
        this.call('problem.cancel', { problem: params.problem }).catch(() => {});
      }
      entry.reject(new LocadError(ErrorCode.CANCELED, `${entry.method}: aborted`, { method: entry.method }));
    };
    if (signal.aborted) return void queueMicrotask(abort);
    signal.addEventListener('abort', abort, { once: true });
    const prev = entry.cleanup;
    entry.cleanup = () => { prev?.(); signal.removeEventListener('abort', abort); };
  }

  /** Removes a pending call and its timer / progress handler. */
  settle(msgid) {
    const entry = this.pending.get(msgid);
    if (!entry) return undefined;
    this.pending.delete(msgid);
    clearTimeout(entry.timer);
    entry.cleanup?.();
    return entry;
  }

  /** Decodes and dispatches one complete message. */
  onFrame(frame) {
    try {
      this.dispatch(this.decoder.decode(frame));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Handles one decoded message. */
  dispatch(msg) {
    if (!Array.isArray(msg)) throw new Error('daemon sent a message that is not an array');
    if (msg[0] === RESPONSE) this.onResponse(msg[1], msg[2], msg[3]);
    else if (msg[0] === NOTIFICATION) this.onNotification(msg[1], msg[2]);
    else throw new Error(`daemon sent a message of type ${msg[0]}`);
  }

  /** Resolves or rejects the call with that msgid (late answers are dropped). */
  onResponse(msgid, error, result) {
    const entry = this.settle(msgid);
    if (!entry) return;
    if (error !== null && error !== undefined) {
      const [code, message] = Array.isArray(error) ? error : [ErrorCode.INTERNAL, String(error)];
      entry.reject(new LocadError(code, `${entry.method}: ${message}`, { method: entry.method }));
      return;
    }
    if (entry.method === 'problem.create' && result?.name) this.names.set(result.name, result.problem);
    entry.resolve(decodeResult(result));
  }

  /** Emits notifications; routes problem.progress to per-call handlers. */
  onNotification(method, params) {
    this.emit('notification', method, params);
    if (method !== 'problem.progress') return;
    this.emit('progress', params);
    for (const h of this.progressHandlers) {
      if (this.matches(h.problem, params?.problem)) h.fn(params);
    }
  }

  /** Whether a problem reference (id or name) designates problem id. */
  matches(ref, id) {
    if (typeof ref === 'number') return ref === id;
    return !this.names.has(ref) || this.names.get(ref) === id;
  }

  /** A fatal stream error: drop the connection. */
  fail(err) {
    this.transport.destroy(err);
  }

  /** Remembers a connection error and re-emits it when someone listens. */
  onSocketError(err) {
    this.lastError = err;
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Rejects every pending call. */
  onClose() {
    if (this.closed) return;
    this.closed = true;
    const why = this.lastError ? `connection lost: ${this.lastError.message}` : 'connection closed';
    for (const msgid of [...this.pending.keys()]) {
      const entry = this.settle(msgid);
      entry.reject(new LocadError(ErrorCode.CONNECTION, `${entry.method}: ${why}`, { method: entry.method, cause: this.lastError }));
    }
    this.emit('close');
  }

  /**
   * Closes the connection (pending calls fail with ErrorCode.CONNECTION).
   * @returns {Promise<void>} resolves once the connection is closed
   */
  close() {
    return this.transport.close();
  }

  // ---- server ------------------------------------------------------------

  /** server.info: version, default device, devices, limits, methods, energies. @param {CallOptions} [opts] */
  info(opts) { return this.call('server.info', {}, opts); }

  /**
   * The daemon's devices (server.info `devices`), the CPU first.
   * @param {CallOptions} [opts]
   * @returns {Promise<Array<{id: string, name: string, memory: number, compute_capability: string|null, cores: number}>>}
   */
  async devices(opts) { return (await this.info(opts)).devices; }

  /** server.stats: object and request counters. @param {CallOptions} [opts] */
  stats(opts) { return this.call('server.stats', {}, opts); }
  /** mesh.list: every live mesh as {mesh, name, nv, nf}, in creation order. @param {CallOptions} [opts] */
  async meshList(opts) { return (await this.call('mesh.list', {}, opts)).meshes; }
  /** problem.list: every live problem as {problem, name, mesh, device}, in creation order. @param {CallOptions} [opts] */
  async problemList(opts) { return (await this.call('problem.list', {}, opts)).problems; }

  /** server.health: {ok}. @param {CallOptions} [opts] */
  health(opts) { return this.call('server.health', {}, opts); }

  /** auth with a token. @param {string} token @param {CallOptions} [opts] */
  auth(token, opts) { return this.call('auth', { token }, opts); }

  // ---- meshes ------------------------------------------------------------

  /**
   * mesh.create. V (Float64Array or Float32Array, nv*3) and F (Int32Array or
   * Uint32Array, nf*3) may be flat: without a `shape` they are sent as [n, 3].
   * @param {{V: Float64Array|number[][], F: Int32Array|number[][], name?: string}} params
   * @param {CallOptions} [opts]
   */
  meshCreate(params, opts) {
    const rows3 = (a) => (ArrayBuffer.isView(a) && !a.shape && !(a instanceof Uint8Array)
      ? encodeArray(toWire(a), [a.length / 3, 3]) : a);
    return this.call('mesh.create', { ...params, V: rows3(params.V), F: rows3(params.F) }, opts);
  }

  /**
   * mesh.load_obj from OBJ text (string) or bytes.
   * @param {{data: string|Uint8Array, name?: string}} params
   * @param {CallOptions} [opts]
   */
  meshLoadObj(params, opts) { return this.call('mesh.load_obj', params, opts); }

  /** mesh.info. @param {number|string} mesh @param {{arrays?: boolean}} [params] @param {CallOptions} [opts] */
  meshInfo(mesh, params, opts) { return this.call('mesh.info', { ...params, mesh }, opts); }

  /** mesh.delete. @param {number|string} mesh @param {CallOptions} [opts] */
  meshDelete(mesh, opts) { return this.call('mesh.delete', { mesh }, opts); }

  // ---- problems ----------------------------------------------------------

  /**
   * problem.create → {problem, name, device, n_dofs, variables}. `device`: "cpu", "cuda:N" or
   * "auto" (default: the daemon's device); the result's `device` is where the problem lives.
   * @param {{mesh: number|string, name?: string, device?: string, variables?: object[]}} params
   * @param {CallOptions} [opts]
   */
  problemCreate(params, opts) { return this.call('problem.create', params, opts); }

  /** problem.add_variable. @param {number|string} problem @param {object} params @param {CallOptions} [opts] */
  addVariable(problem, params, opts) { return this.onProblem('problem.add_variable', problem, params, opts); }

  /**
   * problem.add_term.
   * @param {number|string} problem
   * @param {{energy: string|object, var: number|string, weight?: number, elements?: Int32Array, params?: object, consts?: Float64Array, project?: boolean}} params
   *   energy: a built-in's name, a custom energy from energy() (custom.js) or a description
   * @param {CallOptions} [opts]
   */
  addTerm(problem, params, opts) {
    const e = params?.energy;
    const p = e && typeof e === 'object' && e.description ? { ...params, energy: e.description } : params;
    return this.onProblem('problem.add_term', problem, p, opts);
  }

  /** problem.get_term: {term, energy, var, n_elems, consts, description?}. @param {number|string} problem @param {number|{term: number}} term @param {CallOptions} [opts] */
  getTerm(problem, term, opts) { return this.onProblem('problem.get_term', problem, keyed('term', term), opts); }

  /** problem.remove_term. @param {number|string} problem @param {number|{term: number}} term @param {CallOptions} [opts] */
  removeTerm(problem, term, opts) { return this.onProblem('problem.remove_term', problem, keyed('term', term), opts); }

  /**
   * problem.set_variable.
   * @param {number|string} problem
   * @param {{var: number|string, values: Float64Array}} params values shaped [n, dim]
   * @param {CallOptions} [opts]
   */
  setVariable(problem, params, opts) { return this.onProblem('problem.set_variable', problem, params, opts); }

  /** problem.get_variable → {var, values}. @param {number|string} problem @param {number|string|{var: number|string}} v @param {CallOptions} [opts] */
  getVariable(problem, v, opts) { return this.onProblem('problem.get_variable', problem, keyed('var', v), opts); }

  /** problem.fix → {n_fixed}. @param {number|string} problem @param {{var: number|string, entities?: Int32Array, values?: Float64Array}} params @param {CallOptions} [opts] */
  fix(problem, params, opts) { return this.onProblem('problem.fix', problem, params, opts); }

  /** problem.unfix → {n_fixed}. @param {number|string} problem @param {{var: number|string, entities?: Int32Array}} params @param {CallOptions} [opts] */
  unfix(problem, params, opts) { return this.onProblem('problem.unfix', problem, params, opts); }

  /** problem.info → {problem, name, device, mesh, n_dofs, ...}. @param {number|string} problem @param {CallOptions} [opts] */
  problemInfo(problem, opts) { return this.onProblem('problem.info', problem, {}, opts); }

  /**
   * problem.eval → {energy, gradient?, hessian?, hvp?, residual?, jacobian?}.
   * @param {number|string} problem
   * @param {{what?: string|string[], x?: Float64Array, v?: Float64Array, project?: boolean}} [params]
   * @param {CallOptions} [opts]
   */
  evaluate(problem, params, opts) { return this.onProblem('problem.eval', problem, params, opts); }

  /**
   * problem.solve → {reason, iters, energy, gnorm, t_*, host_syncs, variables}.
   * @param {number|string} problem
   * @param {{method?: string, options?: object, fix?: object|object[], unfix?: object|object[], return?: boolean|Array<number|string>}} [params]
   * @param {CallOptions} [opts] onProgress receives each problem.progress
   */
  solve(problem, params, opts) { return this.onProblem('problem.solve', problem, params, opts); }

  /**
   * problem.step (implicit Euler) → solve's result + {steps, time, kinetic, max_speed}.
   * @param {number|string} problem
   * @param {object} [params] h, var, inertia_term, steps, method, options, fix, unfix, force, velocity, damping, return
   * @param {CallOptions} [opts]
   */
  step(problem, params, opts) { return this.onProblem('problem.step', problem, params, opts); }

  /** problem.cancel: stops the problem's running solve after its current iteration. @param {number|string} problem @param {CallOptions} [opts] */
  cancel(problem, opts) { return this.onProblem('problem.cancel', problem, {}, opts); }

  /**
   * Deletes a problem or a mesh by id or name (ids are unique across both
   * kinds; a name is tried as a problem first).
   * @param {number|string} obj @param {CallOptions} [opts]
   */
  async delete(obj, opts) {
    try {
      return await this.onProblem('problem.delete', obj, {}, opts);
    } catch (err) {
      if (!(err instanceof LocadError) || err.code !== ErrorCode.NOTFOUND) throw err;
      return this.call('mesh.delete', { mesh: obj }, opts);
    }
  }

  /** A call whose params name a problem. */
  onProblem(method, problem, params, opts) {
    return this.call(method, { ...params, problem }, opts);
  }
}

/** params as a map: a bare value becomes {[key]: value}. */
function keyed(key, v) {
  return v !== null && typeof v === 'object' ? v : { [key]: v };
}

/**
 * Connects to a daemon and resolves once the connection is up.
 * @param {string} address "ws://host:port/rpc" (or wss://), "host:port", "[v6]:port" or "unix:/path"
 * @param {ClientOptions} [opts]
 * @returns {Promise<Client>}
 */
export async function connect(address, opts) {
  const client = new Client(address, opts);
  try {
    await client.ready;
  } catch (err) {
    client.transport.destroy();
    throw err;
  }
  return client;
}
