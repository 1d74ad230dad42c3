/**
 * A small event emitter with the methods of node:events' EventEmitter that
 * the client uses (on, off, once, emit, listenerCount), so the client runs
 * in browsers as well as in Node.
 */
export class Emitter {
  constructor() {
    /** @type {Map<string, Function[]>} */
    this.listeners = new Map();
  }

  /** Adds a listener of event; returns this. @param {string} event @param {Function} fn */
  on(event, fn) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return this;
  }

  /** Removes one registration of fn (also one made with once); returns this. @param {string} event @param {Function} fn */
  off(event, fn) {
    const list = this.listeners.get(event) ?? [];
    const i = list.findIndex((f) => f === fn || f.listener === fn);
    if (i >= 0) this.listeners.set(event, [...list.slice(0, i), ...list.slice(i + 1)]);
    return this;
  }

  /** Adds a listener called at most once; returns this. @param {string} event @param {Function} fn */
  once(event, fn) {
    const wrapper = (...args) => {
      this.off(event, wrapper);
      fn.apply(this, args);
    };
    wrapper.listener = fn;
    return this.on(event, wrapper);
  }

  /** Calls the listeners of event in order; whether there were any. @param {string} event @param {...any} args */
  emit(event, ...args) {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const fn of list) fn.apply(this, args);
    return true;
  }

  /** How many listeners event has. @param {string} event */
  listenerCount(event) {
    return this.listeners.get(event)?.length ?? 0;
  }
}

Emitter.prototype.addListener = Emitter.prototype.on;
Emitter.prototype.removeListener = Emitter.prototype.off;
