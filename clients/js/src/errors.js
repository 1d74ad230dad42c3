/**
 * Error codes of the locad protocol (protocol/SPEC.md, "Error codes"), plus
 * two client-side codes (negative, so they never clash with the daemon's).
 * @readonly
 * @enum {number}
 */
export const ErrorCode = Object.freeze({
  PARSE: 1,
  METHOD: 2,
  PARAMS: 3,
  NOTFOUND: 4,
  INVAL: 5,
  NOMEM: 6,
  BUSY: 7,
  CANCELED: 8,
  AUTH: 9,
  NUMERIC: 10,
  INTERNAL: 11,
  SHUTDOWN: 12,
  /** Client side: the connection failed or closed before the answer came. */
  CONNECTION: -1,
  /** Client side: the call's timeout expired. */
  TIMEOUT: -2,
});

const NAMES = new Map(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** An error answered by the daemon (code > 0) or raised by the client (code < 0). */
export class LocadError extends Error {
  /**
   * @param {number} code numeric error code (see {@link ErrorCode})
   * @param {string} message human-readable message
   * @param {{method?: string, cause?: unknown}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'LocadError';
    /** @type {number} */
    this.code = code;
    /** @type {string} symbolic name of the code, e.g. "NOTFOUND" */
    this.codeName = NAMES.get(code) ?? 'UNKNOWN';
    /** @type {string|undefined} the RPC method that failed */
    this.method = extra.method;
  }
}
