/**
 * PNG decoding for the web editor test (no dependencies): 8-bit RGB / RGBA,
 * non-interlaced, as Chromium's screenshots are; zlib from node:zlib.
 */
import { inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** Decodes a PNG buffer into {width, height, channels, pixels: Uint8Array}; throws on what it cannot read. */
export function decodePng(buf) {
  if (!buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG (bad signature)');
  const { ihdr, idat } = readChunks(buf);
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const [depth, colour, , , interlace] = ihdr.subarray(8, 13);
  const channels = { 2: 3, 6: 4 }[colour];
  if (depth !== 8 || !channels || interlace !== 0) {
    throw new Error(`unsupported PNG: bit depth ${depth}, colour type ${colour}, interlace ${interlace}`);
  }
  const raw = inflateSync(Buffer.concat(idat));
  return { width, height, channels, pixels: unfilter(raw, width, height, channels) };
}

/** The IHDR payload and the IDAT payloads of a PNG. */
function readChunks(buf) {
  let ihdr = null;
  const idat = [];
  for (let off = 8; off + 8 <= buf.length;) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') ihdr = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  if (!ihdr || idat.length === 0) throw new Error('PNG without IHDR or IDAT');
  return { ihdr, idat };
}

/** Reverses the per-row filters (None, Sub, Up, Average, Paeth). */
function unfilter(raw, width, height, bpp) {
  const stride = width * bpp;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[row + x - bpp] : 0;
      const b = y > 0 ? out[row - stride + x] : 0;
      const c = x >= bpp && y > 0 ? out[row - stride + x - bpp] : 0;
      out[row + x] = (src[x] + predict(type, a, b, c)) & 255;
    }
  }
  return out;
}

/** The predictor of filter type t from left a, up b, upper-left c. */
function predict(t, a, b, c) {
  if (t === 0) return 0;
  if (t === 1) return a;
  if (t === 2) return b;
  if (t === 3) return (a + b) >> 1;
  if (t === 4) {
    const p = a + b - c;
    const pa = Math.abs(p - a);
    const pb = Math.abs(p - b);
    const pc = Math.abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
  }
  throw new Error(`PNG: unknown filter type ${t}`);
}

/** Luminance variance and the number of distinct colours of a decoded image (optionally a sub-rectangle). */
export function imageStats(img, rect = { x: 0, y: 0, w: img.width, h: img.height }) {
  let sum = 0;
  let sum2 = 0;
  const colours = new Set();
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    for (let x = rect.x; x < rect.x + rect.w; x++) {
      const i = (y * img.width + x) * img.channels;
      const [r, g, b] = [img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]];
      const l = 0.299 * r + 0.587 * g + 0.114 * b;
      sum += l;
      sum2 += l * l;
      if (colours.size < 4096) colours.add((r << 16) | (g << 8) | b);
    }
  }
  const n = rect.w * rect.h;
  return { mean: sum / n, variance: sum2 / n - (sum / n) ** 2, colours: colours.size };
}
