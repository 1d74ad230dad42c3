/**
 * The editor's frame loop: at most one solve request in flight. A frame asked
 * for while one is in flight replaces any earlier waiting one (the latest
 * wins) and is sent when the answer arrives, so frames never queue up.
 */

export class FrameLoop {
  /**
   * @param {(payload: any) => Promise<any>} send performs one request for a payload
   * @param {{onResult?: Function, onError?: Function, now?: () => number}} [hooks]
   *   onResult(payload, result, ms) after each answer; onError(err, payload) on failure
   */
  constructor(send, hooks = {}) {
    this.send = send;
    this.onResult = hooks.onResult ?? (() => {});
    this.onError = hooks.onError ?? (() => {});
    this.now = hooks.now ?? (() => performance.now());
    this.inFlight = false;
    this.waiting = undefined;
    this.hasWaiting = false;
    this.sent = 0;
    this.coalesced = 0;
    this.maxInFlight = 0;
    this.idleWaiters = [];
  }

  /** Asks for a frame: sent now when idle, else kept (replacing an older waiting one). */
  request(payload) {
    if (this.inFlight) {
      if (this.hasWaiting) this.coalesced += 1;
      this.waiting = payload;
      this.hasWaiting = true;
      return;
    }
    this.start(payload);
  }

  /** Sends one payload and chains the waiting one when the answer arrives. */
  start(payload) {
    this.inFlight = true;
    this.sent += 1;
    this.maxInFlight = Math.max(this.maxInFlight, 1);
    const t0 = this.now();
    Promise.resolve()
      .then(() => this.send(payload))
      .then((result) => this.onResult(payload, result, this.now() - t0),
        (err) => this.onError(err, payload))
      .finally(() => this.next());
  }

  /** After an answer: sends the waiting payload, or resolves idle() waiters. */
  next() {
    this.inFlight = false;
    if (this.hasWaiting) {
      const p = this.waiting;
      this.waiting = undefined;
      this.hasWaiting = false;
      this.start(p);
      return;
    }
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Drops a waiting payload (e.g. when the problem is replaced). */
  discardWaiting() {
    this.waiting = undefined;
    this.hasWaiting = false;
  }

  /** Resolves once nothing is in flight or waiting. */
  idle() {
    if (!this.inFlight && !this.hasWaiting) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
