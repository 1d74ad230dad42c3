/**
 * The UV view: a 2D canvas drawing a UV layout's triangles (flipped ones in
 * red), fitted to the canvas, or a message when there is no layout.
 */
import { bbox, uvArea } from './topology.js';

/** Draws the triangles F (flat [nf*3]) of uv (flat [nv*2]) on canvas. */
export function drawUV(canvas, uv, F) {
  const ctx = canvas.getContext('2d');
  clear(ctx, canvas);
  const b = bbox(uv, 2);
  const s = 0.92 * Math.min(canvas.width / (b.max[0] - b.min[0] || 1), canvas.height / (b.max[1] - b.min[1] || 1));
  const ox = canvas.width / 2 - (s * (b.min[0] + b.max[0])) / 2;
  const oy = canvas.height / 2 + (s * (b.min[1] + b.max[1])) / 2;
  const X = (i) => ox + s * uv[2 * i];
  const Y = (i) => oy - s * uv[2 * i + 1];
  ctx.lineWidth = 0.5;
  for (const flipped of [false, true]) {
    ctx.strokeStyle = flipped ? '#ff4040' : '#8fc0ff';
    ctx.beginPath();
    for (let t = 0; t < F.length / 3; t++) {
      if ((uvArea(uv, F, t) <= 0) !== flipped) continue;
      const [a, c, d] = [F[3 * t], F[3 * t + 1], F[3 * t + 2]];
      ctx.moveTo(X(a), Y(a));
      ctx.lineTo(X(c), Y(c));
      ctx.lineTo(X(d), Y(d));
      ctx.closePath();
    }
    ctx.stroke();
  }
}

/** Shows a message instead of a layout. */
export function drawUVMessage(canvas, text) {
  const ctx = canvas.getContext('2d');
  clear(ctx, canvas);
  ctx.fillStyle = '#c0c4cc';
  ctx.font = '13px sans-serif';
  wrap(ctx, text, 10, 22, canvas.width - 20, 17);
}

/** Fills the canvas with the background. */
function clear(ctx, canvas) {
  ctx.fillStyle = '#15181d';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

/** Writes text word-wrapped to maxWidth starting at (x, y). */
function wrap(ctx, text, x, y, maxWidth, lineHeight) {
  let line = '';
  for (const word of text.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (ctx.measureText(next).width > maxWidth && line) {
      ctx.fillText(line, x, y);
      line = word;
      y += lineHeight;
    } else line = next;
  }
  ctx.fillText(line, x, y);
}
