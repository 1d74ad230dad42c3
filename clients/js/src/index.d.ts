// index.d.ts - TypeScript declarations of the locad client (src/index.js).
// `npx tsc -p tsconfig.json` (run by test/types.test.js) checks them against
// test/types-check.ts.

/** Numeric error codes of protocol/SPEC.md, plus the client's own (negative). */
export declare const ErrorCode: Readonly<{
  PARSE: 1; METHOD: 2; PARAMS: 3; NOTFOUND: 4; INVAL: 5; NOMEM: 6; BUSY: 7; CANCELED: 8; AUTH: 9;
  NUMERIC: 10; INTERNAL: 11; SHUTDOWN: 12; CONNECTION: -1; TIMEOUT: -2;
}>;

/** An error answered by the daemon, or the client's own (connection, timeout). */
export declare class LocadError extends Error {
  constructor(code: number, message: string, extra?: { method?: string; cause?: unknown });
  readonly code: number;
  /** The symbolic name of code, e.g. "NOTFOUND". */
  readonly codeName: string;
  /** The RPC method that failed. */
  readonly method?: string;
}

/** A typed array with an explicit shape (row-major). */
export type Shaped<T> = T & { shape?: number[] };
/** Arrays the client sends: float64/int32 as they are, the others converted (Float32Array widened). */
export type ArrayIn =
  | Shaped<Float64Array> | Shaped<Float32Array> | Shaped<Int32Array> | Shaped<Uint32Array>
  | Shaped<Int16Array> | Shaped<Uint16Array> | Shaped<Int8Array> | number[] | number[][];
/** Arrays the daemon returns. */
export type ArrayOut = (Float64Array | Int32Array) & { shape: number[] };
/** A problem or mesh, by id or name. */
export type Ref = number | string;

export interface ClientOptions {
  /** ms before a call fails with ErrorCode.TIMEOUT (0: none). */
  timeout?: number;
  /** ms to connect. */
  connectTimeout?: number;
  /** Sent with `auth` before the first call. */
  token?: string;
  /** Largest frame accepted from the daemon (bytes). */
  maxFrame?: number;
}

export interface Progress {
  problem: number; method: string; iter: number; energy: number; gnorm: number; step: number;
  [key: string]: unknown;
}

export interface CallOptions {
  /** ms before the call fails with ErrorCode.TIMEOUT (a timed-out solve/step is cancelled too). */
  timeout?: number;
  /** problem.progress handler (solve, step). */
  onProgress?: (progress: Progress) => void;
  /** Aborting rejects the call with ErrorCode.CANCELED (an aborted solve/step is cancelled too). */
  signal?: AbortSignal;
}

export interface SolveResult {
  reason: 'none' | 'gradient' | 'decrement' | 'ftol' | 'max_iters' | 'time' | 'cancelled' | 'line_search'
    | 'infeasible';
  /** What to know about a solve that did not fail (empty when none). */
  warnings: string[];
  iters: number; energy: number; gnorm: number;
  t_deriv: number; t_linear: number; t_ls: number; t_total: number; host_syncs: number;
  /** The returned variables, by variable id. */
  variables: Record<number, ArrayOut>;
  [key: string]: unknown;
}

export interface VariableSpec { name: string; dim: number; loc?: 'vertex' | 'face'; init?: ArrayIn }

/** Listener registration of the client's events ("progress", "notification", "close", "error"). */
export declare class Emitter {
  on(event: string, fn: (...args: any[]) => void): this;
  off(event: string, fn: (...args: any[]) => void): this;
  once(event: string, fn: (...args: any[]) => void): this;
  emit(event: string, ...args: any[]): boolean;
  listenerCount(event: string): number;
}

export declare class Client extends Emitter {
  constructor(address: Address, opts?: ClientOptions);
  /** Resolves once connected (and authenticated, with a token). */
  readonly ready: Promise<void>;
  on(event: 'progress', fn: (progress: Progress) => void): this;
  on(event: 'notification', fn: (method: string, params: unknown) => void): this;
  on(event: 'close', fn: () => void): this;
  on(event: 'error', fn: (err: Error) => void): this;
  /** Sends any method; resolves with its result. */
  call(method: string, params?: Record<string, unknown>, opts?: CallOptions): Promise<any>;
  close(): Promise<void>;
  info(opts?: CallOptions): Promise<any>;
  devices(opts?: CallOptions): Promise<any[]>;
  stats(opts?: CallOptions): Promise<Record<string, number>>;
  health(opts?: CallOptions): Promise<{ ok: boolean; status: string }>;
  auth(token: string, opts?: CallOptions): Promise<boolean>;
  meshList(opts?: CallOptions): Promise<{ mesh: number; name: string; nv: number; nf: number }[]>;
  problemList(opts?: CallOptions): Promise<{ problem: number; name: string; mesh: number; device: string }[]>;
  meshCreate(params: { V: ArrayIn; F: ArrayIn; name?: string }, opts?: CallOptions):
    Promise<{ mesh: number; name: string; nv: number; nf: number; ne: number; degenerate_faces: number }>;
  meshLoadObj(params: { data: string | Uint8Array; name?: string }, opts?: CallOptions): Promise<any>;
  meshInfo(mesh: Ref, params?: { arrays?: boolean }, opts?: CallOptions): Promise<any>;
  meshDelete(mesh: Ref, opts?: CallOptions): Promise<boolean>;
  problemCreate(params: { mesh: Ref; name?: string; device?: string; variables?: VariableSpec[] },
                opts?: CallOptions): Promise<{ problem: number; name: string; device: string; n_dofs: number; variables: any[] }>;
  addVariable(problem: Ref, params: VariableSpec, opts?: CallOptions): Promise<any>;
  addTerm(problem: Ref, params: { energy: string | CustomEnergy | object; var: Ref; weight?: number; elements?: ArrayIn;
                                  params?: Record<string, number>; consts?: ArrayIn; project?: boolean },
          opts?: CallOptions): Promise<{ term: number; n_elems: number; n_colors: number }>;
  removeTerm(problem: Ref, term: number | { term: number }, opts?: CallOptions): Promise<boolean>;
  /** problem.get_term; custom terms carry their description. */
  getTerm(problem: Ref, term: number | { term: number }, opts?: CallOptions):
    Promise<{ term: number; energy: string; var: number; n_elems: number; consts: ArrayOut; description?: object }>;
  setVariable(problem: Ref, params: { var: Ref; values: ArrayIn }, opts?: CallOptions): Promise<boolean>;
  getVariable(problem: Ref, v: Ref | { var: Ref }, opts?: CallOptions): Promise<{ var: number; values: ArrayOut }>;
  fix(problem: Ref, params: { var: Ref; entities?: ArrayIn; values?: ArrayIn }, opts?: CallOptions): Promise<any>;
  unfix(problem: Ref, params: { var: Ref; entities?: ArrayIn }, opts?: CallOptions): Promise<any>;
  problemInfo(problem: Ref, opts?: CallOptions): Promise<any>;
  evaluate(problem: Ref, params?: Record<string, unknown>, opts?: CallOptions): Promise<any>;
  solve(problem: Ref, params?: { method?: string; options?: Record<string, unknown>; fix?: unknown;
                                 unfix?: unknown; return?: Ref[] | boolean },
        opts?: CallOptions): Promise<SolveResult>;
  step(problem: Ref, params?: Record<string, unknown>, opts?: CallOptions): Promise<SolveResult>;
  cancel(problem: Ref, opts?: CallOptions): Promise<{ cancelled: number }>;
  /** Deletes a problem or a mesh by id or name. */
  delete(obj: Ref, opts?: CallOptions): Promise<boolean>;
}

/**
 * A daemon address: "ws://host:port/rpc" or "wss://..." (a WebSocket: browsers, and Node with a
 * global WebSocket), "host:port", "[v6]:port" or "unix:/path" (TCP / Unix socket: Node only).
 */
export type Address = `ws://${string}` | `wss://${string}` | `unix:${string}` | string;

/** Connects to address and resolves once connected (and authenticated). */
export declare function connect(address: Address, opts?: ClientOptions): Promise<Client>;
/** Sets arr.shape and returns arr. */
export declare function withShape<T extends ArrayBufferView>(arr: T, shape: number[]): Shaped<T>;
/** The array map {dtype, shape, data} of a float64 or int32 array. */
export declare function encodeArray(a: Float64Array | Int32Array, shape?: number[]):
  { dtype: string; shape: number[]; data: Uint8Array };
/** A typed array (with .shape) from an array map. */
export declare function decodeArray(m: { dtype: string; shape: number[]; data: Uint8Array }): ArrayOut;
/** The connection target of an address: a WebSocket URL, a Unix socket path or a TCP host and port. */
export declare function parseAddress(address: Address): { url: string } | { path: string } | { host: string; port: number };
/** An n x n grid mesh: flat V [n*n*3] and F [2(n-1)^2*3]. */
export declare function grid(n: number): { V: Float64Array; F: Int32Array };

/** A symbolic value of a custom energy being built (custom.js): a node of its description. */
export declare class Sym {
  readonly shape: number[] | 'bool';
  add(o: SymLike): Sym; sub(o: SymLike): Sym; mul(o: SymLike): Sym; div(o: SymLike): Sym; neg(): Sym;
  /** A number exponent is a literal (powc); a symbol, a general power. */
  pow(e: SymLike): Sym;
  sqrt(): Sym; exp(): Sym; log(): Sym; sin(): Sym; cos(): Sym; tan(): Sym; abs(): Sym;
  lt(o: SymLike): Sym; le(o: SymLike): Sym; gt(o: SymLike): Sym; ge(o: SymLike): Sym;
  /** Entry i of a vector, (i, j) of a matrix. */
  at(i: number, j?: number): Sym;
  dot(v: Sym): Sym; cross(v: Sym): Sym; norm(): Sym; sqnorm(): Sym; det(): Sym; inv(): Sym; trace(): Sym;
  readonly T: Sym;
}
export type SymLike = Sym | number | SymLike[];
/** A custom energy: its description (protocol/SPEC.md, "Custom energies") and argument names. */
export interface CustomEnergy { description: object; paramNames: string[]; constNames: string[] }
/** Builds a custom energy from fn({x: entities, ...consts, ...params}), which returns a scalar symbol. */
export declare function energy(opts: { element: 'vertex' | 'edge' | 'face' | 'edge_flap' | 'face_pair' | 'list';
                                       dim: number; K?: number; consts?: string[] | Record<string, number>;
                                       params?: string[] },
                               fn: (args: { x: Sym[] } & Record<string, any>) => Sym): CustomEnergy;
/** a where the comparison cond holds, else b. */
export declare function select(cond: Sym, a: SymLike, b: SymLike): Sym;
export declare function vec(...xs: SymLike[]): Sym;
export declare function mat(rows: SymLike[][]): Sym;
export declare function dot(u: Sym, v: Sym): Sym;
export declare function cross(u: Sym, v: Sym): Sym;
export declare function norm(v: Sym): Sym;
export declare function sqnorm(v: Sym): Sym;
export declare function det(m: Sym): Sym;
export declare function inv(m: Sym): Sym;
export declare function transpose(m: Sym): Sym;
export declare function trace(m: Sym): Sym;
export declare function atan2(y: SymLike, x: SymLike): Sym;
export declare function min(a: SymLike, b: SymLike): Sym;
export declare function max(a: SymLike, b: SymLike): Sym;
export declare function eq(a: SymLike, b: SymLike): Sym;
export declare function ne(a: SymLike, b: SymLike): Sym;
