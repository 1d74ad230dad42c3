/**
 * The two ways the client reaches a daemon, behind one small interface:
 *   WebSocketTransport  "ws://host:port/rpc" with globalThis.WebSocket
 *                       (browsers; Node >= 22, or Node 20 with
 *                       --experimental-websocket): one MessagePack-RPC
 *                       message per binary WebSocket message;
 *   StreamTransport     "host:port", "[v6]:port", "unix:/path" over node:net
 *                       (Node only; imported on first use, so a browser that
 *                       loads the client never touches a node: module), cut
 *                       into frames by FrameReader.
 * A transport reports to its sink: frame(bytes) for each complete message,
 * error(err) and, exactly once, close().  Writes made before the connection
 * is up are queued.
 */
import { FrameReader } from './framer.js';

const SUBPROTOCOL = 'locad-rpc';
const CONNECTING = 0;
const OPEN = 1;

/** Base: the queue of early writes, closing and the close waiters. */
class Transport {
  /** @param {{frame: Function, error: Function, close: Function}} sink */
  constructor(sink) {
    this.sink = sink;
    this.queue = [];
    this.destroyed = false; // no more writes: closing or closed
    this.closed = false;
    this.waiters = [];
  }

  /** Reports the end once; resolves close()'s promises. */
  finish() {
    if (this.closed) return;
    this.closed = true;
    this.destroyed = true;
    this.queue = [];
    this.sink.close();
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** Closes; resolves once closed. @returns {Promise<void>} */
  close() {
    if (this.closed) return Promise.resolve();
    const done = new Promise((resolve) => this.waiters.push(resolve));
    this.destroy();
    return done;
  }
}

/** MessagePack-RPC over a WebSocket: one message per binary message. */
export class WebSocketTransport extends Transport {
  /**
   * @param {string} url ws:// or wss:// URL of the daemon's /rpc
   * @param {{maxFrame?: number}} opts
   * @param {{frame: Function, error: Function, close: Function}} sink
   */
  constructor(url, opts, sink) {
    super(sink);
    this.maxFrame = opts.maxFrame ?? 2 ** 30;
    const WS = globalThis.WebSocket;
    if (typeof WS !== 'function') {
      const err = new Error('this runtime has no WebSocket (Node 20 needs --experimental-websocket; Node >= 22 has it)');
      this.ready = Promise.reject(err);
      queueMicrotask(() => this.finish());
      return;
    }
    this.ws = new WS(url, SUBPROTOCOL);
    this.ws.binaryType = 'arraybuffer';
    this.ready = new Promise((resolve, reject) => {
      this.ws.addEventListener('open', () => { this.flush(); resolve(); });
      this.ws.addEventListener('close', (ev) => reject(this.lastError ?? new Error(`closed (code ${ev.code})`)));
    });
    this.ws.addEventListener('message', (ev) => this.onMessage(ev.data));
    this.ws.addEventListener('error', (ev) => this.onError(ev));
    this.ws.addEventListener('close', (ev) => this.onClose(ev));
  }

  /** Sends one message (queued until the WebSocket is open). @param {Uint8Array} bytes */
  write(bytes) {
    if (this.destroyed) return;
    if (this.ws.readyState === CONNECTING) this.queue.push(bytes);
    else if (this.ws.readyState === OPEN) this.ws.send(bytes);
  }

  /** Sends the writes queued while connecting. */
  flush() {
    for (const bytes of this.queue.splice(0)) this.ws.send(bytes);
  }

  /** One message from the daemon: a binary message is one frame. */
  onMessage(data) {
    if (this.destroyed) return;
    if (typeof data === 'string') {
      this.destroy(new Error('daemon sent a text WebSocket message'));
      return;
    }
    const bytes = new Uint8Array(data);
    if (bytes.length > this.maxFrame) {
      this.destroy(new Error(`daemon sent a ${bytes.length}-byte message, over maxFrame ${this.maxFrame}`));
      return;
    }
    this.sink.frame(bytes);
  }

  /** A WebSocket error event (its details, when any, are in its message). */
  onError(ev) {
    this.lastError = new Error(ev?.message || ev?.error?.message || 'WebSocket error');
    this.sink.error(this.lastError);
  }

  /** The WebSocket closed: a close code other than a normal one is an error. */
  onClose(ev) {
    if (!this.lastError && ev.code !== 1000 && ev.code !== 1005 && !this.destroyed) {
      this.lastError = new Error(`WebSocket closed with code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''}`);
      this.sink.error(this.lastError);
    }
    this.finish();
  }

  /** Drops the connection (err, when given, is reported first). @param {Error} [err] */
  destroy(err) {
    if (this.destroyed) return;
    this.destroyed = true;
    if (err) this.sink.error(err);
    if (this.ws) this.ws.close();
    else this.finish();
  }
}

/** MessagePack-RPC over a TCP or Unix socket (node:net, Node only). */
export class StreamTransport extends Transport {
  /**
   * @param {{path: string} | {host: string, port: number}} target
   * @param {{maxFrame?: number}} opts
   * @param {{frame: Function, error: Function, close: Function}} sink
   */
  constructor(target, opts, sink) {
    super(sink);
    this.reader = new FrameReader({ maxFrame: opts.maxFrame });
    this.socket = null;
    this.ready = import('node:net').then(
      ({ default: net }) => this.open(net, target),
      (err) => {
        queueMicrotask(() => this.finish());
        throw new Error(`TCP and Unix sockets need Node (use a ws:// address in a browser): ${err.message}`);
      });
  }

  /** Creates the socket, sends the queued writes; resolves on 'connect'. */
  open(net, target) {
    if (this.destroyed) {
      queueMicrotask(() => this.finish());
      return Promise.reject(new Error('closed before the connection was made'));
    }
    const socket = net.createConnection(target);
    this.socket = socket;
    if ('port' in target) socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.sink.error(err));
    socket.on('close', () => this.finish());
    for (const bytes of this.queue.splice(0)) socket.write(bytes);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => { socket.off('error', reject); resolve(); });
      socket.once('error', reject);
    });
  }

  /** Sends bytes (queued until the socket exists). @param {Uint8Array} bytes */
  write(bytes) {
    if (this.destroyed) return;
    if (this.socket) this.socket.write(bytes);
    else this.queue.push(bytes);
  }

  /** Frames incoming bytes; a framing error drops the connection. */
  onData(chunk) {
    let frames;
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.destroy(err);
      return;
    }
    for (const frame of frames) {
      if (this.destroyed) return;
      this.sink.frame(frame);
    }
  }

  /** Drops the connection (err, when given, is reported). @param {Error} [err] */
  destroy(err) {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.socket) this.socket.destroy(err);
    else if (err) this.sink.error(err);
  }
}

/**
 * The transport for a parsed address (parseAddress).
 * @param {{url: string} | {path: string} | {host: string, port: number}} target
 * @param {{maxFrame?: number}} opts
 * @param {{frame: Function, error: Function, close: Function}} sink
 */
export function openTransport(target, opts, sink) {
  return 'url' in target ? new WebSocketTransport(target.url, opts, sink) : new StreamTransport(target, opts, sink);
}
