/**
 * The frame plot: energy (log scale, orange) and frame time (ms, blue) of the
 * last frames on a small canvas, with p50 / p95 frame times as text.
 */

/** Draws frames ({energy, ms}) on canvas; writes "p50 … p95 …" into label. */
export function drawPlot(canvas, frames, times, label) {
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  ctx.fillStyle = '#15181d';
  ctx.fillRect(0, 0, w, h);
  label.textContent = frames.length
    ? `frames ${frames.length}  p50 ${times.p50.toFixed(1)} ms  p95 ${times.p95.toFixed(1)} ms  E ${frames.at(-1).energy.toExponential(3)}`
    : 'no frames yet';
  if (frames.length < 2) return;
  const logE = frames.map((f) => Math.log10(Math.max(f.energy, 1e-300)));
  drawSeries(ctx, logE, w, h, '#f0a040');
  drawSeries(ctx, frames.map((f) => f.ms), w, h, '#50a0ff', 0);
}

/** One polyline of values scaled to the canvas (min..max, or floor..max). */
function drawSeries(ctx, values, w, h, colour, floor) {
  const lo = floor ?? Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = (i / (values.length - 1)) * (w - 4) + 2;
    const y = h - 2 - ((v - lo) / span) * (h - 4);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
}
