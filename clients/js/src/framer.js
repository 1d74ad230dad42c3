/**
 * Incremental framing of a MessagePack byte stream: finds where each complete
 * top-level object ends without decoding it, so a large frame is copied once
 * and decoded once (not re-parsed on every chunk). Scanning is resumable: the
 * position and the stack of remaining container items survive between chunks.
 */

const MAX_DEPTH = 64;

/** Thrown on bytes that can never start a valid MessagePack object. */
export class FramingError extends Error {}

/**
 * Size of the item header at `p` and the extra payload bytes / child items it
 * announces, or {need} (header bytes) when the header is not complete yet.
 * @param {Uint8Array} b
 * @param {DataView} v
 * @param {number} p
 * @param {number} end
 * @returns {{head: number, payload: number, children: number} | {need: number}}
 */
function header(b, v, p, end) {
  const t = b[p];
  const avail = end - p;
  const fixed = (head, payload = 0, children = 0) => ({ head, payload, children });
  const sized = (n, f) => (avail < 1 + n ? { need: 1 + n } : f(n));
  if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return fixed(1);
  if (t >= 0x80 && t <= 0x8f) return fixed(1, 0, 2 * (t & 0x0f));
  if (t >= 0x90 && t <= 0x9f) return fixed(1, 0, t & 0x0f);
  if (t >= 0xa0 && t <= 0xbf) return fixed(1, t & 0x1f);
  switch (t) {
    case 0xc4: case 0xd9: return sized(1, () => fixed(2, b[p + 1]));
    case 0xc5: case 0xda: return sized(2, () => fixed(3, v.getUint16(p + 1)));
    case 0xc6: case 0xdb: return sized(4, () => fixed(5, v.getUint32(p + 1)));
    case 0xc7: return sized(2, () => fixed(3, b[p + 1]));
    case 0xc8: return sized(3, () => fixed(4, v.getUint16(p + 1)));
    case 0xc9: return sized(5, () => fixed(6, v.getUint32(p + 1)));
    case 0xca: case 0xce: case 0xd2: return fixed(5);
    case 0xcb: case 0xcf: case 0xd3: return fixed(9);
    case 0xcc: case 0xd0: return fixed(2);
    case 0xcd: case 0xd1: return fixed(3);
    case 0xd4: return fixed(3);
    case 0xd5: return fixed(4);
    case 0xd6: return fixed(6);
    case 0xd7: return fixed(10);
    case 0xd8: return fixed(18);
    case 0xdc: return sized(2, () => fixed(3, 0, v.getUint16(p + 1)));
    case 0xdd: return sized(4, () => fixed(5, 0, v.getUint32(p + 1)));
    case 0xde: return sized(2, () => fixed(3, 0, 2 * v.getUint16(p + 1)));
    case 0xdf: return sized(4, () => fixed(5, 0, 2 * v.getUint32(p + 1)));
    default: throw new FramingError(`invalid MessagePack type byte 0x${t.toString(16)}`);
  }
}

/** Splits a byte stream into complete MessagePack frames. */
export class FrameReader {
  /** @param {{maxFrame?: number}} [opts] largest frame accepted (default 1 GiB) */
  constructor(opts = {}) {
    this.maxFrame = opts.maxFrame ?? 2 ** 30;
    this.buf = new Uint8Array(64 * 1024);
    this.view = new DataView(this.buf.buffer);
    this.start = 0; // first byte of the current frame
    this.end = 0; // end of buffered data
    this.pos = 0; // scan position (absolute)
    this.stack = [1]; // items left per open container; [1] = the frame itself
    this.need = 0; // bytes (from start) needed before scanning can progress
  }

  /**
   * Appends a chunk and returns the frames it completes, each a Uint8Array
   * that owns its bytes (never overwritten later, so decoded views stay valid).
   * @param {Uint8Array} chunk
   * @returns {Uint8Array[]}
   */
  push(chunk) {
    this.append(chunk);
    const frames = [];
    for (;;) {
      if (this.end - this.start < this.need) break;
      const len = this.scan();
      if (len < 0) break;
      frames.push(this.take(len));
    }
    return frames;
  }

  /** Copies chunk after the buffered bytes, compacting or growing the buffer. */
  append(chunk) {
    if (this.end + chunk.length > this.buf.length) {
      const want = Math.max(this.end - this.start + chunk.length, this.need);
      if (want <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
        this.rebase(this.buf);
      } else {
        const nb = new Uint8Array(Math.max(want, 2 * this.buf.length));
        nb.set(this.buf.subarray(this.start, this.end));
        this.rebase(nb);
      }
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Moves the current frame to offset 0 of buffer nb. */
  rebase(nb) {
    const shift = this.start;
    this.buf = nb;
    this.view = new DataView(nb.buffer, nb.byteOffset, nb.byteLength);
    this.end -= shift;
    this.pos -= shift;
    this.start = 0;
  }

  /**
   * Advances the scan; the frame length when complete, else -1 (and sets need).
   * @returns {number}
   */
  scan() {
    const { buf, view, stack } = this;
    while (stack.length > 0) {
      if (this.pos >= this.end) return this.wait(this.pos + 1);
      const h = header(buf, view, this.pos, this.end);
      if (h.need !== undefined) return this.wait(this.pos + h.need);
      const size = h.head + h.payload;
      if (this.pos + size > this.end) return this.wait(this.pos + size);
      if (this.pos + size - this.start > this.maxFrame) {
        throw new FramingError(`frame larger than ${this.maxFrame} bytes`);
      }
      this.pos += size;
      stack[stack.length - 1]--;
      if (h.children > 0) {
        if (stack.length >= MAX_DEPTH) throw new FramingError('frame nested too deeply');
        stack.push(h.children);
      }
      while (stack.length > 0 && stack[stack.length - 1] === 0) stack.pop();
    }
    return this.pos - this.start;
  }

  /** Records that scanning needs the buffer to reach absolute offset `abs`. */
  wait(abs) {
    this.need = abs - this.start;
    if (this.need > this.maxFrame) throw new FramingError(`frame larger than ${this.maxFrame} bytes`);
    return -1;
  }

  /**
   * Detaches the complete frame of `len` bytes at start. Small frames are
   * copied out; a large one keeps the buffer, and the rest moves to a new one.
   */
  take(len) {
    let frame;
    if (len < 256 * 1024) {
      frame = this.buf.slice(this.start, this.start + len);
      this.start += len;
      if (this.start === this.end) this.start = this.end = 0;
    } else {
      frame = this.buf.subarray(this.start, this.start + len);
      const rest = this.buf.subarray(this.start + len, this.end);
      const nb = new Uint8Array(Math.max(64 * 1024, rest.length));
      nb.set(rest);
      this.buf = nb;
      this.view = new DataView(nb.buffer);
      this.start = 0;
      this.end = rest.length;
    }
    this.pos = this.start;
    this.stack = [1];
    this.need = 0;
    return frame;
  }
}
