/**
 * Frame statistics for the editor: a bounded history of frames and
 * percentiles of their times.
 */

/** Percentile p (0..1) of numbers (nearest rank); NaN for none. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

/** Keeps the last `limit` frames ({energy, ms, ...}) for plotting, and counts all. */
export class FrameHistory {
  /** An empty history keeping at most limit frames. */
  constructor(limit = 200) {
    this.limit = limit;
    this.items = [];
    this.total = 0;
  }

  /** Appends a frame, dropping the oldest beyond the limit. */
  push(frame) {
    this.items.push(frame);
    this.total += 1;
    if (this.items.length > this.limit) this.items.shift();
  }

  /** {p50, p95} of the kept frames' times in ms. */
  times() {
    const ms = this.items.map((f) => f.ms);
    return { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95) };
  }

  /** Forgets every frame. */
  clear() {
    this.items = [];
    this.total = 0;
  }
}
